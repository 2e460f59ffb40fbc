"""The catalogue is found from a checkout and from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench import paths

REPO = Path(__file__).resolve().parent.parent


def test_checkout_content_root() -> None:
    assert paths.content_root() == REPO


def test_content_root_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEGUR_BENCH_CONTENT", str(tmp_path))
    assert paths.content_root() == tmp_path


def test_wheel_ships_the_catalogue(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0 and "hatchling" in built.stderr:
        pytest.skip("hatchling is not installed in this environment: cannot build the wheel offline")
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("segur_bench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bench/content/requirements/ins.yaml" in names
    assert "bench/content/scenarios/ins/sc01-qualification-traits.yaml" in names
    assert "simulators/insi/identities.yaml" in names and "reports/templates/report.html.j2" in names
