"""Shared fixtures: one test PKI per session (key generation is the slow part), the loaded catalogue, and a
running INSi simulator on a real loopback socket."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.catalogue.loader import Catalogue, load_catalogue
from bench.paths import content_root
from bench.runner.simulators import SimulatorHub
from bench.validation.packs import ValidationPack, find_packs
from simulators.common.pki import BenchPki, ensure_pki

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def bench_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("segur-bench-home")
    previous = os.environ.get("SEGUR_BENCH_HOME")
    os.environ["SEGUR_BENCH_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("SEGUR_BENCH_HOME", None)
    else:
        os.environ["SEGUR_BENCH_HOME"] = previous


@pytest.fixture(scope="session")
def pki(bench_home: Path) -> BenchPki:
    return ensure_pki(bench_home / "pki")


SHARED_PACK = REPO.parent / "shared" / "data" / "ci-sis"


@pytest.fixture(scope="session")
def ci_sis_pack() -> ValidationPack | None:
    """ANS's validation pack from ../shared when present (tests that need it say so when they skip)."""
    packs = find_packs([SHARED_PACK]) if SHARED_PACK.is_dir() else []
    return packs[0] if packs else None


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(content_root())


@pytest.fixture
def hub(tmp_path: Path, pki: BenchPki) -> Iterator[SimulatorHub]:
    with SimulatorHub(tmp_path / "run", pki) as running:
        yield running
