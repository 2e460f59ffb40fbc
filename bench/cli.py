"""The ``segur-bench`` command line."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from bench import __version__
from bench.candidates.base import AdapterError
from bench.candidates.reference import DEFECTS
from bench.catalogue.loader import Catalogue, CatalogueError, load_catalogue
from bench.catalogue.models import RequirementFile, Scenario
from bench.config import CONFIG_NAME, INIT_TEMPLATE, BenchConfig, ConfigError, load_config
from bench.paths import content_root, state_dir
from bench.privacy import mask_identifiers
from bench.runner.engine import Campaign, CampaignOptions, new_run_id
from bench.runner.simulators import SimulatorHub
from bench.runner.verdicts import EXIT_BENCH_ERROR
from bench.validation.packs import find_packs
from simulators.common.pki import BenchPki, ensure_pki, export_client_bundle
from simulators.insi.identities import load_identities
from simulators.mss.app import CANDIDATE_MAILBOX

app = typer.Typer(
    help="segur-bench : banc de conformité Ségur vague 2 (INSi, DMP, MSSanté, CDA).", no_args_is_help=True
)
catalogue_app = typer.Typer(help="Le catalogue des exigences et des scénarios.", no_args_is_help=True)
pki_app = typer.Typer(help="La PKI de test du banc.", no_args_is_help=True)
packs_app = typer.Typer(
    help="Les paquets de validation CI-SIS (XSD, schématrons, jeux de valeurs).", no_args_is_help=True
)
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


def _catalogue() -> Catalogue:
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


def _pki() -> BenchPki:
    return ensure_pki(state_dir() / "pki")


RUN_FILE = "run.json"


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
    hook_url: Annotated[str | None, typer.Option(help="http-hook : URL du service du candidat")] = None,
    config: Annotated[Path | None, typer.Option(help="Fichier de configuration (défaut : ./segur-bench.yaml)")] = None,
) -> None:
    """Run a campaign and write its reports. Exit 0 all good, 1 a requirement is Non conforme, 3 bench error,
    130 interrupted (resume it with `segur-bench resume RUN`)."""
    settings = _settings(config)
    if candidate:
        settings.candidate.kind = candidate  # type: ignore[assignment]  # validated just below
    if defect:
        settings.candidate.defects = list(defect)
    if hook_url:
        settings.candidate.hook_url = hook_url
    settings.profile = profile or settings.profile
    settings.out = out_dir or settings.out
    settings.lang = lang or settings.lang  # type: ignore[assignment]
    settings.pack = pack or settings.pack
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
    from bench.runner.engine import PROGRESS_DIR
    from bench.runner.results import ScenarioResult

    try:
        saved = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        settings = BenchConfig.model_validate(saved["config"])
    except (OSError, ValueError, KeyError, ValidationError) as exc:
        console.print(f"[red]{run_dir} n'est pas une campagne reprenable : {exc}[/red]")
        raise typer.Exit(2) from exc
    completed = {}
    for path in sorted((run_dir / PROGRESS_DIR).glob("*.json")):
        result = ScenarioResult.model_validate_json(path.read_text(encoding="utf-8"))
        completed[result.id] = result
    console.print(f"reprise de {run_dir} : {len(completed)} scénario(s) déjà joué(s)")
    _run_campaign(settings, list(saved.get("scenarios", [])), run_dir, completed)


def _settings(path: Path | None) -> BenchConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            console.print(problem, markup=False, highlight=False)
        raise typer.Exit(2) from exc


def _run_campaign(settings: BenchConfig, scenario_ids: list[str], run_dir: Path, completed: dict[str, Any]) -> None:
    from bench.candidates.factory import make_adapter
    from reports.render import write_reports

    catalogue = _catalogue()
    if settings.profile not in catalogue.profiles:
        console.print(f"[red]profil inconnu : {settings.profile}[/red] (connus : {', '.join(catalogue.profiles)})")
        raise typer.Exit(2)
    packs = find_packs([settings.pack] if settings.pack else [])
    if settings.pack and (not packs or packs[0].root != settings.pack.resolve()):
        console.print(f"[red]{settings.pack} n'est pas un paquet de validation CI-SIS[/red]")
        raise typer.Exit(2)
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
        insi_port=settings.simulators.insi_port,
        dmp_port=settings.simulators.dmp_port,
    )
    interactive = settings.candidate.kind == "operator"
    campaign: Campaign | None = None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
        disable=interactive,
    ) as progress:
        task = progress.add_task("campagne", total=None)

        def report_progress(label: str, done: int, total: int) -> None:
            progress.update(task, description=f"scénario {label}" if label else "fini", completed=done, total=total)

        try:
            campaign = Campaign(catalogue, adapter, options, run_dir, _pki(), report_progress, completed=completed)
            result = campaign.run()
        except (RuntimeError, ValueError) as exc:
            console.print(f"[red]campagne interrompue : {exc}[/red]")
            raise typer.Exit(EXIT_BENCH_ERROR) from exc
        except KeyboardInterrupt:
            # The simulators are stopped and the journal closed by then: every exchange seen is on disk.
            done = len(campaign.completed) if campaign else 0
            console.print(
                f"[yellow]campagne interrompue ({done} scénario(s) terminés) ; preuves conservées dans "
                f"{run_dir}. Reprendre avec : segur-bench resume {run_dir}[/yellow]",
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    paths = write_reports(result, run_dir, settings.lang)
    table = Table(title=f"{result.candidate} · {result.profile_label} · {result.duration_s:.2f} s")
    for column in ("Exigence", "N° ANS", "Verdict"):
        table.add_column(column)
    for requirement in result.requirements:
        if requirement.verdict in ("conforme", "non_conforme", "erreur"):
            style = VERDICT_STYLE[requirement.verdict]
            table.add_row(
                requirement.id,
                ", ".join(requirement.official_ids),
                f"[{style}]{VERDICT_LABEL[requirement.verdict]}[/{style}]",
            )
    out.print(table)
    out.print("  ".join(f"{VERDICT_LABEL[k]} : {v}" for k, v in result.summary.items()), soft_wrap=True)
    out.print(f"Rapport HTML : {paths['html']}", soft_wrap=True)
    out.print(f"JSON : {paths['json']}  JUnit : {paths['junit']}", soft_wrap=True)
    raise typer.Exit(result.exit_code)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="Dossier de la campagne")],
    bundle: Annotated[Path, typer.Option(help="Dossier ou fichier .zip du lot de captures à écrire")],
    no_pseudonymise: Annotated[
        bool,
        typer.Option("--no-pseudonymise", help="Export d'un rejeu : identités en clair (pseudonymisées par défaut)"),
    ] = False,
    key_file: Annotated[
        Path | None, typer.Option(help="Clé de pseudonymisation (défaut : clé de l'utilisateur)")
    ] = None,
) -> None:
    """Export a run's exchanges as a capture bundle in standard formats (HAR 1.2, CDA .xml, .eml, manifest).
    The export of a replay (field data) is pseudonymised unless --no-pseudonymise."""
    from bench.replay.bundle import export_run
    from bench.replay.identities import collect, pseudonymise_text
    from bench.replay.pseudonymise import Pseudonymiser
    from simulators.common.journal import read_journal

    if not (run_dir / "journal.jsonl").is_file():
        console.print(f"[red]{run_dir} n'a pas de journal de preuves[/red]")
        raise typer.Exit(2)
    settings = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8")) if (run_dir / RUN_FILE).is_file() else {}
    config = settings.get("config", {})
    exchanges = read_journal(run_dir)
    transform = None
    if not no_pseudonymise and any("replayed_from" in x.meta for x in exchanges):
        names, dates = collect(run_dir, exchanges)
        pseudonymiser = Pseudonymiser(_pseudonym_key(key_file))

        def pseudonymise_file(_name: str, data: bytes) -> bytes:
            try:
                return pseudonymise_text(data.decode("utf-8"), pseudonymiser, names, dates).encode("utf-8")
            except UnicodeDecodeError:
                return data

        transform = pseudonymise_file
    written = export_run(
        run_dir,
        bundle,
        candidate=config.get("candidate", {}).get("kind"),
        profile=config.get("profile"),
        transform=transform,
    )
    out.print(f"lot de captures écrit : {written}", soft_wrap=True)


@app.command()
def replay(
    bundle: Annotated[Path, typer.Argument(help="Lot de captures : dossier ou .zip (HAR 1.2, .xml, .eml, manifest)")],
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier des campagnes")] = Path("runs"),
    pack: Annotated[Path | None, typer.Option(help="Paquet de validation CI-SIS pour les vérifications CDA")] = None,
    no_pseudonymise: Annotated[
        bool, typer.Option("--no-pseudonymise", help="Identités en clair dans les rapports (pseudonymisées par défaut)")
    ] = False,
    key_file: Annotated[
        Path | None, typer.Option(help="Clé de pseudonymisation (défaut : clé de l'utilisateur)")
    ] = None,
    lang: Annotated[str, typer.Option(help="Langue du rapport HTML : fr ou en")] = "fr",
    engine: Annotated[
        str, typer.Option(help="Captures de terrain : local, process (pool de processus) ou dask (--scheduler)")
    ] = "local",
    scheduler: Annotated[str | None, typer.Option(help="dask : adresse de l'ordonnanceur (tcp://hôte:port)")] = None,
    workers: Annotated[int, typer.Option(help="process/dask : lots traités en parallèle")] = 2,
    profile: Annotated[str, typer.Option(help="Profil auquel rapporter une capture de terrain")] = "medecin-ville",
) -> None:
    """Replay captured exchanges through the checks and write the usual reports (identities pseudonymised).

    A bundle exported from a run is judged step by step exactly as the run was; a field capture is streamed and each
    exchange judged by the checks that apply on their own, locally, on a process pool or on a Dask cluster."""
    from bench.replay.engine import replay_bundle
    from bench.replay.identities import collect, pseudonymise_text
    from bench.replay.pseudonymise import Pseudonymiser
    from bench.runner.results import RunResult
    from reports.render import write_reports

    if not bundle.exists():
        console.print(f"[red]{bundle} introuvable[/red]")
        raise typer.Exit(2)
    packs = find_packs([pack] if pack else [])
    run_dir = out_dir / f"replay-{new_run_id()}"
    if not _has_run_structure(bundle):
        _replay_field_capture(
            bundle,
            run_dir,
            packs[0].root if packs else None,
            engine,
            scheduler,
            workers,
            profile,
            not no_pseudonymise,
            key_file,
            lang,
        )
    outcome = replay_bundle(bundle, run_dir, _catalogue(), pack=packs[0] if packs else None)
    result = outcome.result
    if not no_pseudonymise:
        names, dates = collect(run_dir, outcome.imported.exchanges)
        # Scenario and step titles of a bench export name the fixture patients as typed: hide them too.
        catalogue = _catalogue()
        for scenario_result in result.scenarios:
            scenario = catalogue.scenarios.get(scenario_result.id)
            for patient in scenario.fixtures.patients if scenario else []:
                names.update([patient.typed.birth_name, *patient.typed.first_names])
                dates.add(patient.typed.birth_date)
        pseudonymiser = Pseudonymiser(_pseudonym_key(key_file))
        result = RunResult.model_validate_json(pseudonymise_text(result.model_dump_json(), pseudonymiser, names, dates))
        result.identities = "pseudonymisees"
    paths = write_reports(result, run_dir, lang)
    for problem in outcome.imported.problems:
        console.print(f"[yellow]{mask_identifiers(problem)}[/yellow]", soft_wrap=True)
    out.print("  ".join(f"{VERDICT_LABEL[k]} : {v}" for k, v in result.summary.items()), soft_wrap=True)
    out.print(f"Rapport HTML : {paths['html']}", soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _has_run_structure(bundle: Path) -> bool:
    if bundle.is_dir():
        return (bundle / "run" / "progress").is_dir()
    try:
        with zipfile.ZipFile(bundle) as archive:
            return any(name.startswith("run/progress/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _replay_field_capture(
    bundle: Path,
    run_dir: Path,
    pack_root: Path | None,
    engine: str,
    scheduler: str | None,
    workers: int,
    profile: str,
    pseudonymise: bool,
    key_file: Path | None,
    lang: str,
) -> None:
    from bench.replay.scale import replay_capture, scale_result_to_run
    from reports.render import write_reports

    if engine not in ("local", "process", "dask"):
        console.print(f"[red]moteur inconnu : {engine}[/red] (local, process, dask)")
        raise typer.Exit(2)
    try:
        scale = replay_capture(
            bundle,
            engine=engine,  # type: ignore[arg-type]  # one of the three, checked above
            scheduler=scheduler,
            workers=workers,
            pack_root=str(pack_root) if pack_root else None,
            key=_pseudonym_key(key_file) if pseudonymise else None,
        )
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        console.print(f"[red]rejeu impossible : {exc}[/red]")
        raise typer.Exit(EXIT_BENCH_ERROR) from exc
    run_dir.mkdir(parents=True, exist_ok=True)
    result = scale_result_to_run(scale, _catalogue(), profile, run_dir.name)
    if pseudonymise:  # exchanges were pseudonymised before judging: the findings already speak of pseudonyms
        result.identities = "pseudonymisees"
    paths = write_reports(result, run_dir, lang)
    for problem in scale.problems:
        console.print(f"[yellow]{mask_identifiers(problem)}[/yellow]", soft_wrap=True)
    out.print(
        f"{scale.exchanges} échanges rejoués en {scale.seconds:.2f} s ({scale.rate:.0f}/s, moteur {engine})",
        soft_wrap=True,
    )
    out.print(f"Rapport HTML : {paths['html']}", soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _pseudonym_key(key_file: Path | None) -> bytes:
    """The user's pseudonymisation key: given, or made once and kept in the state directory (never shared)."""
    import secrets

    path = key_file or state_dir() / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


