"""Replay identifies exchanges from their bytes: a bundle's own label (the HAR's ``_segurBench.transaction``, a mail
sidecar's ``transaction``) never hides an exchange from the checks that look for it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.catalogue.loader import Catalogue
from bench.cli import app
from bench.replay.engine import replay_bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["run", "--out", str(out), "--scenario", "DMP-SC-01", "--scenario", "MSS-SC-01"])
    assert result.exit_code == 0, result.output
    run = next(out.iterdir())
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    bundle = out.parent / "bundle"
    assert runner.invoke(app, ["export", str(run), "--bundle", str(bundle)]).exit_code == 0
    return bundle, verdicts


def _unsigned_copy(bundle: Path, tmp_path: Path) -> Path:
    """A copy edited by hand: its manifest no longer applies, so it goes (a bundle without manifest is replayed)."""
    copy = tmp_path / "edited"
    shutil.copytree(bundle, copy)
    (copy / "manifest.yaml").unlink()
    (copy / "manifest.sig.json").unlink()
    return copy


@pytest.mark.parametrize("label", ["dmp.iti18", "dmp.invalid", "dmp.tls_refused", "toy.nothing", "dmp.colleague_feed"])
def test_a_relabelled_feed_is_still_judged_as_a_feed(
    exported: tuple[Path, dict[str, str]], catalogue: Catalogue, tmp_path: Path, label: str
) -> None:
    """Even posted to the path of the bench's colleague feeds (never judged), an ITI-41 is the candidate's feed."""
    from bench.domains.dmp import COLLEAGUE_FEED_PATH

    bundle, verdicts = exported
    copy = _unsigned_copy(bundle, tmp_path)
    har_path = copy / "exchanges.har"
    har = json.loads(har_path.read_text(encoding="utf-8"))
    feeds = [e for e in har["log"]["entries"] if e["_segurBench"]["transaction"] == "dmp.iti41"]
    assert feeds
    for entry in feeds:
        entry["_segurBench"]["transaction"] = label
        if label == "dmp.colleague_feed":
            entry["request"]["url"] = f"https://dmp.segur-bench.invalid{COLLEAGUE_FEED_PATH}"
    har_path.write_text(json.dumps(har), encoding="utf-8")
    replayed = replay_bundle(copy, tmp_path / "replay", catalogue)
    assert sum(x.transaction == "dmp.iti41" for x in replayed.imported.exchanges) == len(feeds)
    assert any(f"étiquette {label!r} contredite par les octets (dmp.iti41)" in p for p in replayed.imported.problems)
    again = {r.id: r.verdict for r in replayed.result.requirements}
    dmp = [k for k in verdicts if k.startswith("DMP")]
    assert [again[k] for k in dmp] == [verdicts[k] for k in dmp]


def test_a_relabelled_mail_record_is_read_from_its_bytes(
    exported: tuple[Path, dict[str, str]], catalogue: Catalogue, tmp_path: Path
) -> None:
    bundle, _ = exported
    copy = _unsigned_copy(bundle, tmp_path)
    sessions = messages = 0
    for sidecar in sorted((copy / "mss").glob("*.json")):
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        if record["transaction"] == "mss.smtp.session":
            record["transaction"] = "mss.imap.logout"  # bytes: an SMTP transcript
            sessions += 1
        elif record["transaction"] == "mss.smtp.message":
            record["transaction"] = "mss.imap.noop"  # bytes: an RFC 5322 message, which no IMAP command record carries
            messages += 1
        sidecar.write_text(json.dumps(record), encoding="utf-8")
    assert sessions and messages
    replayed = replay_bundle(copy, tmp_path / "replay", catalogue)
    transactions = [x.transaction for x in replayed.imported.exchanges]
    assert transactions.count("mss.smtp.session") == sessions and "mss.imap.logout" not in transactions
    assert "mss.imap.noop" not in transactions  # refused, and said: never imported under a label its bytes deny
    assert sum("'mss.imap.noop' contredite par les octets" in p for p in replayed.imported.problems) == messages
