"""Tamper evidence: the journal's hash chain, the signed seal of a run directory, the signed manifest of a bundle, and
``segur-bench verify`` over both, down to a single byte."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bench import signing
from bench.cli import app
from bench.replay.importer import UNSIGNED, bundle_manifest_problems
from bench.replay.verify import verify_run
from bench.seal import SEAL_NAME, write_seal
from simulators.common.journal import GENESIS, JOURNAL_NAME, Journal, chain_problems, journal_head

runner = CliRunner()


@pytest.fixture(scope="module")
def sealed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["run", "--out", str(out), "--scenario", "INS-SC-05"])
    assert result.exit_code == 0, result.output
    return next(out.iterdir())


@pytest.fixture
def run_copy(sealed_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / sealed_run.name
    shutil.copytree(sealed_run, copy)
    return copy


@pytest.fixture
def other_key(tmp_path: Path) -> Iterator[None]:
    """Sign as someone else (an attacker re-sealing with their own key)."""
    os.environ[signing.KEY_ENV] = str(tmp_path / "attacker.pem")
    yield
    del os.environ[signing.KEY_ENV]


def _chained_journal(tmp_path: Path, count: int = 3) -> Path:
    journal = Journal(tmp_path)
    for n in range(count):
        journal.record("insi", f"t{n}", {"request": (f"<r{n}/>".encode(), "application/soap+xml")})
    journal.close()
    return tmp_path / JOURNAL_NAME


def test_each_journal_line_carries_the_digest_of_the_previous_one(tmp_path: Path) -> None:
    import hashlib

    path = _chained_journal(tmp_path)
    lines = path.read_bytes().split(b"\n")[:-1]
    assert json.loads(lines[0])["prev"] == GENESIS
    for before, line in itertools.pairwise(lines):
        assert json.loads(line)["prev"] == hashlib.sha256(before).hexdigest()
    assert journal_head(tmp_path) == hashlib.sha256(lines[-1]).hexdigest()
    assert chain_problems(tmp_path) == []
    # Reopened (a resumed run), the chain goes on from the last line.
    again = Journal(tmp_path)
    assert again.head == journal_head(tmp_path)
    again.record("insi", "t9", {"request": (b"<x/>", "application/soap+xml")})
    again.close()
    assert chain_problems(tmp_path) == []


@pytest.mark.parametrize("change", ["edit", "remove", "swap", "insert"])
def test_a_line_edited_removed_moved_or_inserted_breaks_the_chain(tmp_path: Path, change: str) -> None:
    path = _chained_journal(tmp_path)
    lines = path.read_bytes().split(b"\n")[:-1]
    if change == "edit":
        lines[1] = lines[1].replace(b'"t1"', b'"t7"')
    elif change == "remove":
        del lines[1]
    elif change == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines.insert(1, lines[0])
    path.write_bytes(b"\n".join(lines) + b"\n")
    problems = chain_problems(tmp_path)
    # An edited line is caught by the next one, whose prev no longer matches (the last line, by the signed head).
    where = f"{JOURNAL_NAME}:3" if change == "edit" else f"{JOURNAL_NAME}:2"
    assert problems and "chaîne rompue" in problems[0] and where in problems[0], problems


def test_a_fresh_run_is_intact_and_names_its_signer(sealed_run: Path) -> None:
    problems, signer = verify_run(sealed_run)
    assert problems == [] and signer == signing.user_fingerprint()
    report = json.loads((sealed_run / "report.json").read_text(encoding="utf-8"))
    assert report["sealed_by"] == signer and report["journal_head"] == journal_head(sealed_run)
    html = (sealed_run / "report.html").read_text(encoding="utf-8")
    assert signer in html and report["journal_head"] in html
    result = runner.invoke(app, ["verify", str(sealed_run), "--signer", signer])
    assert result.exit_code == 0 and signer in result.output, result.output


def test_any_single_byte_changed_anywhere_in_a_run_is_detected(run_copy: Path) -> None:
    files = sorted(p for p in run_copy.rglob("*") if p.is_file())
    assert len(files) > 10 and any(p.name == SEAL_NAME for p in files)
    for path in files:
        original = path.read_bytes()
        if not original:
            continue
        for offset in {0, len(original) // 2, len(original) - 1}:
            changed = bytearray(original)
            changed[offset] ^= 0x01
            path.write_bytes(bytes(changed))
            problems, _ = verify_run(run_copy)
            assert problems, f"{path.relative_to(run_copy)} byte {offset} changed unnoticed"
        path.write_bytes(original)
    assert verify_run(run_copy)[0] == []


def test_files_added_or_removed_after_the_seal_are_detected(run_copy: Path) -> None:
    (run_copy / "exchanges" / "extra.xml").write_bytes(b"<x/>")
    removed = next((run_copy / "progress").glob("*.json"))
    removed.unlink()
    problems, _ = verify_run(run_copy)
    assert any("extra.xml : ajouté" in p for p in problems)
    assert any(f"{removed.name} : scellé mais absent" in p for p in problems)


def test_a_run_resealed_with_another_key_is_refused_against_the_declared_signer(
    run_copy: Path, other_key: None
) -> None:
    declared = json.loads((run_copy / "report.json").read_text(encoding="utf-8"))["sealed_by"]
    report = json.loads((run_copy / "report.json").read_text(encoding="utf-8"))
    report["summary"]["non_conforme"] = 0
    (run_copy / "report.json").write_text(json.dumps(report), encoding="utf-8")
    write_seal(run_copy)  # the attacker's own, valid, signature
    problems, signer = verify_run(run_copy)
    assert problems == [] and signer != declared  # intact for *some* key: the fingerprint is what tells them apart
    problems, _ = verify_run(run_copy, expected_signer=declared)
    assert any("non par la clé attendue" in p for p in problems)
    result = runner.invoke(app, ["verify", str(run_copy), "--signer", declared])
    assert result.exit_code == 3, result.output


def test_a_seal_edited_without_the_key_is_refused(run_copy: Path) -> None:
    seal = json.loads((run_copy / SEAL_NAME).read_text(encoding="utf-8"))
    (run_copy / "report.json").write_text("{}", encoding="utf-8")
    seal["files"]["report.json"] = __import__("hashlib").sha256(b"{}").hexdigest()
    (run_copy / SEAL_NAME).write_text(json.dumps(seal), encoding="utf-8")
    problems, signer = verify_run(run_copy)
    assert signer is None and any("signature invalide" in p for p in problems)


def test_an_unsealed_run_is_not_called_intact(run_copy: Path) -> None:
    (run_copy / SEAL_NAME).unlink()
    problems, _ = verify_run(run_copy)
    assert any("pas été scellée" in p for p in problems)


@pytest.fixture
def bundle(sealed_run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    assert runner.invoke(app, ["export", str(sealed_run), "--bundle", str(target)]).exit_code == 0
    return target


def test_an_exported_bundle_is_signed_and_verifies(bundle: Path, sealed_run: Path) -> None:
    manifest = yaml.safe_load((bundle / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["journal_head"] == journal_head(sealed_run)
    problems, signer = bundle_manifest_problems(bundle)
    assert problems == [] and signer == signing.user_fingerprint()
    result = runner.invoke(app, ["verify", str(bundle)])
    assert result.exit_code == 0 and signer in result.output, result.output


def test_any_single_byte_changed_in_a_bundle_is_detected(bundle: Path) -> None:
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(original) // 2] ^= 0x01
        path.write_bytes(bytes(changed))
        assert bundle_manifest_problems(bundle)[0], f"{path.relative_to(bundle)} changed unnoticed"
        path.write_bytes(original)


def test_a_bundle_rewritten_with_its_manifest_is_refused_by_replay(bundle: Path, tmp_path: Path) -> None:
    import hashlib

    har = bundle / "exchanges.har"
    har.write_bytes(har.read_bytes().replace(b"CR", b"XX", 1))
    manifest = yaml.safe_load((bundle / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["files"]["exchanges.har"] = hashlib.sha256(har.read_bytes()).hexdigest()
    (bundle / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    result = runner.invoke(app, ["replay", str(bundle), "--out", str(tmp_path / "replays")])
    assert result.exit_code == 3 and "signature invalide" in result.output, result.output
    # Without its signature the bundle is replayed, and the report says nobody vouches for it.
    (bundle / "manifest.sig.json").unlink()
    assert bundle_manifest_problems(bundle) == ([], UNSIGNED)
    assert runner.invoke(app, ["verify", str(bundle)]).exit_code == 3
    result = runner.invoke(app, ["replay", str(bundle), "--out", str(tmp_path / "replays")])
    assert result.exit_code in (0, 1), result.output
    replay_dir = next(d for d in (tmp_path / "replays").iterdir() if (d / "report.json").is_file())
    report = json.loads((replay_dir / "report.json").read_text(encoding="utf-8"))
    assert report["source_signer"] == UNSIGNED
    assert "lot non signé" in (replay_dir / "report.html").read_text(encoding="utf-8")


def test_report_lists_an_intact_runs_reports(sealed_run: Path) -> None:
    result = runner.invoke(app, ["report", str(sealed_run)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output and "junit.xml" in result.output


def test_report_refuses_to_print_an_altered_run(run_copy: Path, tmp_path: Path) -> None:
    """An altered report must not come out as a clean-looking PDF."""
    html = run_copy / "report.html"
    html.write_text(html.read_text(encoding="utf-8").replace("Non conforme", "Conforme"), encoding="utf-8")
    pdf = tmp_path / "rapport.pdf"
    result = runner.invoke(app, ["report", str(run_copy), "--pdf", "--output", str(pdf)])
    assert result.exit_code == 3
    assert "report.html" in result.output and "altéré" in result.output
    assert not pdf.exists()


def test_report_pdf_without_chromium_says_what_to_do(
    sealed_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGUR_BENCH_CHROMIUM", str(tmp_path / "no-such-browser"))
    pdf = tmp_path / "rapport.pdf"
    result = runner.invoke(app, ["report", str(sealed_run), "--pdf", "--output", str(pdf)])
    assert result.exit_code == 3
    assert "Chromium introuvable" in result.output and "apt-get install chromium" in result.output
    assert not pdf.exists()


def test_report_never_writes_into_the_sealed_folder(sealed_run: Path) -> None:
    result = runner.invoke(app, ["report", str(sealed_run), "--pdf", "--output", str(sealed_run / "rapport.pdf")])
    assert result.exit_code == 2 and "scellé" in result.output
    assert not (sealed_run / "rapport.pdf").exists()


def test_report_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path), "--pdf"])
    assert result.exit_code == 2
    assert "pas de report.html" in result.output
