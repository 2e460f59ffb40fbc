"""Large field captures: streamed, judged in chunks locally, on a process pool or a local Dask cluster; same counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.replay.generate import generate_bundle
from bench.replay.scale import replay_capture


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
    local = replay_capture(capture, engine="local", chunk_size=250)
    pooled = replay_capture(capture, engine="process", workers=2, chunk_size=250)
    distributed = replay_capture(capture, engine="dask", scheduler=dask_scheduler, workers=2, chunk_size=250)
    assert local.exchanges == pooled.exchanges == distributed.exchanges == 3000
    assert local.counts == pooled.counts == distributed.counts
    failures = sum(
        count
        for (requirement, _check, outcome), count in local.counts.items()
        if requirement == "INS-006" and outcome == "fail"
    )
    assert failures == 3000 // 20  # a wrong key every 20th exchange
    assert all("clé erronée" in message for _x, _c, _o, message in local.failures)


def test_cli_replays_a_field_capture_with_pseudonymised_report(capture: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(capture), "--engine", "process", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output  # the wrong keys are non-conformities of INS-006
    assert "3000 échanges rejoués" in result.stdout
    report = next(tmp_path.glob("*/report.json")).read_text(encoding="utf-8")
    assert '"identities": "pseudonymisees"' in report and "2900199000019" not in report
    assert CliRunner().invoke(app, ["replay", str(capture), "--engine", "dask"]).exit_code == 3  # no scheduler
