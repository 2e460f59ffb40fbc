"""``packs``: the CI-SIS validation packs (list, add, fetch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.cli.common import (
    console,
    out,
    packs_app,
)


@packs_app.command("list")
def packs_list() -> None:
    """Packs the bench finds: $SEGUR_BENCH_PACKS, then the per-user store."""
    from bench.validation.packs import find_packs

    found = find_packs()
    if not found:
        out.print("aucun paquet : segur-bench packs add DOSSIER, ou packs fetch URL --sha256 EMPREINTE", soft_wrap=True)
    for found_pack in found:
        parts = [
            label
            for label, present in (
                ("XSD CDA", found_pack.has_cda_schema()),
                ("schématrons", found_pack.schematron_dir() is not None),
            )
            if present
        ]
        out.print(f"{found_pack.name} : {found_pack.root} ({', '.join(parts) or 'jeux de valeurs'})", soft_wrap=True)


@packs_app.command("add")
def packs_add(
    source: Annotated[Path, typer.Argument(help="Dossier du paquet (tel que publié par ANS)")],
    name: Annotated[str | None, typer.Option(help="Nom dans le magasin")] = None,
) -> None:
    """Copy a pack folder into the per-user store."""
    from bench.validation.store import PackError, add_folder

    try:
        added = add_folder(source, name)
    except PackError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    out.print(f"paquet {added.name} ajouté : {added.root}", soft_wrap=True)


@packs_app.command("fetch")
def packs_fetch(
    url: Annotated[str, typer.Argument(help="URL d'une archive de publication (.zip, .tar.gz)")],
    sha256: Annotated[str, typer.Option(help="Empreinte SHA-256 attendue de l'archive")],
    name: Annotated[str, typer.Option(help="Nom dans le magasin")],
) -> None:
    """Download a release archive, check its digest and unpack it safely into the per-user store."""
    from bench.validation.store import PackError, fetch

    try:
        fetched = fetch(url, sha256, name)
    except PackError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    out.print(f"paquet {fetched.name} installé : {fetched.root}", soft_wrap=True)
