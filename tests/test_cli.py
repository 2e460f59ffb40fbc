"""The segur-bench command line, as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from bench.cli import app

runner = CliRunner()


def test_catalogue_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    validated = runner.invoke(app, ["catalogue", "validate"])
    assert validated.exit_code == 0 and "131 exigences" in validated.stdout
    listed = runner.invoke(app, ["catalogue", "list", "--profile", "officine"])
    assert listed.exit_code == 0 and "INS-SC-08" in listed.stdout
    shown = runner.invoke(app, ["catalogue", "show", "INS-005"])
    assert shown.exit_code == 0 and "INS/va1.53" in shown.stdout and "ins.yaml:" in shown.stdout
    assert runner.invoke(app, ["catalogue", "show", "NOPE-001"]).exit_code == 2
    schema = json.loads(runner.invoke(app, ["catalogue", "schema", "scenario"]).stdout)
    assert "steps" in schema["properties"]
    coverage = runner.invoke(app, ["catalogue", "coverage"])
    assert coverage.exit_code == 0 and "medecin-ville" in coverage.stdout and "officine" in coverage.stdout
    # DMP-012 is proven by an expectation (nothing reaches the rogue server), not by a check: it is covered.
    assert "DMP-012" not in coverage.stdout and "MSS-001" not in coverage.stdout


def test_pki_export_gives_a_usable_client_bundle(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pki", "export", str(tmp_path), "--password", "secret"])
    assert result.exit_code == 0
    key, cert, extra = pkcs12.load_key_and_certificates((tmp_path / "client.p12").read_bytes(), b"secret")
    assert key is not None and cert is not None and len(extra) == 1
    assert (tmp_path / "segur-bench-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    # What holds the private key is its owner's only; exporting again rewrites it the same way.
    assert {
        p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir() if p.name in ("client-key.pem", "client.p12")
    } == {
        "client-key.pem": 0o600,
        "client.p12": 0o600,
    }
    assert runner.invoke(app, ["pki", "export", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "client-key.pem").stat().st_mode & 0o777 == 0o600


def test_run_exit_codes_and_report_path(tmp_path: Path) -> None:
    good = runner.invoke(app, ["run", "--out", str(tmp_path), "--scenario", "INS-SC-05"])
    assert good.exit_code == 0, good.output
    assert "Rapport HTML :" in good.stdout
    report = Path(good.stdout.split("Rapport HTML :")[1].split()[0])
    assert report.is_file()
    bad = runner.invoke(
        app, ["run", "--out", str(tmp_path), "--scenario", "INS-SC-06", "--defect", "ins.qualify_on_multiple"]
    )
    assert bad.exit_code == 1 and "Non conforme" in bad.stdout
    assert runner.invoke(app, ["run", "--defect", "no.such"]).exit_code == 2
    assert runner.invoke(app, ["run", "--profile", "nope"]).exit_code == 2


def test_terminal_names_each_non_conforming_requirement_and_logs_each_scenario_when_not_a_terminal(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app, ["run", "--out", str(tmp_path), "--scenario", "INS-SC-08", "--defect", "ins.share_unqualified"]
    )
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("✗ INS-005"))
    assert "(INS/va1.53)" in line and "ins.shared_only_when_qualified" in line and "•" in line  # INS masked
    assert "[0/1] scénario INS-SC-08" in result.output and "[1/1] campagne terminée" in result.output
    report = json.loads(next(tmp_path.glob("*/report.json")).read_text(encoding="utf-8"))
    assert report["software"].startswith("segur-bench-reference") and "pack" in report and "bench_commit" in report


def test_the_terminal_speaks_the_report_s_language(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--out", str(tmp_path), "--scenario", "INS-SC-05", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Requirement" in result.stdout and "Compliant : " in result.stdout and "HTML report : " in result.stdout
    assert "Conforme" not in result.stdout and "Rapport HTML" not in result.stdout


def test_console_output_carries_no_identity(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--out", str(tmp_path)])
    for secret in ("CASANOVA", "LEFEVRE", "178037511502783", "1978-03-14"):
        assert secret not in result.output


def test_check_command_text_json_and_exit_codes(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "data" / "cda" / "consultation-n1.xml"
    good = runner.invoke(app, ["check", str(fixture)])
    assert good.exit_code == 0 and "PASS CDA-002 cda.header" in good.stdout
    broken = tmp_path / "broken.xml"
    broken.write_text(fixture.read_text(encoding="utf-8").replace('code="fr-FR"', 'code="en"'), encoding="utf-8")
    result = runner.invoke(app, ["check", "--format", "json", str(tmp_path)])
    assert result.exit_code == 1
    files = json.loads(result.stdout)["files"]
    assert [f["kind"] for f in files] == ["cda"]
    failing = [f for f in files[0]["findings"] if f["outcome"] == "fail"]
    assert failing == [
        {
            "check": "cda.header",
            "requirements": ["CDA-002"],
            "outcome": "fail",
            "message": "languageCode doit valoir fr-FR",
            "location": "/ClinicalDocument/languageCode",
        }
    ]
    assert runner.invoke(app, ["check", str(tmp_path / "missing.xml")]).exit_code == 2
    assert runner.invoke(app, ["check", "--pack", str(tmp_path), str(fixture)]).exit_code == 2


def test_check_masks_identifiers_unless_asked(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "data" / "cda" / "consultation-n1.xml"
    broken = tmp_path / "wrong-key.xml"
    broken.write_text(
        fixture.read_text(encoding="utf-8").replace("178037511502783", "178037511502700"), encoding="utf-8"
    )
    masked = runner.invoke(app, ["check", str(broken)])
    assert masked.exit_code == 1 and "1780375••••••••" in masked.stdout and "178037511502700" not in masked.stdout
    clear = runner.invoke(app, ["check", "--show-identities", str(broken)])
    assert "178037511502700" in clear.stdout


def test_a_pack_given_by_a_relative_path_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci_sis_pack: object
) -> None:
    from bench.fixtures.documents import SAMPLE_PATIENT, build_cda
    from bench.validation.packs import ValidationPack

    if not isinstance(ci_sis_pack, ValidationPack):
        pytest.skip("no CI-SIS pack at ../shared/data/ci-sis")
    document = tmp_path / "cr.xml"
    document.write_bytes(build_cda("consultation-report", SAMPLE_PATIENT))
    monkeypatch.chdir(ci_sis_pack.root.parent)
    result = runner.invoke(app, ["check", "--pack", ci_sis_pack.root.name, str(document)])
    assert "n'est pas un paquet" not in result.output
    assert result.exit_code == 0, result.output


def test_a_full_disk_is_a_bench_error_with_the_evidence_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Disk full while the reports are written: exit 3 (could not judge), one line, no traceback, journal kept."""
    import errno
    import sys

    import reports.render
    from bench.cli import main

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "runs" / "report.html"))

    monkeypatch.setattr(reports.render, "write_html", full)
    monkeypatch.setattr(sys, "argv", ["segur-bench", "run", "--out", str(tmp_path / "runs"), "--scenario", "INS-SC-05"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 3
    said = capsys.readouterr().err
    assert "écriture impossible" in said and "Traceback" not in said
    [run_dir] = list((tmp_path / "runs").iterdir())
    assert (run_dir / "journal.jsonl").stat().st_size > 0


def test_a_bench_defect_is_one_line_and_exit_3_with_the_traceback_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    import bench.replay.verify
    from bench.cli import main

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("a defect of the bench")

    monkeypatch.setattr(bench.replay.verify, "verify_run", broken)
    run = tmp_path / "run"
    run.mkdir()
    (run / "journal.jsonl").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["segur-bench", "verify", str(run)])
    monkeypatch.delenv("SEGUR_BENCH_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main()
    said = capsys.readouterr().err
    assert stopped.value.code == 3 and "erreur du banc" in said and "Traceback" not in said
    kept = Path(said.rsplit("détails : ", 1)[1].strip())
    assert "a defect of the bench" in kept.read_text(encoding="utf-8") and kept.stat().st_mode & 0o077 == 0


def test_check_reports_a_defect_on_one_file_and_still_checks_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.artifacts

    good = tmp_path / "a.xml"
    good.write_bytes((Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes())
    bad = tmp_path / "b.xml"
    bad.write_bytes(good.read_bytes())
    original = bench.artifacts.check_file

    def flaky(path: Path, *args: object, **kwargs: object) -> list[bench.artifacts.FileReport]:
        if path.name == "b.xml":
            raise RuntimeError("boom")
        return original(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bench.artifacts, "check_file", flaky)
    result = CliRunner().invoke(app, ["check", str(good), str(bad)])
    assert result.exit_code == 3, result.output
    assert "a.xml" in result.output and "erreur du banc sur ce fichier" in result.output


def test_evidence_of_a_scenario_abandoned_at_an_interruption_is_set_apart() -> None:
    from bench.cli.campaign import _set_apart_abandoned
    from bench.runner.results import EvidenceEntry, RunResult, ScenarioResult, StepResult

    def entry(exchange_id: str) -> EvidenceEntry:
        return EvidenceEntry(
            exchange_id=exchange_id, channel="insi", transaction="insi.search_traits", time="", outcome=None,
            file=f"exchanges/{exchange_id}.xml", sha256="0" * 64, size=1,
        )  # fmt: skip

    # Only the fields the helper reads: the rest of a run does not matter here.
    step = StepResult.model_construct(exchanges=["000001-insi.search_traits", "000004-insi.search_traits"])  # type: ignore[call-arg]
    result = RunResult.model_construct(  # type: ignore[call-arg]
        scenarios=[ScenarioResult.model_construct(steps=[step])],  # type: ignore[call-arg]
        evidence=[entry("000001-insi.search_traits"), entry("000002-insi.search_traits"),
                  entry("000004-insi.search_traits")],
        interruptions=[{"interrupted": "2026-11-29T23:00:00+00:00", "last_seq": "2"}],
    )  # fmt: skip
    _set_apart_abandoned(result)
    assert [e.abandoned for e in result.evidence] == [False, True, False]  # 2: before the cut, used by nobody
