"""Large field captures: streamed, judged in chunks locally, on a process pool or a local Dask cluster; same counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.replay.generate import generate_bundle
from bench.replay.scale import ScaleResult, replay_capture


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_bundle(tmp_path_factory.mktemp("capture") / "capture.zip", 3000)


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_engines_agree(capture: Path, dask_scheduler: str) -> None:
    # The generated capture is test data (test INS OIDs): judged as a test platform's capture.
    local = replay_capture(capture, engine="local", chunk_size=250, test_mode=True)
    pooled = replay_capture(capture, engine="process", workers=2, chunk_size=250, test_mode=True)
    distributed = replay_capture(
        capture, engine="dask", scheduler=dask_scheduler, workers=2, chunk_size=250, test_mode=True
    )
    assert local.exchanges == pooled.exchanges == distributed.exchanges == 3000
    assert local.counts == pooled.counts == distributed.counts
    failures = sum(
        count
        for (requirement, _check, outcome), count in local.counts.items()
        if requirement == "INS-006" and outcome == "fail"
    )
    assert failures == 3000 // 50 // 20  # a document every 50 exchanges, a wrong INS key every 20th document
    assert all("clé erronée" in message for _x, _c, _o, message in local.failures)
    # Judged as production data (the default for field captures), every test OID is a finding of both checks.
    production = replay_capture(capture, engine="local", chunk_size=250)
    # One finding per document for its test OID, plus one for each of the three wrong keys.
    assert production.counts[("CDA-003", "cda.record_target", "fail")] == 3000 // 50 + 3


def test_cli_replays_a_field_capture_with_pseudonymised_report(capture: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(capture), "--engine", "process", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output  # the wrong keys are non-conformities of INS-006
    assert "3000 échanges rejoués" in result.stdout
    report = next(tmp_path.glob("*/report.json")).read_text(encoding="utf-8")
    assert '"identities": "pseudonymisees"' in report and "2900199000001" not in report  # the second document's NIR
    assert CliRunner().invoke(app, ["replay", str(capture), "--engine", "dask"]).exit_code == 3  # no scheduler


@pytest.fixture(scope="module")
def dmp_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DMP run exported, then stripped of everything the bench added: what a proxy in the field would catch."""
    import json

    out = tmp_path_factory.mktemp("dmp-runs")
    ran = CliRunner().invoke(app, ["run", "--out", str(out), "--scenario", "DMP-SC-01", "--scenario", "DMP-SC-03"])
    assert ran.exit_code == 0, ran.output
    bundle = tmp_path_factory.mktemp("dmp-capture") / "capture"
    exported = CliRunner().invoke(app, ["export", str(next(out.iterdir())), "--bundle", str(bundle)])
    assert exported.exit_code == 0, exported.output
    har = json.loads((bundle / "exchanges.har").read_text(encoding="utf-8"))
    for entry in har["log"]["entries"]:
        entry.pop("_segurBench", None)
    field = tmp_path_factory.mktemp("field") / "capture"
    field.mkdir()
    (field / "exchanges.har").write_text(json.dumps(har), encoding="utf-8")
    return field


def _dmp_counts(result: ScaleResult) -> dict[tuple[str, str, str], int]:
    counts = result.counts
    return {key: n for key, n in counts.items() if key[0].startswith("DMP-")}


def test_dmp_exchanges_of_a_field_capture_are_identified_and_judged(dmp_capture: Path) -> None:
    result = replay_capture(dmp_capture, engine="local")
    counts = _dmp_counts(result)
    assert counts[("DMP-003", "dmp.vihf", "pass")] >= 5  # TD0.2, feeds, ITI-57: each VIHF judged from its bytes
    # Four feeds: DMP-SC-01's document and its historical one, DMP-SC-03's document and its new version.
    assert counts[("DMP-004", "dmp.metadata_complete", "pass")] == 4
    assert counts[("DMP-005", "dmp.metadata_consistent", "pass")] == 4
    # DMP-035 needs the PSC sign-in, which a DMP-only capture does not hold: not judged, never passed or failed;
    # DMP-037 is about imaging reports, which a GP's capture does not feed.
    unjudged = {("DMP-035", "psc.dmp_identity", "omit"), ("DMP-037", "dmp.imaging_references", "omit")}
    assert not [key for key in counts if key[2] != "pass" and key not in unjudged]
    assert _dmp_counts(replay_capture(dmp_capture, engine="local", key=b"user key")) == counts  # same verdicts


def test_a_tampered_vihf_in_a_field_capture_fails_dmp_003(dmp_capture: Path, tmp_path: Path) -> None:
    text = (dmp_capture / "exchanges.har").read_text(encoding="utf-8")
    tampered = tmp_path / "capture"
    tampered.mkdir()
    (tampered / "exchanges.har").write_text(text.replace("HOMOLOGATION-DMP-TEST-0001", "HOMOLOGATION-PIRATE"))
    result = replay_capture(tampered, engine="local", key=b"user key")
    assert result.counts[("DMP-003", "dmp.vihf", "fail")] >= 5
    assert all("signature invalide" in message for _x, check, _o, message in result.failures if check == "dmp.vihf")
