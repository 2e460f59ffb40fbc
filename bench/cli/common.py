"""The command line's shared parts: the typer applications, consoles, and loading the catalogue, PKI and settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bench.exit_codes import EXIT_BENCH_ERROR
from bench.paths import content_root, state_dir

# Heavy modules (pydantic models, the simulators, signxml...) are imported by the commands that use them, so that
# `segur-bench --help` and small commands start fast.
if TYPE_CHECKING:
    from bench.catalogue.loader import Catalogue
    from bench.config import BenchConfig
    from simulators.common.pki import BenchPki

app = typer.Typer(
    help="segur-bench : banc de conformité Ségur vague 2 (INSi, DMP, MSSanté, CDA).", no_args_is_help=True
)
catalogue_app = typer.Typer(help="Le catalogue des exigences et des scénarios.", no_args_is_help=True)
pki_app = typer.Typer(help="La PKI de test du banc.", no_args_is_help=True)
packs_app = typer.Typer(
    help="Les paquets de validation CI-SIS (XSD, schématrons, jeux de valeurs).", no_args_is_help=True
)


@app.callback()
def _root(
    ctx: typer.Context,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Langue de l'aide : fr ou en (défaut : la locale, sinon fr)")
    ] = None,
) -> None:
    """segur-bench : banc de conformité Ségur vague 2 (INSi, DMP, MSSanté, CDA)."""
    # The language was read from the command line before parsing (bench.cli.language); here it is only checked.
    if lang is not None and lang not in ("fr", "en"):
        ctx.fail(f"--lang {lang!r} : fr ou en")


app.add_typer(catalogue_app, name="catalogue")
app.add_typer(pki_app, name="pki")
app.add_typer(packs_app, name="packs")
# emoji=False: a "file:100:" location must never turn into an emoji.
console = Console(stderr=True, emoji=False)
out = Console(emoji=False)

VERDICT_STYLE = {
    "conforme": "green",
    "non_conforme": "red",
    "non_teste": "dim",
    "non_applicable": "dim",
    "erreur": "yellow",
}
VERDICT_LABEL = {
    "conforme": "Conforme",
    "non_conforme": "Non conforme",
    "non_teste": "Non testé",
    "non_applicable": "Non applicable",
    "erreur": "Erreur du banc",
}


def bench_catalogue() -> Catalogue:
    from bench.catalogue.loader import CatalogueError, load_catalogue
    from simulators.insi.identities import load_identities

    identities = load_identities()
    known = {p.id for p in identities.persons}
    try:
        return load_catalogue(
            content_root(),
            validate_fixture=lambda ident: None if ident in known else f"identité INSi inconnue {ident!r}",
        )
    except CatalogueError as exc:
        for problem in exc.problems:
            console.print(problem, markup=False, highlight=False)
        console.print(f"[red]{len(exc.problems)} défaut(s) dans le catalogue[/red]")
        raise typer.Exit(EXIT_BENCH_ERROR) from exc


def bench_pki() -> BenchPki:
    from simulators.common.pki import ensure_pki

    return ensure_pki(state_dir() / "pki")


RUN_FILE = "run.json"


def settings_from(path: Path | None) -> BenchConfig:
    from bench.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            console.print(problem, markup=False, highlight=False)
        raise typer.Exit(2) from exc
