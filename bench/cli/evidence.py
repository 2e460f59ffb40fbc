"""Evidence commands: ``export`` a run as a capture bundle, ``replay`` a bundle, ``check`` standalone artefacts."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from bench.cli.common import (
    RUN_FILE,
    VERDICT_LABEL,
    app,
    bench_catalogue,
    console,
    out,
)
from bench.exit_codes import EXIT_BENCH_ERROR
from bench.paths import state_dir
from bench.privacy import mask_identifiers
from bench.runner.ids import new_run_id


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="Dossier de la campagne")],
    bundle: Annotated[Path | None, typer.Option(help="Dossier ou fichier .zip du lot de captures à écrire")] = None,
    report_zip: Annotated[
        Path | None,
        typer.Option("--report-zip", help="Archive .zip du rapport et de ses preuves, liens conservés, à envoyer"),
    ] = None,
    no_pseudonymise: Annotated[
        bool,
        typer.Option("--no-pseudonymise", help="Export d'un rejeu : identités en clair (pseudonymisées par défaut)"),
    ] = False,
    key_file: Annotated[
        Path | None, typer.Option(help="Clé de pseudonymisation (défaut : clé de l'utilisateur)")
    ] = None,
) -> None:
    """Export a run's exchanges as a capture bundle in standard formats (HAR 1.2, CDA .xml, .eml, manifest), and/or
    its report with every piece of evidence as one .zip an auditor can open and verify (--report-zip). The capture
    bundle of a replay (field data) is pseudonymised unless --no-pseudonymise."""
    from bench.replay.bundle import export_run
    from bench.replay.identities import bench_vocabulary, collect, text_hider
    from bench.replay.pseudonymise import Pseudonymiser
    from simulators.common.journal import EvidenceAltered, read_journal

    if not (run_dir / "journal.jsonl").is_file():
        console.print(f"[red]{run_dir} n'a pas de journal de preuves[/red]")
        raise typer.Exit(2)
    if bundle is None and report_zip is None:
        console.print("[red]rien à écrire : --bundle (lot de captures) ou --report-zip (rapport et preuves)[/red]")
        raise typer.Exit(2)
    if report_zip is not None:
        from bench.report_zip import ReportZipError, write_report_zip

        try:
            out.print(f"rapport et preuves : {write_report_zip(run_dir, report_zip)}", soft_wrap=True)
        except ReportZipError as exc:
            console.print(f"[red]{mask_identifiers(str(exc))}[/red]", soft_wrap=True)
            raise typer.Exit(EXIT_BENCH_ERROR) from exc
    if bundle is None:
        return
    settings = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8")) if (run_dir / RUN_FILE).is_file() else {}
    config = settings.get("config", {})
    exchanges = read_journal(run_dir)
    transform = None
    if not no_pseudonymise and any("replayed_from" in x.meta for x in exchanges):
        found = collect(run_dir, exchanges)
        hide = text_hider(
            Pseudonymiser(_pseudonym_key(key_file)), found.names, found.dates, bench_vocabulary(), found.places
        )

        def pseudonymise_file(_name: str, data: bytes) -> bytes:
            try:
                return hide(data.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return data

        transform = pseudonymise_file
    try:
        written = export_run(
            run_dir,
            bundle,
            candidate=config.get("candidate", {}).get("kind"),
            profile=config.get("profile"),
            transform=transform,
        )
    except EvidenceAltered as exc:
        # Never re-digest an edited file: an export vouches for what the run recorded, nothing else.
        console.print(f"[red]preuve altérée, lot non écrit : {mask_identifiers(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(EXIT_BENCH_ERROR) from exc
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
    environment: Annotated[
        str | None,
        typer.Option(
            help="Capture de terrain : production (défaut) ou test ; une INS sous l'OID de l'autre est un constat"
        ),
    ] = None,
) -> None:
    """Replay captured exchanges through the checks and write the usual reports (identities pseudonymised).

    A bundle exported from a run is judged step by step exactly as the run was; a field capture is streamed and each
    exchange judged by the checks that apply on their own, locally, on a process pool or on a Dask cluster."""
    from bench.replay.engine import BundleAltered, replay_bundle
    from bench.replay.identities import bench_vocabulary, collect, pseudonymise_result, text_hider
    from bench.replay.importer import bundle_manifest_problems
    from bench.replay.pseudonymise import Pseudonymiser
    from bench.validation.packs import find_packs
    from reports.render import write_reports

    if not bundle.exists():
        console.print(f"[red]{bundle} introuvable[/red]")
        raise typer.Exit(2)
    if bundle.is_symlink() or not (bundle.is_dir() or (bundle.is_file() and zipfile.is_zipfile(bundle))):
        console.print(
            f"[red]{bundle} : ni dossier ni archive zip lisible (un lot de captures est l'un ou l'autre)[/red]"
        )
        raise typer.Exit(2)
    packs = find_packs([pack] if pack else [])
    run_dir = out_dir / f"replay-{new_run_id()}"
    if not _has_run_structure(bundle):
        altered, signer = bundle_manifest_problems(bundle)
        if altered:
            _refuse_altered(altered)
        _replay_field_capture(
            _test_mode(environment, default="production"),
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
            signer,
        )
    try:
        outcome = replay_bundle(bundle, run_dir, bench_catalogue(), pack=packs[0] if packs else None)
    except BundleAltered as exc:
        _refuse_altered(exc.problems)
    result = outcome.result
    result.source_signer = outcome.imported.signer or ""
    if not no_pseudonymise:
        found = collect(run_dir, outcome.imported.exchanges)
        # Scenario and step titles of a bench export name the fixture patients as typed: hide them too.
        catalogue = bench_catalogue()
        for scenario_result in result.scenarios:
            scenario = catalogue.scenarios.get(scenario_result.id)
            for patient in scenario.fixtures.patients if scenario else []:
                found.add(
                    {
                        "birth_name": patient.typed.birth_name,
                        "other_first_names": "|".join(patient.typed.first_names),
                        "birth_date": patient.typed.birth_date,
                        "birth_place": patient.typed.birth_place,
                    }
                )
        hide = text_hider(
            Pseudonymiser(_pseudonym_key(key_file)), found.names, found.dates, bench_vocabulary(), found.places
        )
        result = pseudonymise_result(result, hide)
    paths = write_reports(result, run_dir, lang)
    for problem in outcome.imported.problems:
        console.print(f"[yellow]{mask_identifiers(problem)}[/yellow]", soft_wrap=True)
    out.print("  ".join(f"{VERDICT_LABEL[k]} : {v}" for k, v in result.summary.items()), soft_wrap=True)
    out.print(f"Rapport HTML : {paths['html']}", soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _refuse_altered(problems: list[str]) -> NoReturn:
    """A bundle that is not what its manifest vouches for is not judged: a bench error, never a verdict."""
    for problem in problems:
        console.print(f"[red]{mask_identifiers(problem)}[/red]", soft_wrap=True)
    console.print("[red]lot altéré depuis son export : rejeu refusé (aucun verdict sur ces preuves)[/red]")
    raise typer.Exit(EXIT_BENCH_ERROR)


def _has_run_structure(bundle: Path) -> bool:
    if bundle.is_dir():
        return (bundle / "run" / "progress").is_dir()
    try:
        with zipfile.ZipFile(bundle) as archive:
            return any(name.startswith("run/progress/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _test_mode(environment: str | None, default: str) -> bool:
    chosen = environment or default
    if chosen not in ("test", "production"):
        console.print(f"[red]environnement inconnu : {chosen}[/red] (test ou production)")
        raise typer.Exit(2)
    return chosen == "test"


def _replay_field_capture(
    test_mode: bool,
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
    signer: str | None,
) -> NoReturn:
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
            test_mode=test_mode,
        )
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        console.print(f"[red]rejeu impossible : {exc}[/red]")
        raise typer.Exit(EXIT_BENCH_ERROR) from exc
    run_dir.mkdir(parents=True, exist_ok=True)
    result = scale_result_to_run(scale, bench_catalogue(), profile, run_dir.name)
    if pseudonymise:  # exchanges were pseudonymised before judging: the findings already speak of pseudonyms
        result.identities = "pseudonymisees"
    result.source_signer = signer or ""
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
    environment: Annotated[
        str, typer.Option(help="Environnement des documents : test (défaut) ou production (OID INS attendus)")
    ] = "test",
    jobs: Annotated[
        int, typer.Option(help="Processus de vérification en parallèle (0 : un par cœur ; dès 32 fichiers)")
    ] = 0,
) -> None:
    """Check standalone artifacts without a run. Exit 0 nothing fails, 1 a check fails, 2 an input is unreadable,
    3 the bench could not judge (an incomplete validation pack, for example)."""
    from bench.artifacts import Judging, Tally, as_text, check_all, expand, json_entry
    from bench.validation.packs import find_packs

    test_mode = _test_mode(environment, default="test")
    packs = find_packs([pack] if pack else [])
    if pack and (not packs or packs[0].root != pack.resolve()):
        console.print(f"[red]{pack} n'est pas un paquet de validation CI-SIS[/red]")
        raise typer.Exit(2)
    judging = Judging(packs[0] if packs else None, schematron, test_mode)
    tally = Tally()
    if output_format == "json":
        print('{\n "files": [', end="")
    separator = "\n  "
    # Streamed file by file, in input order: nothing is kept but what the exit code needs.
    for reports in check_all(expand(paths), judging, jobs or os.cpu_count() or 1):
        for report in reports:
            tally.add(report)
            if output_format == "json":
                print(separator + json.dumps(json_entry(report, reveal=show_identities), ensure_ascii=False), end="")
                separator = ",\n  "
            else:
                for line in as_text(report, reveal=show_identities):
                    out.print(line, soft_wrap=True, markup=False, highlight=False)
    if output_format == "json":
        print("\n ]\n}")
    raise typer.Exit(tally.exit_code)


@app.command()
def verify(
    target: Annotated[Path, typer.Argument(help="Campagne ou rejeu (dossier), ou lot de captures (dossier, zip)")],
    signer: Annotated[
        str | None,
        typer.Option(help="Empreinte (SHA256:…) de la clé attendue ; sans elle, l'empreinte trouvée est affichée"),
    ] = None,
) -> None:
    """Tell whether a report and its evidence, or a capture bundle, are intact: the journal's chain, every file as the
    signed seal (or the bundle's signed manifest) lists it, the signer. Exit 0 intact, 3 altered (not to be trusted)."""
    from bench.replay.importer import UNSIGNED, bundle_manifest_problems
    from bench.replay.verify import verify_run

    if (target / "journal.jsonl").is_file():
        problems, found = verify_run(target, signer)
        what = "journal, preuves, rapports et sceau conformes"
    else:
        try:
            problems, found = bundle_manifest_problems(target)
        except (OSError, zipfile.BadZipFile) as exc:
            console.print(f"[red]{target} illisible : {exc}[/red]")
            raise typer.Exit(2) from exc
        if found is None:
            problems.append("manifest.yaml absent : ni campagne ni lot exporté par le banc, rien à vérifier")
        elif found == UNSIGNED:
            problems.append("manifest.sig.json absent : lot non signé, son origine n'est pas garantie")
        elif signer and found != signer:
            problems.append(f"lot signé par la clé {found}, et non par la clé attendue {signer}")
        what = "fichiers conformes au manifeste signé"
    for problem in problems:
        console.print(f"[red]{mask_identifiers(problem)}[/red]", soft_wrap=True)
    if problems:
        console.print(f"[red]{len(problems)} altération(s) : {target} n'est pas intact, à ne pas croire[/red]")
        raise typer.Exit(EXIT_BENCH_ERROR)
    out.print(f"intact : {target} ({what}) ; signé par la clé {found}", soft_wrap=True)
