"""``run`` and ``resume``: a campaign against a candidate, with progress and a one-screen summary."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bench.cli.common import (
    RUN_FILE,
    VERDICT_STYLE,
    app,
    bench_catalogue,
    bench_pki,
    console,
    out,
    settings_from,
)
from bench.exit_codes import EXIT_BENCH_ERROR

if TYPE_CHECKING:
    from bench.catalogue.ans_grid import Grid
    from bench.catalogue.loader import Catalogue
    from bench.config import BenchConfig
    from bench.runner.engine import Campaign
    from bench.runner.results import RunResult
    from bench.validation.packs import ValidationPack


@app.command()
def run(
    candidate: Annotated[
        str | None, typer.Option(help="Candidat : reference, http-hook, command ou operator (défaut : configuration)")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Profil de référencement")] = None,
    scenario: Annotated[list[str] | None, typer.Option(help="Limiter à ces scénarios (répétable)")] = None,
    defect: Annotated[list[str] | None, typer.Option(help="Défaut du candidat de référence (répétable)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Dossier des campagnes")] = None,
    lang: Annotated[str | None, typer.Option(help="Langue du rapport HTML : fr ou en")] = None,
    pack: Annotated[Path | None, typer.Option(help="Paquet de validation CI-SIS pour les vérifications CDA")] = None,
    ans_grid: Annotated[
        Path | None, typer.Option(help="Export CSV de la grille ANS : ses scénarios et preuves dans le rapport")
    ] = None,
    hook_url: Annotated[str | None, typer.Option(help="http-hook : URL du service du candidat")] = None,
    config: Annotated[Path | None, typer.Option(help="Fichier de configuration (défaut : ./segur-bench.yaml)")] = None,
) -> None:
    """Run a campaign and write its reports. Exit 0 all good, 1 a requirement is Non conforme, 3 bench error,
    130 interrupted (resume it with `segur-bench resume RUN`)."""
    from pydantic import ValidationError

    from bench.config import BenchConfig
    from bench.runner.ids import new_run_id

    settings = settings_from(config)
    if candidate:
        settings.candidate.kind = candidate  # type: ignore[assignment]  # validated just below
    if defect:
        settings.candidate.defects = list(defect)
    if hook_url:
        settings.candidate.hook_url = hook_url
    settings.profile = profile or settings.profile
    settings.out = out_dir or settings.out
    settings.lang = lang or settings.lang  # type: ignore[assignment]
    chosen_pack = pack or settings.pack
    settings.pack = chosen_pack.resolve() if chosen_pack else None  # absolute: the run resumes from anywhere
    chosen_grid = ans_grid or settings.ans_grid
    settings.ans_grid = chosen_grid.resolve() if chosen_grid else None
    if settings.candidate.kind != "reference":
        # A person or a vendor's machine configures the software once: the same ports for the whole campaign,
        # resume included (the reference candidate is told its endpoints at every start).
        from bench.runner.ports import fixed_ports

        settings.simulators.ports = fixed_ports(settings.simulators.host, dict(settings.simulators.ports))
    try:
        settings = BenchConfig.model_validate(settings.model_dump())
    except ValidationError as exc:
        console.print(f"[red]réglage invalide : {exc.errors()[0]['loc']} : {exc.errors()[0]['msg']}[/red]")
        raise typer.Exit(2) from exc
    run_dir = settings.out / new_run_id()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RUN_FILE).write_text(
        json.dumps({"config": settings.model_dump(mode="json"), "scenarios": list(scenario or [])}, indent=2),
        encoding="utf-8",
    )
    _run_campaign(settings, list(scenario or []), run_dir, {})


@app.command()
def resume(run_dir: Annotated[Path, typer.Argument(help="Dossier de la campagne interrompue")]) -> None:
    """Continue an interrupted campaign: completed scenarios are kept, the rest run, the reports cover everything."""
    from pydantic import ValidationError

    from bench.config import BenchConfig
    from bench.runner.engine import PROGRESS_DIR
    from bench.runner.results import ScenarioResult

    try:
        saved = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        settings = BenchConfig.model_validate(saved["config"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, ValidationError) as exc:
        console.print(f"[red]{run_dir} n'est pas une campagne reprenable : {exc}[/red]")
        raise typer.Exit(2) from exc
    completed = {}
    for path in sorted((run_dir / PROGRESS_DIR).glob("*.json")):
        result = ScenarioResult.model_validate_json(path.read_text(encoding="utf-8"))
        completed[result.id] = result
    console.print(f"reprise de {run_dir} : {len(completed)} scénario(s) déjà joué(s)")
    saved.setdefault("interruptions", [{}])[-1]["resumed"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (run_dir / RUN_FILE).write_text(json.dumps(saved, indent=2), encoding="utf-8")
    _run_campaign(settings, list(saved.get("scenarios", [])), run_dir, completed)


def _run_campaign(settings: BenchConfig, scenario_ids: list[str], run_dir: Path, completed: dict[str, Any]) -> None:
    from bench.candidates.base import AdapterError
    from bench.candidates.factory import make_adapter
    from bench.candidates.reference import DEFECTS
    from bench.privacy import mask_identifiers
    from bench.runner.engine import Campaign, CampaignOptions
    from bench.validation.packs import find_packs
    from reports.render import write_reports

    catalogue = bench_catalogue()
    if settings.profile not in catalogue.profiles:
        console.print(f"[red]profil inconnu : {settings.profile}[/red] (connus : {', '.join(catalogue.profiles)})")
        raise typer.Exit(2)
    packs = find_packs([settings.pack] if settings.pack else [])
    if settings.pack and (not packs or packs[0].root != settings.pack.resolve()):
        console.print(f"[red]{settings.pack} n'est pas un paquet de validation CI-SIS[/red]")
        raise typer.Exit(2)
    grid = _ans_grid(settings.ans_grid)
    try:
        adapter = make_adapter(settings.candidate)
    except AdapterError as exc:
        console.print(f"[red]{exc}[/red] (défauts connus : {', '.join(DEFECTS)})")
        raise typer.Exit(2) from exc
    options = CampaignOptions(
        profile=settings.profile,
        scenario_ids=scenario_ids,
        defects=settings.candidate.defects,
        timeout_factor=settings.timeout_factor,
        pack=packs[0] if packs else None,
        host=settings.simulators.host,
        ports=dict(settings.simulators.ports),
        strict_tls=list(settings.simulators.strict_tls),
    )
    interactive = settings.candidate.kind == "operator"
    if not packs:
        console.print(
            "[yellow]aucun paquet de validation CI-SIS (--pack, $SEGUR_BENCH_PACKS ou segur-bench packs) : le schéma "
            "CDA et les schématrons des volets ne seront pas appliqués, leurs exigences resteront non testées[/yellow]",
            soft_wrap=True,
        )
    campaign: Campaign | None = None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=interactive,
    ) as progress:
        task = progress.add_task("campagne", total=None)

        def report_progress(label: str, done: int, total: int) -> None:
            progress.update(task, description=f"scénario {label}" if label else "fini", completed=done, total=total)
            if not console.is_terminal and not interactive:  # CI logs: a line per scenario, as it goes
                console.print(f"[{done}/{total}] {('scénario ' + label) if label else 'campagne terminée'}")

        try:
            campaign = Campaign(catalogue, adapter, options, run_dir, bench_pki(), report_progress, completed=completed)
            result = campaign.run()
        except (RuntimeError, ValueError) as exc:
            console.print(f"[red]campagne interrompue : {exc}[/red]")
            raise typer.Exit(EXIT_BENCH_ERROR) from exc
        except KeyboardInterrupt:
            # The simulators are stopped and the journal closed by then: every exchange seen is on disk.
            done = len(campaign.completed) if campaign else 0
            _note_interruption(run_dir)
            console.print(
                f"[yellow]campagne interrompue ({done} scénario(s) terminés) ; preuves conservées dans "
                f"{run_dir}. Reprendre avec : segur-bench resume {run_dir}[/yellow]",
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    _traceability(result, settings, options.pack)
    if grid is not None:
        _ans_texts(result, catalogue, grid)
    result.interruptions = _interruptions(run_dir)
    if result.interruptions:
        _set_apart_abandoned(result)
    paths = write_reports(result, run_dir, settings.lang)
    from rich.table import Table

    from reports.i18n import labels
    from reports.render import seconds

    said = labels(settings.lang)  # the report's language, for the terminal too
    table = Table(title=f"{result.candidate} · {result.profile_label} · {seconds(result.duration_s, settings.lang)}")
    for column in (said["requirement"], said["official_ids"], said["verdict"]):
        table.add_column(column)
    for requirement in result.requirements:
        if requirement.verdict in ("conforme", "non_conforme", "erreur"):
            style = VERDICT_STYLE[requirement.verdict]
            table.add_row(
                requirement.id,
                ", ".join(requirement.official_ids),
                f"[{style}]{said[requirement.verdict]}[/{style}]",
            )
    out.print(table)
    for requirement in result.requirements:
        if requirement.verdict == "non_conforme":
            ids = f" ({', '.join(requirement.official_ids)})" if requirement.official_ids else ""
            first = mask_identifiers(requirement.first_failure or requirement.reason)  # CI logs leave the machine
            out.print(f"✗ {requirement.id}{ids} : {first}", soft_wrap=True)
    out.print("  ".join(f"{said[k]} : {v}" for k, v in result.summary.items()), soft_wrap=True)
    out.print(f"{said['html_report']} : {paths['html']}", soft_wrap=True)
    out.print(f"JSON : {paths['json']}  JUnit : {paths['junit']}", soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _note_interruption(run_dir: Path) -> None:
    """Say in run.json when the campaign stopped and how far its journal went: the resumed report tells it, and sets
    apart the evidence of the scenario that was abandoned."""
    from simulators.common.journal import read_journal

    try:
        saved = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        recorded = read_journal(run_dir) if (run_dir / "journal.jsonl").exists() else []
        note = {"interrupted": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        note["last_seq"] = str(recorded[-1].seq if recorded else 0)
        saved.setdefault("interruptions", []).append(note)
        (run_dir / RUN_FILE).write_text(json.dumps(saved, indent=2), encoding="utf-8")
    except (OSError, ValueError, AttributeError):
        return  # the run stays resumable; only the report's account of the interruption is lost


def _interruptions(run_dir: Path) -> list[dict[str, str]]:
    try:
        saved = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    notes = saved.get("interruptions") if isinstance(saved, dict) else None
    return (
        [{str(k): str(v) for k, v in n.items()} for n in notes if isinstance(n, dict)]
        if isinstance(notes, list)
        else []
    )


def _set_apart_abandoned(result: RunResult) -> None:
    """Exchanges recorded before an interruption by no scenario that completed: the abandoned attempt's."""
    used = {x for scenario in result.scenarios for step in scenario.steps for x in step.exchanges}
    cut = max((_number(n.get("last_seq", "")) for n in result.interruptions), default=0)  # run.json may be edited
    for entry in result.evidence:
        if _number(entry.exchange_id.partition("-")[0]) <= cut and entry.exchange_id not in used:
            entry.abandoned = True