@app.command("hook-sample")
def hook_sample(
    host: Annotated[str, typer.Option(help="Adresse d'écoute")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute")] = 8765,
    defect: Annotated[list[str] | None, typer.Option(help="Défaut du candidat de référence (répétable)")] = None,
) -> None:
    """Serve the sample hook service (the candidate API in front of the reference candidate), as an example."""
    import uvicorn

    from bench.candidates.hook_service import create_hook_app

    out.print(
        f"service d'exemple du candidat : http://{host}:{port} (API : bench/candidates/api/candidate-api.yaml)",
        soft_wrap=True,
    )
    uvicorn.run(create_hook_app(defect or []), host=host, port=port, log_level="warning")


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Fichier à écrire")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="Écraser un fichier existant")] = False,
) -> None:
    """Write a commented segur-bench.yaml to start from."""
    if path.exists() and not force:
        console.print(f"[red]{path} existe déjà (--force pour l'écraser)[/red]")
        raise typer.Exit(2)
    path.write_text(INIT_TEMPLATE, encoding="utf-8")
    out.print(f"configuration écrite : {path}", soft_wrap=True)


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of segur-bench.yaml, for editors."""
    print(json.dumps(BenchConfig.model_json_schema(), indent=2, ensure_ascii=False))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut : configuration)")] = None,
    insi_port: Annotated[int | None, typer.Option(help="Port du simulateur INSi (0 : libre)")] = None,
    dmp_port: Annotated[int | None, typer.Option(help="Port du simulateur DMP (0 : libre)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Dossier des preuves")] = None,
    config: Annotated[Path | None, typer.Option(help="Fichier de configuration (défaut : ./segur-bench.yaml)")] = None,
) -> None:
    """Start the simulators alone, for real software, and print their endpoints. Ctrl-C stops them."""
    settings = _settings(config)
    pki = _pki()
    run_dir = (out_dir or settings.out) / f"serve-{new_run_id()}"
    port = settings.simulators.insi_port if insi_port is None else insi_port
    dmp = settings.simulators.dmp_port if dmp_port is None else dmp_port
    with SimulatorHub(run_dir, pki, host=host or settings.simulators.host, insi_port=port, dmp_port=dmp) as hub:
        out.print(f"INSi (SOAP 1.2, TLS mutuel) : {hub.endpoints.insi}")
        out.print(f"DMP (XDS.b SOAP 1.2 + MTOM, TLS mutuel, VIHF signé) : {hub.endpoints.dmp}")
        out.print(f"DMP au certificat non reconnu (doit être refusé) : {hub.endpoints.dmp_untrusted}")
        out.print(f"MSSanté SMTP (STARTTLS, AUTH) : {hub.endpoints.mss_smtp} ; IMAP (TLS) : {hub.endpoints.mss_imap}")
        out.print(f"Boîte MSSanté : {CANDIDATE_MAILBOX} (mot de passe : {hub.mss.password})")
        out.print(f"AC à approuver : {pki.ca.cert}")
        out.print(f"Certificat client : {pki.client.cert} (clé : {pki.client.key})")
        out.print(f"Preuves : {run_dir}")
        out.print("Ctrl-C pour arrêter.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print(f"Arrêt. {len(hub.journal.exchanges)} échange(s) enregistré(s) dans {run_dir}")


@app.command()
def perf(
    round_trips: Annotated[int, typer.Option(help="Allers-retours INSi mesurés")] = 1000,
    cda_documents: Annotated[int, typer.Option(help="Documents CDA générés pour la mesure")] = 1000,
    pack: Annotated[Path | None, typer.Option(help="Paquet de validation CI-SIS (XSD, schématrons)")] = None,
    replay_exchanges: Annotated[
        int, typer.Option(help="Échanges du lot de captures généré (0 : pas de mesure)")
    ] = 100_000,
    dmp_feeds: Annotated[int, typer.Option(help="Alimentations ITI-41 de 100 Ko mesurées (0 : pas de mesure)")] = 1000,
    mss_messages: Annotated[int, typer.Option(help="Messages MSSanté de 200 Ko soumis (0 : pas de mesure)")] = 200,
) -> None:
    """Benchmarks: campaign wall time, INSi round trips per second over mutual TLS on loopback, CDA documents per
    second (rules + XSD, schematron in-process and Saxon-HE from Java, one process per document), DMP feeds per
    second and latency under 16 concurrent clients, MSSanté messages and IMAP fetches per second, replay throughput and
    memory."""
    from bench.perf import measure, measure_cda, measure_replay

    packs = find_packs([pack] if pack else [])
    figures = measure(_catalogue(), _pki(), round_trips=round_trips, pack=packs[0] if packs else None)
    out.print(
        f"Campagne medecin-ville ({figures.campaign_scenarios} scénarios) : {figures.campaign_wall_s:.2f} s"
        " (objectif < 5 s)",
        soft_wrap=True,
    )
    out.print(
        f"INSi, TLS mutuel, boucle locale : {figures.insi_round_trips_per_s:.0f} allers-retours/s sur "
        f"{figures.insi_round_trips} (objectif ≥ 200) ; p50 {figures.insi_latency_p50_ms} ms, "
        f"p95 {figures.insi_latency_p95_ms} ms",
        soft_wrap=True,
    )
    cda = measure_cda(packs[0] if packs else None, documents=cda_documents)
    xsd = "règles + XSD" if cda.with_xsd else "règles (sans paquet : pas de XSD)"
    out.print(
        f"CDA, {xsd} : {cda.rules_xsd_per_s:.0f} documents/s sur un cœur (objectif ≥ 300) ; "
        f"segur-bench check sur {cda.documents} fichiers : {cda.check_folder_s} s, "
        f"pic mémoire tracé {cda.check_folder_peak_mib} Mio",
        soft_wrap=True,
    )
    if cda.schematron_per_s is not None:
        java = (
            f"{cda.java_saxon_per_s} documents/s"
            if cda.java_saxon_per_s is not None
            else "non mesuré (Saxon-HE Java absent : apt-get install libsaxonhe-java)"
        )
        out.print(
            f"Schématron {cda.schematron_name} : {cda.schematron_per_s:.0f} documents/s dans le banc ; "
            f"Saxon-HE Java, un processus par document : {java}",
            soft_wrap=True,
        )
    if dmp_feeds:
        from bench.perf_dmp import measure_dmp

        dmp = measure_dmp(_pki().directory, feeds=dmp_feeds)
        out.print(
            f"DMP, ITI-41 de {dmp.document_kib} Ko en TLS mutuel (VIHF signé, MTOM) : {dmp.sequential_per_s:.0f}/s "
            f"avec un client ; {dmp.concurrent_per_s:.0f}/s avec {dmp.concurrent_clients} clients simultanés "
            f"(objectif ≥ 100/s), p50 {dmp.concurrent_p50_ms} ms, p95 {dmp.concurrent_p95_ms} ms (objectif < 100 ms)"
            + (f" ; {dmp.failures} échec(s)" if dmp.failures else ""),
            soft_wrap=True,
        )
    if mss_messages:
        from bench.perf_mss import measure_mss

        mss = measure_mss(_pki().directory, messages=mss_messages)
        out.print(
            f"MSSanté : {mss.messages_per_s:.0f} messages/s acceptés avec une pièce XDM de {mss.attachment_kib} Ko "
            f"(session complète STARTTLS + AUTH par message) ; {mss.fetches_per_s:.0f} FETCH IMAP/s sur TLS",
            soft_wrap=True,
        )
    if replay_exchanges:
        replay = measure_replay(replay_exchanges)
        dask = f"{replay.dask_per_s:.0f}/s" if replay.dask_per_s else "non mesuré"
        out.print(
            f"Rejeu d'une capture de {replay.exchanges} échanges ({replay.bundle_mib} Mio) : "
            f"{replay.local_per_s:.0f}/s en local, {replay.process_per_s:.0f}/s sur 2 processus, "
            f"{dask} sur un cluster Dask local "
            f"(objectif ≥ 500/s) ; pic mémoire {replay.peak_rss_mib} Mio (processus de rejeu), "
            f"{replay.peak_worker_rss_mib} Mio (processus de travail) (objectif < 300 Mio)",
            soft_wrap=True,
        )


@catalogue_app.command("validate")
def catalogue_validate() -> None:
    """Validate requirements and scenarios; print every defect as file:line."""
    catalogue = _catalogue()
    out.print(
        f"Catalogue {catalogue.header.catalogue_version} valide : {len(catalogue.requirements)} exigences, "
        f"{len(catalogue.scenarios)} scénarios, {len(catalogue.profiles)} profils ({content_root()})"
    )


@catalogue_app.command("list")
def catalogue_list(profile: Annotated[str | None, typer.Option(help="Seulement ce profil")] = None) -> None:
    """List requirements (and scenarios)."""
    catalogue = _catalogue()
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
    catalogue = _catalogue()
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
    models: dict[str, type[BaseModel]] = {"requirements": RequirementFile, "scenario": Scenario}
    model = models.get(kind)
    if model is None:
        console.print("[red]requirements ou scenario[/red]")
        raise typer.Exit(2)
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))


@catalogue_app.command("diff")
def catalogue_diff(
    old: Annotated[Path, typer.Argument(help="Ancien catalogue (dossier racine ou requirements/)")],
    new: Annotated[Path, typer.Argument(help="Nouveau catalogue (dossier racine ou requirements/)")],
    output_format: Annotated[str, typer.Option("--format", help="text ou json")] = "text",
) -> None:
    """What a new catalogue release changes: requirements added, removed, reworded, renumbered, and other fields."""
    from bench.catalogue.diff import diff_catalogues

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
    catalogue = _catalogue()
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


@pki_app.command("export")
def pki_export(
    destination: Annotated[Path, typer.Argument(help="Dossier où écrire l'AC et le certificat client")],
    password: Annotated[str | None, typer.Option(help="Mot de passe du fichier PKCS#12")] = None,
) -> None:
    """Hand a vendor the bench CA (to trust the simulators) and a client certificate (to be trusted by them)."""
    written = export_client_bundle(_pki(), destination, password.encode() if password else None)
    for path in written:
        out.print(str(path))


@app.command()
def check(
    paths: Annotated[
        list[Path], typer.Argument(help="Fichiers ou dossiers : CDA .xml, archives XDM .zip, messages .eml")
    ],
    output_format: Annotated[str, typer.Option("--format", help="text ou json")] = "text",
    pack: Annotated[
        Path | None, typer.Option(help="Paquet de validation CI-SIS (XSD, schématrons, jeux de valeurs)")
    ] = None,
    schematron: Annotated[
        str | None,
        typer.Option(help="Schématron de volet à appliquer (nom de fichier sans .sch) au lieu du choix auto"),
    ] = None,
    show_identities: Annotated[
        bool, typer.Option(help="Matricules INS/NIR en clair (masqués par défaut : ces sorties sont souvent partagées)")
    ] = False,
) -> None:
    """Check standalone artifacts without a run. Exit 0 nothing fails, 1 a check fails, 2 an input is unreadable,
    3 the bench could not judge (an incomplete validation pack, for example)."""
    from bench.artifacts import as_json, as_text, check_file, exit_code, expand

    packs = find_packs([pack] if pack else [])
    if pack and (not packs or packs[0].root != pack.resolve()):
        console.print(f"[red]{pack} n'est pas un paquet de validation CI-SIS[/red]")
        raise typer.Exit(2)
    chosen = packs[0] if packs else None
    reports = []
    for path in expand(paths):
        for report in check_file(path, chosen, schematron):
            if output_format == "text":
                for line in as_text(report, reveal=show_identities):
                    out.print(line, soft_wrap=True, markup=False, highlight=False)
                report.findings = [f for f in report.findings if f.outcome in ("fail", "error")]  # bounded memory
            reports.append(report)
    if output_format == "json":
        print(as_json(reports, reveal=show_identities))
    raise typer.Exit(exit_code(reports))


@packs_app.command("list")
def packs_list() -> None:
    """Packs the bench finds: $SEGUR_BENCH_PACKS, then the per-user store."""
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


@app.command()
def version() -> None:
    """Print the bench version."""
    out.print(__version__)


def main() -> None:
    app()
