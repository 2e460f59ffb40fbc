"""Export of a run as a capture bundle in standard formats."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bench.artifacts import check_file, exit_code
from bench.cli import app
from simulators.insi.messages import read_result

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["run", "--out", str(out), "--scenario", "INS-SC-01", "--scenario", "INS-SC-07"])
    assert result.exit_code == 0, result.output
    return next(out.iterdir())


def test_export_to_a_folder_is_har_documents_and_manifest(run_dir: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    har = json.loads((bundle / "exchanges.har").read_text(encoding="utf-8"))
    entries = [e for e in har["log"]["entries"] if "//insi." in e["request"]["url"]]
    assert har["log"]["version"] == "1.2" and entries
    outcomes = {read_result(e["response"]["content"]["text"].encode()).outcome for e in entries}
    assert {"CR00", "fault:siram_10", "fault:siram_40"} <= outcomes
    assert all(e["request"]["postData"]["mimeType"].startswith("application/soap+xml") for e in entries)
    manifest = yaml.safe_load((bundle / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["candidate"] == "reference" and manifest["profile"] == "medecin-ville"
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest
    documents = sorted((bundle / "documents").glob("*.xml"))
    assert len(documents) == 4
    assert exit_code([r for d in documents for r in check_file(d, None)]) == 0


def test_export_to_a_zip(run_dir: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "capture.zip"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    names = zipfile.ZipFile(bundle).namelist()
    assert "exchanges.har" in names and "manifest.yaml" in names and any(n.startswith("documents/") for n in names)
    assert runner.invoke(app, ["export", str(tmp_path), "--bundle", str(tmp_path / "x.zip")]).exit_code == 2


def test_a_channel_no_domain_declares_is_reported_never_relabelled(run_dir: Path, tmp_path: Path) -> None:
    from bench.replay.importer import import_bundle
    from simulators.common.journal import Journal

    bundle = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    har = json.loads((bundle / "exchanges.har").read_text(encoding="utf-8"))
    stranger = har["log"]["entries"][0]
    stranger["_segurBench"]["channel"] = "dp"  # a domain this bench does not have (the Dossier Pharmaceutique)
    (bundle / "exchanges.har").write_text(json.dumps(har), encoding="utf-8")
    journal = Journal(tmp_path / "imported")
    try:
        report = import_bundle(bundle, journal)
    finally:
        journal.close()
    assert any("canal 'dp' inconnu" in p for p in report.problems), report.problems
    assert [x.channel for x in report.exchanges].count("dp") == 1 and "http" not in {
        x.channel for x in report.exchanges
    }


def test_export_refuses_evidence_edited_after_the_run(tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "runs"
    assert runner.invoke(app, ["run", "--out", str(out), "--scenario", "INS-SC-05"]).exit_code == 0
    original = next(out.iterdir())
    edited = tmp_path / "edited"
    shutil.copytree(original, edited)
    document = next((edited / "exchanges").glob("*candidate.document*"))
    document.write_bytes(document.read_bytes().replace(b"<title>", b"<title>retouche "))
    result = runner.invoke(app, ["export", str(edited), "--bundle", str(tmp_path / "bundle")])
    assert result.exit_code == 3 and "preuve altérée" in result.output, result.output
    assert not (tmp_path / "bundle").exists()
    assert runner.invoke(app, ["export", str(original), "--bundle", str(tmp_path / "fine")]).exit_code == 0


@pytest.mark.parametrize("tamper", ["edit_document", "edit_progress", "add_file", "remove_file"])
def test_replay_refuses_a_bundle_altered_after_export(run_dir: Path, tmp_path: Path, tamper: str) -> None:
    bundle = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    document = sorted((bundle / "documents").glob("*.xml"))[0]
    if tamper == "edit_document":
        document.write_bytes(document.read_bytes().replace(b"<title>", b"<title>retouche "))
    elif tamper == "edit_progress":
        progress = next((bundle / "run" / "progress").glob("*.json"))
        progress.write_text(progress.read_text(encoding="utf-8").replace('"pass"', '"fail"', 1), encoding="utf-8")
    elif tamper == "add_file":
        (bundle / "documents" / "extra.xml").write_bytes(document.read_bytes())
    else:
        document.unlink()
    result = runner.invoke(app, ["replay", str(bundle), "--out", str(tmp_path / "replays")])
    assert result.exit_code == 3 and "lot altéré" in result.output, result.output
    assert not list((tmp_path / "replays").glob("*/report.json"))


def test_a_journal_line_cannot_point_outside_its_run(tmp_path: Path) -> None:
    from simulators.common.journal import EvidenceAltered, EvidenceFile, Exchange, read_part

    (tmp_path / "secret").write_text("x")
    run = tmp_path / "run"
    run.mkdir()
    files = {"request": EvidenceFile("../secret", "", 1, "text/plain")}
    exchange = Exchange("1-x", 1, "", "insi", "insi.search_traits", {}, [], None, files)
    with pytest.raises(EvidenceAltered, match="hors du dossier"):
        read_part(run, exchange, "request")


def test_an_unreadable_run_json_is_said_and_the_bundle_still_replays(run_dir: Path, tmp_path: Path) -> None:
    import yaml as pyyaml

    bundle = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    (bundle / "run" / "run.json").write_text('["not", "a", "run"]', encoding="utf-8")
    manifest = pyyaml.safe_load((bundle / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["files"]["run/run.json"] = hashlib.sha256((bundle / "run" / "run.json").read_bytes()).hexdigest()
    (bundle / "manifest.yaml").write_text(pyyaml.safe_dump(manifest), encoding="utf-8")
    (bundle / "manifest.sig.json").unlink()  # rewritten by hand: no longer the bench's signed manifest
    result = runner.invoke(app, ["replay", str(bundle), "--out", str(tmp_path / "replays")])
    assert result.exit_code in (0, 1) and "run/run.json" in result.output, result.output


@pytest.mark.parametrize("tamper", ["none", "evidence", "journal", "report"])
def test_verify_tells_whether_a_report_and_its_evidence_are_intact(tmp_path: Path, tamper: str) -> None:
    out = tmp_path / "runs"
    assert runner.invoke(app, ["run", "--out", str(out), "--scenario", "INS-SC-05"]).exit_code == 0
    run = next(out.iterdir())
    if tamper == "evidence":
        document = next((run / "exchanges").glob("*candidate.document*"))
        document.write_bytes(document.read_bytes() + b" ")
    elif tamper == "journal":
        journal = run / "journal.jsonl"
        journal.write_bytes(journal.read_bytes().replace(b'"CR', b'"XX', 1))
    elif tamper == "report":
        report = json.loads((run / "report.json").read_text(encoding="utf-8"))
        report["evidence"][0]["sha256"] = "0" * 64
        (run / "report.json").write_text(json.dumps(report), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(run)])
    if tamper == "none":
        assert result.exit_code == 0 and "intact" in result.output, result.output
    else:
        assert result.exit_code == 3 and "altération" in result.output, result.output


def test_a_manifest_that_lists_anything_but_hex_digests_is_refused() -> None:
    from bench.replay.importer import manifest_problems

    aliased = b"files:\n  a.xml: &x [1, [2, [3]]]\n  b.xml: *x\n"
    assert "SHA-256 hexadécimaux" in manifest_problems({"manifest.yaml": aliased, "a.xml": b"", "b.xml": b""})[0]
    deep = b"files: " + b"[" * 10_000 + b"]" * 10_000
    assert manifest_problems({"manifest.yaml": deep})


def test_an_unreadable_progress_file_is_said_and_its_scenario_left_out(run_dir: Path, tmp_path: Path) -> None:
    """Found by the fuzz test: a hand-edited (unsigned) bundle whose progress file is not JSON crashed the replay."""
    bundle = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(run_dir), "--bundle", str(bundle)]).exit_code == 0
    progress = sorted((bundle / "run" / "progress").glob("*.json"))
    progress[0].write_bytes(b"z" + progress[0].read_bytes())
    (bundle / "manifest.yaml").unlink()
    (bundle / "manifest.sig.json").unlink()
    result = runner.invoke(app, ["replay", str(bundle), "--out", str(tmp_path / "replays")])
    assert result.exit_code in (0, 1), result.output
    assert f"run/progress/{progress[0].name} illisible, scénario non rejoué" in result.output


def test_report_zip_keeps_the_links_and_verifies_once_unzipped(run_dir: Path, tmp_path: Path) -> None:
    """``export --report-zip``: the report and every file its seal lists under one folder; unzipped, its evidence
    links resolve and ``verify`` finds it intact. An altered run is refused (it must not be sent as is)."""
    import re
    import shutil

    target = tmp_path / "to-send.zip"
    said = runner.invoke(app, ["export", str(run_dir), "--report-zip", str(target)])
    assert said.exit_code == 0, said.output
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path / "unzipped")
    sent = tmp_path / "unzipped" / run_dir.name
    html = (sent / "report.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(exchanges/[^"]+)"', html)
    assert links and all((sent / link).is_file() for link in links)
    assert runner.invoke(app, ["verify", str(sent)]).exit_code == 0
    assert runner.invoke(app, ["export", str(run_dir)]).exit_code == 2  # nothing asked
    altered = tmp_path / "altered-run"
    shutil.copytree(run_dir, altered)  # the module's run stays intact for the other tests
    evidence = next((altered / "exchanges").iterdir())
    evidence.write_bytes(evidence.read_bytes() + b" ")
    refused = runner.invoke(app, ["export", str(altered), "--report-zip", str(tmp_path / "altered.zip")])
    assert refused.exit_code == 3 and not (tmp_path / "altered.zip").exists()
