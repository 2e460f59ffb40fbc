"""``catalogue``: validate, list, show, schema, diff and coverage of the requirement catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bench.cli.common import (
    bench_catalogue,
    catalogue_app,
    console,
    out,
)
from bench.paths import content_root


@catalogue_app.command("validate")
def catalogue_validate() -> None:
    """Validate requirements and scenarios; print every defect as file:line."""
    catalogue = bench_catalogue()
    out.print(
        f"Catalogue {catalogue.header.catalogue_version} valide : {len(catalogue.requirements)} exigences, "
        f"{len(catalogue.scenarios)} scénarios, {len(catalogue.profiles)} profils ({content_root()})"
    )


@catalogue_app.command("list")
def catalogue_list(profile: Annotated[str | None, typer.Option(help="Seulement ce profil")] = None) -> None:
    """List requirements (and scenarios)."""
    catalogue = bench_catalogue()
    table = Table()
    for column in ("Id", "N° ANS", "Section", "Titre", "Preuve", "Vérifications"):
        table.add_column(column)
    for requirement in catalogue.requirements.values():
        if profile and not catalogue.applies(requirement, profile):
            continue
        table.add_row(
            requirement.id,
            ", ".join(requirement.official_ids),
            requirement.section,
            requirement.title,
            requirement.proof.nature,
            ", ".join(requirement.checks),
        )
    out.print(table)
    for scenario in catalogue.scenarios.values():
        if profile and scenario not in catalogue.scenarios_for(profile):
            continue
        out.print(f"{scenario.id}  {scenario.title}  [{', '.join(scenario.requirements)}]")


@catalogue_app.command("show")
def catalogue_show(item_id: Annotated[str, typer.Argument(help="Id d'exigence ou de scénario")]) -> None:
    """Show one requirement or scenario in full."""
    catalogue = bench_catalogue()
    item = catalogue.requirements.get(item_id) or catalogue.scenarios.get(item_id)
    if item is None:
        console.print(f"[red]{item_id} inconnu[/red]")
        raise typer.Exit(2)
    out.print(f"# {catalogue.locations[item_id]}")
    out.print_json(item.model_dump_json())


@catalogue_app.command("schema")
def catalogue_schema(
    kind: Annotated[str, typer.Argument(help="requirements ou scenario")] = "requirements",
) -> None:
    """Print the JSON Schema of a requirements file or a scenario file, for editors."""
    from pydantic import BaseModel

    from bench.catalogue.loader import scenario_json_schema
    from bench.catalogue.models import RequirementFile, Scenario

    models: dict[str, type[BaseModel]] = {"requirements": RequirementFile, "scenario": Scenario}
    model = models.get(kind)
    if model is None:
        console.print("[red]requirements ou scenario[/red]")
        raise typer.Exit(2)
    schema = scenario_json_schema() if model is Scenario else model.model_json_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False))


@catalogue_app.command("diff")
def catalogue_diff(
    old: Annotated[Path, typer.Argument(help="Ancien catalogue (dossier racine ou requirements/)")],
    new: Annotated[
        Path | None, typer.Argument(help="Nouveau catalogue (dossier racine ou requirements/) ; absent avec --grid")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="text ou json")] = "text",
    grid: Annotated[
        Path | None, typer.Option("--grid", help="Export CSV de la grille ANS (prepub_va2_avec_scenarios) à comparer")
    ] = None,
    rem: Annotated[str, typer.Option("--rem", help="REM de la grille comparé (LGC, BIO, RIS, DB, DPI, PFI)")] = "LGC",
) -> None:
    """What a new catalogue release changes: requirements added, removed, reworded, renumbered, and other fields.
    With --grid, the catalogue OLD against an ANS grid export instead: approved rows carried, left out (and why),
    missing; official ids the grid only knows as obsolete. Exit 1 when an approved row is missing."""
    from bench.catalogue.diff import diff_catalogues
    from bench.catalogue.loader import CatalogueError

    if grid is not None:
        _grid_diff(old, grid, rem, output_format)
        return
    if new is None:
        console.print("[red]deux catalogues à comparer, ou --grid EXPORT.csv[/red]")
        raise typer.Exit(2)
    try:
        changes = diff_catalogues(old, new)
    except CatalogueError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    if output_format == "json":
        print(
            json.dumps(
                {
                    "old_version": changes.old_version,
                    "new_version": changes.new_version,
                    "added": [r.id for r in changes.added],
                    "removed": [r.id for r in changes.removed],
                    "reworded": [a.id for a, _b in changes.reworded],
                    "renumbered": [{"old": a.id, "new": b.id} for a, b in changes.renumbered],
                    "changed": {identifier: fields for identifier, fields in changes.changed},
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    out.print(f"Catalogue {changes.old_version} → {changes.new_version}", soft_wrap=True)
    if changes.empty:
        out.print("aucun changement d'exigence")
    for requirement in changes.added:
        out.print(f"+ ajoutée      {requirement.id} {requirement.title}", soft_wrap=True)
    for requirement in changes.removed:
        out.print(f"- retirée      {requirement.id} {requirement.title}", soft_wrap=True)
    for before, after in changes.renumbered:
        out.print(f"~ renumérotée  {before.id} → {after.id} {after.title}", soft_wrap=True)
    for before, after in changes.reworded:
        out.print(f"~ reformulée   {after.id} : « {before.statement} » → « {after.statement} »", soft_wrap=True)
    for identifier, fields in changes.changed:
        out.print(f"~ modifiée     {identifier} : {', '.join(fields)}", soft_wrap=True)


@catalogue_app.command("coverage")
def catalogue_coverage() -> None:
    """Per profile: how many requirements are automated, attested, documentary, or not yet covered."""
    catalogue = bench_catalogue()
    for profile in catalogue.profiles:
        applicable = [r for r in catalogue.requirements.values() if catalogue.applies(r, profile)]
        # A requirement is automated by its checks, or by a scenario expectation (an exchange that must, or must
        # not, reach a simulator) in a scenario of the profile.
        expected = {e.requirement for sc in catalogue.scenarios_for(profile) for step in sc.steps for e in step.expect}
        judged = {r.id for r in applicable if r.checks or r.id in expected}
        missing = [r.id for r in applicable if r.proof.nature == "automated" and r.id not in judged]
        automated = len(judged)
        operator = sum(1 for r in applicable if r.proof.nature == "operator")
        document = sum(1 for r in applicable if r.proof.nature == "document")
        out.print(
            f"{profile} : {len(applicable)} exigences — {automated} automatisée(s), {operator} par attestation, "
            f"{document} documentaire(s), {len(missing)} à couvrir",
            soft_wrap=True,
        )
        if missing:
            out.print(f"  à couvrir : {', '.join(missing)}", soft_wrap=True)


@catalogue_app.command("actions")
def catalogue_actions(
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """List the actions a scenario step may name: domain, who performs it, parameters with their allowed values."""
    from bench.actions.registry import all_actions, allowed_values

    rows: list[dict[str, Any]] = []
    for spec in sorted(all_actions().values(), key=lambda a: (a.domain, a.name)):
        params: dict[str, dict[str, Any]] = {}
        for name, info in spec.params.model_fields.items():
            allowed = [str(v) for v in allowed_values(spec.params, name)]
            params[name] = {"default": info.default if info.default is not None else None, "allowed": allowed}
        rows.append(
            {
                "action": spec.name,
                "domain": spec.domain,
                "by": spec.by,
                "patient": spec.needs_patient,
                "causes": list(spec.causes),
                "description": spec.description,
                "params": params,
            }
        )
    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table()
    for column in ("Action", "Domaine", "Par", "Patient", "Paramètres", "Description"):
        table.add_column(column)
    for row in rows:
        shown = "; ".join(
            f"{name}={'|'.join(p['allowed']) if p['allowed'] else '…'}" for name, p in row["params"].items()
        )
        by = "banc" if row["by"] == "bench" else "candidat"
        table.add_row(row["action"], row["domain"], by, "oui" if row["patient"] else "non", shown, row["description"])
    out.print(table)


@catalogue_app.command("domains")
def catalogue_domains() -> None:
    """List the registered domains: requirement prefixes, channels, simulator ports."""
    from bench.domains import registry

    table = Table()
    for column in ("Domaine", "Libellé", "Exigences", "Canaux", "Ports"):
        table.add_column(column)
    for domain in registry.load().values():
        channels = ", ".join(f"{c.name} ({c.kind}{', non reconnu' if c.untrusted else ''})" for c in domain.channels)
        table.add_row(
            domain.name,
            domain.label,
            ", ".join(domain.requirement_prefixes),
            channels or "—",
            ", ".join(p.name for p in domain.ports) or "—",
        )
    out.print(table)


def _grid_diff(root: Path, grid_path: Path, rem: str, output_format: str) -> None:
    """``catalogue diff ROOT --grid EXPORT.csv``: the catalogue against ANS's grid for one REM."""
    from bench.catalogue.ans_grid import (
        GridError,
        left_out_rows,
        obsolete_kept_because,
        profiles_following,
        read_grid,
        reconcile,
    )
    from bench.catalogue.diff import load_requirements
    from bench.catalogue.loader import CatalogueError

    folder = root / "requirements" if (root / "requirements").is_dir() else root
    try:
        _version, requirements = load_requirements(root)
        profiles = profiles_following(folder, rem) or None  # a REM no profile follows: the whole catalogue
        result = reconcile(read_grid(grid_path), requirements.values(), rem, left_out_rows(folder, rem), profiles)
    except CatalogueError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    except GridError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    if output_format == "json":
        print(
            json.dumps(
                {
                    "rem": rem,
                    "profiles": profiles or [],
                    "carried": {row.reference: ids for row, ids in result.carried},
                    "left_out": {row.reference: reason for row, reason in result.left_out},
                    "missing": [row.reference for row in result.missing],
                    "obsolete": [{"requirement": r, "official_id": o} for r, o in result.obsolete],
                    "obsolete_kept_because": obsolete_kept_because(folder),
                    "stale_reasons": result.stale_reasons,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        approved = len(result.carried) + len(result.left_out) + len(result.missing)
        out.print(
            f"Grille ANS {grid_path.name}, REM {rem}"
            + (f" (profils {', '.join(profiles)})" if profiles else " (aucun profil ne la suit : tout le catalogue)")
            + f" : {approved} exigences approuvées — "
            f"{len(result.carried)} portées, "
            f"{len(result.left_out)} écartées (raison donnée), {len(result.missing)} manquantes",
            soft_wrap=True,
        )
        for row in result.missing:
            out.print(f"+ manquante    {row.reference} (ligne {row.line}) {row.statement[:100]}", soft_wrap=True)
        for row, reason in result.left_out:
            out.print(f"· écartée      {row.reference} : {reason}", soft_wrap=True)
        for reference in result.stale_reasons:
            out.print(f"! raison inutile : {reference} est portée par le catalogue", soft_wrap=True)
        kept = obsolete_kept_because(folder)
        if result.obsolete and kept:
            count = len(result.obsolete)
            out.print(f"{count} identifiants marqués obsolètes par la grille, gardés : {kept}", soft_wrap=True)
        for requirement, official in result.obsolete:
            out.print(f"~ obsolète     {requirement} porte {official}, que la grille marque obsolète", soft_wrap=True)
    if result.missing:
        raise typer.Exit(1)
