"""Export-then-replay round trips judge the same evidence the same way, for every scenario of every profile."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.replay.bundle import export_run
from bench.replay.engine import replay_bundle
from bench.runner.engine import Campaign, CampaignOptions
from bench.runner.results import RunResult
from bench.validation.packs import ValidationPack
from simulators.common.pki import BenchPki


def _findings(result: RunResult) -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    return {
        f"{s.id}/{step.id}": [(f.check_id, f.outcome, tuple(f.requirements)) for f in step.findings]
        for s in result.scenarios
        for step in s.steps
    }


@pytest.mark.parametrize("profile", ["medecin-ville", "officine", "imagerie"])
@pytest.mark.parametrize("defects", [[], ["ins.share_unqualified", "cda.no_timezone"]], ids=["clean", "defects"])
def test_export_then_replay_gives_the_same_verdicts(
    profile: str,
    defects: list[str],
    catalogue: Catalogue,
    pki: BenchPki,
    ci_sis_pack: ValidationPack | None,
    tmp_path: Path,
) -> None:
    options = CampaignOptions(profile=profile, defects=defects, pack=ci_sis_pack, timeout_factor=0.1)
    run_dir = tmp_path / "run"
    live = Campaign(catalogue, ReferenceCandidate(defects), options, run_dir, pki).run()
    config = {"profile": profile, "timeout_factor": 0.1, "candidate": {"kind": "reference", "defects": defects}}
    (run_dir / "run.json").write_text(json.dumps({"config": config}), encoding="utf-8")
    bundle = export_run(run_dir, tmp_path / "bundle.zip")
    replayed = replay_bundle(bundle, tmp_path / "replay", catalogue, pack=ci_sis_pack)
    assert replayed.imported.problems == []
    assert _findings(replayed.result) == _findings(live)
    assert {r.id: r.verdict for r in replayed.result.requirements} == {r.id: r.verdict for r in live.requirements}
    assert replayed.result.candidate == "reference (rejeu)" and replayed.result.profile == profile


def test_replayed_reports_are_pseudonymised_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bench.cli import app

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert (
        runner.invoke(app, ["run", "--out", "runs", "--scenario", "INS-SC-01", "--scenario", "INS-SC-03"]).exit_code
        == 0
    )
    run_dir = next((tmp_path / "runs").iterdir())
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", "bundle.zip"]).exit_code == 0
    hidden = runner.invoke(app, ["replay", "bundle.zip", "--out", "replays"])
    clear = runner.invoke(app, ["replay", "bundle.zip", "--out", "replays", "--no-pseudonymise"])
    assert hidden.exit_code == clear.exit_code == 0, hidden.output
    reports = sorted((tmp_path / "replays").iterdir())
    pseudonymised = next(r for r in reports if '"identities": "pseudonymisees"' in (r / "report.json").read_text())
    in_clear = next(r for r in reports if r != pseudonymised)
    secrets = [
        "DE LA FONTAINE-MARTIN",
        "JEAN-BAPTISTE",
        "D'ALMEIDA",
        "Almeida",
        "ANAIS",
        "SANTONI",
        "MARIE-PAULE",
        "BENALI",
        "YASMINE",
        "KOWALSKA",
        "ZOFIA",
        "1978-03-14",
        "19780314",
        "178037511502783",
        "255022B03301118",
        "282129912200716",
        "1955-02-10",
        "Fontaine-Martin",
        "Santoni",
        "Kowalska",
        "Anaïs",
        "Marie-Paule",
    ]
    for name in ("report.html", "report.json", "junit.xml"):
        text = (pseudonymised / name).read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text or s.replace("'", "&#39;") in text]
        assert leaked == [], (name, leaked)
    assert "Fontaine-Martin" in (in_clear / "report.json").read_text(encoding="utf-8")
    clear_verdicts = (in_clear / "report.json").read_text(encoding="utf-8").count('"verdict": "conforme"')
    assert (pseudonymised / "report.json").read_text(encoding="utf-8").count('"verdict": "conforme"') == clear_verdicts


def test_field_capture_is_judged_exchange_by_exchange_and_damage_is_reported(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    import zipfile

    fixture = (Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes()
    broken = fixture.replace(b'<languageCode code="fr-FR"/>', b'<languageCode code="en"/>')
    bundle = tmp_path / "field.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("documents/000001-cr.xml", fixture)
        archive.writestr("documents/000002-cr.xml", broken)
        archive.writestr("documents/000003-garbage.xml", b"\x00\x01 not xml")
        archive.writestr("exchanges.har", b'{"log": {"entries": [')  # truncated capture
        archive.writestr("../escape.xml", b"<x/>")
    outcome = replay_bundle(bundle, tmp_path / "replay", catalogue)
    problems = " | ".join(outcome.imported.problems)
    assert "exchanges.har illisible" in problems and "../escape.xml : chemin dangereux" in problems
    [capture] = outcome.result.scenarios
    assert capture.id == "CAPTURE" and len(capture.steps) == 3
    outcomes = [step.outcome for step in capture.steps]
    assert outcomes == ["pass", "fail", "fail"]
    verdicts = {r.id: r.verdict for r in outcome.result.requirements}
    assert verdicts["CDA-002"] == "non_conforme" and verdicts["INS-001"] == "non_teste"


def test_exporting_a_replay_is_pseudonymised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    from typer.testing import CliRunner

    from bench.cli import app

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["run", "--out", "runs", "--scenario", "INS-SC-01"]).exit_code == 0
    assert runner.invoke(app, ["export", str(next(Path("runs").iterdir())), "--bundle", "b.zip"]).exit_code == 0
    assert runner.invoke(app, ["replay", "b.zip", "--out", "replays"]).exit_code == 0
    replay_dir = next(Path("replays").iterdir())
    assert runner.invoke(app, ["export", str(replay_dir), "--bundle", "again.zip"]).exit_code == 0
    with zipfile.ZipFile("again.zip") as archive:
        content = b"".join(archive.read(name) for name in archive.namelist())
    for secret in (b"DE LA FONTAINE-MARTIN", b"178037511502783", b"1978-03-14", b"D'ALMEIDA"):
        assert secret not in content
    assert runner.invoke(app, ["export", str(replay_dir), "--bundle", "clear.zip", "--no-pseudonymise"]).exit_code == 0
    with zipfile.ZipFile("clear.zip") as archive:
        assert b"178037511502783" in b"".join(archive.read(name) for name in archive.namelist())
    # That export has no run structure, so it replays as a field capture: its manifest is verified all the same.
    intact = runner.invoke(app, ["replay", "again.zip", "--out", "again-replays"])
    assert intact.exit_code in (0, 1) and "lot altéré" not in intact.output, intact.output
    with zipfile.ZipFile("again.zip") as archive, zipfile.ZipFile("edited.zip", "w") as edited:
        for name in archive.namelist():
            data = archive.read(name)
            edited.writestr(name, data + b" " if name.startswith("documents/") else data)
    refused = runner.invoke(app, ["replay", "edited.zip", "--out", "edited-replays"])
    assert refused.exit_code == 3 and "lot altéré" in refused.output, refused.output


def _field_messages(tmp_path: Path) -> Path:
    """A field capture of MSSanté messages: a good one, one with a hostile XDM and non-UTF-8 header, garbage."""
    import io
    import zipfile

    from bench.domains.mss.inbox import build_delivery
    from simulators.insi.identities import load_identities

    good = build_delivery(load_identities().by_id("santoni"), "consultation-report").data
    hostile_zip = io.BytesIO()
    with zipfile.ZipFile(hostile_zip, "w") as archive:
        archive.writestr("IHE_XDM/SUBSET01/../../../etc/passwd", b"x")
    message = EmailMessage()
    message["From"] = "dr.x@segur-bench.mssante.fr"
    message["Date"] = "Tue, 24 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = "<h@segur-bench.mssante.fr>"
    message.set_content("x")
    message.add_attachment(hostile_zip.getvalue(), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    hostile = message.as_bytes().replace(b"Message-ID", b"Subject: \xe9\xff\nMessage-ID", 1)
    bundle = tmp_path / "mails.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("messages/000001-good.eml", good)
        archive.writestr("messages/000002-hostile.eml", hostile)
        archive.writestr("messages/000003-garbage.eml", b"\x00\xff" * 50)
    return bundle


def test_captured_messages_are_judged_on_what_an_eml_proves(tmp_path: Path, catalogue: Catalogue) -> None:
    from bench.replay.scale import replay_capture

    bundle = _field_messages(tmp_path)
    outcome = replay_bundle(bundle, tmp_path / "replay", catalogue)
    [capture] = outcome.result.scenarios
    assert [step.outcome for step in capture.steps] == ["pass", "fail", "fail"]
    hostile = " | ".join(f.message for f in capture.steps[1].findings)
    assert "remontée de dossier" in hostile
    verdicts = {r.id: r.verdict for r in outcome.result.requirements}
    assert verdicts["MSS-001"] == verdicts["MSS-002"] == "non_conforme" and verdicts["MSS-004"] == "non_teste"
    streamed = replay_capture(bundle)
    assert streamed.exchanges == 3 and streamed.problems == []
    assert streamed.counts[("MSS-002", "mss.xdm_package", "pass")] == 1
    assert streamed.counts[("MSS-002", "mss.xdm_package", "fail")] == 1


def test_replayed_message_reports_hide_the_patients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bench.cli import app

    bundle = _field_messages(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["replay", str(bundle), "--out", "replays"]).exit_code in (0, 1)
    [report] = list(Path("replays").iterdir())
    for name in ("report.html", "report.json", "junit.xml"):
        text = (report / name).read_text(encoding="utf-8")
        assert not [s for s in ("SANTONI", "Santoni", "255022B03301118", "1955") if s in text], name


def test_pseudonymisation_replaces_identities_never_the_bench_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """INS-SC-05's patient is called "Inconnu-Sans-Ins": the word "Ins" must not rename INS-001, INS-SC-05 or the
    ins.* checks in a pseudonymised replay (it did: INS verdicts vanished from the report)."""
    import json

    from typer.testing import CliRunner

    from bench.cli import app

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["run", "--out", "runs", "--scenario", "INS-SC-05"]).exit_code == 0
    run_dir = next((tmp_path / "runs").iterdir())
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", "bundle"]).exit_code == 0
    clear = runner.invoke(app, ["replay", "bundle", "--out", "clear", "--no-pseudonymise"])
    hidden = runner.invoke(app, ["replay", "bundle", "--out", "hidden"])
    assert clear.exit_code == hidden.exit_code == 0, hidden.output
    reports = [json.loads(next((tmp_path / d).glob("*/report.json")).read_text()) for d in ("clear", "hidden")]

    def structure(report: dict[str, Any]) -> list[tuple[str, ...]]:
        return [(r["id"], r["verdict"]) for r in report["requirements"]] + [
            (s["id"], st["id"], f["check_id"], *f["requirements"], f["outcome"])
            for s in report["scenarios"]
            for st in s["steps"]
            for f in st["findings"]
        ]

    assert structure(reports[1]) == structure(reports[0])
    assert any(r["id"] == "INS-001" and r["verdict"] == "conforme" for r in reports[1]["requirements"])
    text = json.dumps(reports[1], ensure_ascii=False)
    assert "Inconnu-Sans-Ins" not in text and "INCONNU-SANS-INS" not in text
    assert "Inconnu-Sans-Ins" in json.dumps(reports[0], ensure_ascii=False) or "INCONNU" in json.dumps(reports[0])
    # An export of the replay is pseudonymised the same way: the ids of its stored results stay intact.
    replay_dir = next((tmp_path / "hidden").iterdir())
    assert runner.invoke(app, ["verify", str(replay_dir)]).exit_code == 0  # a pseudonymised report still verifies
    assert runner.invoke(app, ["export", str(replay_dir), "--bundle", "again"]).exit_code == 0
    exported = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert "insi.search_traits" in exported
    assert "Inconnu-Sans-Ins" not in exported and "INCONNU-SANS-INS" not in exported


def test_birth_places_are_pseudonymised_in_replay_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sex and birth year-month survive pseudonymisation: a birth commune left in clear beside them narrows the real
    NIR to about a thousand people. The defect makes INS-003 quote INSi's birth places in its findings."""
    import json

    from typer.testing import CliRunner

    from bench.cli import app
    from simulators.insi.identities import load_identities

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    arguments = ["run", "--out", "runs", "--scenario", "INS-SC-01", "--defect", "ins.keep_typed_traits"]
    assert runner.invoke(app, arguments).exit_code == 1
    run_dir = next((tmp_path / "runs").iterdir())
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", "bundle"]).exit_code == 0
    places = {person.traits.birth_place for person in load_identities().persons}
    clear_text = (run_dir / "report.json").read_text(encoding="utf-8")
    quoted = {place for place in places if f"'{place}'" in clear_text}
    assert quoted and "lieu de naissance (COG)" in clear_text
    assert runner.invoke(app, ["replay", "bundle", "--out", "hidden"]).exit_code == 1
    replay_dir = next((tmp_path / "hidden").iterdir())
    for name in ("report.json", "report.html", "junit.xml"):
        text = (replay_dir / name).read_text(encoding="utf-8")
        assert "lieu de naissance (COG)" in text or name != "report.json"
        assert not [p for p in quoted if f"'{p}'" in text or f"&#39;{p}&#39;" in text], name
    report = json.loads((replay_dir / "report.json").read_text(encoding="utf-8"))
    assert any(r["id"] == "INS-003" and r["verdict"] == "non_conforme" for r in report["requirements"])


def test_field_capture_file_names_are_pseudonymised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Field captures name files after patients; a pseudonymised report and the console never show those names."""
    import zipfile

    from typer.testing import CliRunner

    from bench.cli import app

    fixture = (Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes()
    broken = fixture.replace(b'<languageCode code="fr-FR"/>', b'<languageCode code="en"/>')
    bundle = tmp_path / "field.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("documents/DURAND_Josiane_19620314.xml", broken)
        archive.writestr("exchanges-DURAND_Josiane_19620314.har", b"{not json")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    hidden = runner.invoke(app, ["replay", str(bundle), "--out", "hidden"])
    assert hidden.exit_code == 1, hidden.output
    report = next((tmp_path / "hidden").iterdir())
    texts = [hidden.output] + [(report / n).read_text(encoding="utf-8") for n in ("report.html", "report.json")]
    assert all("DURAND" not in t and "19620314" not in t for t in texts)
    assert "fichier-" in texts[2] and ".xml" in texts[2]
    clear = runner.invoke(app, ["replay", str(bundle), "--out", "clear", "--no-pseudonymise"])
    assert "DURAND_Josiane_19620314" in clear.output + next((tmp_path / "clear").glob("*/report.json")).read_text()