def _ans_grid(path: Path | None) -> Grid | None:
    """The grid export the run shows ANS's texts from; a bad one stops the run before anything starts (exit 2)."""
    from bench.catalogue.ans_grid import GridError, read_grid

    if path is None:
        return None
    try:
        return read_grid(path)
    except GridError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc


def _ans_texts(result: RunResult, catalogue: Catalogue, grid: Grid) -> None:
    """ANS's scenario and proof beside each requirement, from the approved rows of the profile's REM it carries."""
    from bench.runner.results import AnsScenario

    profile = catalogue.profiles[result.profile]
    if not profile.ans_rem:
        return
    note = f" — {profile.ans_rem_note}" if profile.ans_rem_note else ""
    result.ans_grid = f"{grid.path.name} · REM {profile.ans_rem} · SHA-256 {grid.sha256}{note}"
    for requirement in result.requirements:
        model = catalogue.requirements[requirement.id]
        requirement.ans_scenarios = [
            AnsScenario(reference=row.reference, scenario_ref=row.scenario_ref, scenario=row.scenario, proof=row.proof)
            for row in grid.for_requirement(model, profile.ans_rem)
        ]


def _traceability(result: RunResult, settings: BenchConfig, pack: ValidationPack | None) -> None:
    """What an auditor needs to know the run by: the software tested, who ran it, the pack, the bench's commit."""
    reference = settings.candidate.kind == "reference"
    result.software = settings.candidate.software or (
        "segur-bench-reference (candidat de référence)" if reference else ""
    )
    result.operator_name = settings.candidate.operator_name or ""
    result.pack = f"{pack.name} · SHA-256 {pack.digest()}" if pack else ""
    result.bench_commit = _bench_commit()


def _bench_commit() -> str:
    """The commit of the bench's source checkout, or "" when installed from a package."""
    import subprocess

    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return ""
    try:
        said = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return said.stdout.strip() if said.returncode == 0 else ""


def _number(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0
