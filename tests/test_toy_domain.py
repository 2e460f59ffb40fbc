"""A domain added from a test folder only runs end to end: catalogue, simulator, action through a real adapter,
check, verdict, export and replay; and nothing of the project had to change for it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.candidates.command import CommandAdapter
from bench.catalogue.loader import load_catalogue
from bench.domains import registry as domains
from bench.paths import content_root
from bench.replay.bundle import export_run
from bench.replay.engine import replay_bundle
from bench.runner.engine import Campaign, CampaignOptions
from simulators.common.journal import read_journal
from simulators.common.pki import BenchPki
from tests.toy_domain import DOMAIN

PING = Path(__file__).parent / "toy_domain" / "ping.py"


@pytest.fixture
def toy() -> Iterator[None]:
    with domains.added(DOMAIN):
        yield


def _verdict(word: str, pki: BenchPki, run_dir: Path) -> tuple[str, str]:
    catalogue = load_catalogue(content_root())
    scenario = catalogue.scenarios["TOY-SC-01"]
    # The same scenario, saying another word, is what a wrong software would do.
    if word != "ping":
        scenario.steps[0].params["word"] = word
    adapter = CommandAdapter({"ping_toy": f"{sys.executable} {PING}"})
    options = CampaignOptions(profile="medecin-ville", scenario_ids=["TOY-SC-01"])
    result = Campaign(catalogue, adapter, options, run_dir, pki).run()
    toy = next(r for r in result.requirements if r.id == "TOY-001")
    bundle = export_run(run_dir, run_dir.parent / f"{run_dir.name}-bundle")
    replayed = replay_bundle(bundle, run_dir.parent / f"{run_dir.name}-replay", catalogue)
    again = next(r for r in replayed.result.requirements if r.id == "TOY-001")
    assert not replayed.imported.problems
    return toy.verdict, again.verdict


def test_a_toy_domain_runs_end_to_end_and_replays_identically(toy: None, pki: BenchPki, tmp_path: Path) -> None:
    assert _verdict("ping", pki, tmp_path / "good") == ("conforme", "conforme")
    exchanges = read_journal(tmp_path / "good")
    assert [(x.channel, x.transaction) for x in exchanges] == [("toy", "toy.ping")]
    assert exchanges[0].peer["tls"] is True  # a real TLS socket, the bench's client certificate


def test_the_toy_check_fails_a_wrong_word_with_its_requirement(toy: None, pki: BenchPki, tmp_path: Path) -> None:
    assert _verdict("pong", pki, tmp_path / "bad") == ("non_conforme", "non_conforme")


def test_the_toy_domain_leaves_nothing_behind(pki: BenchPki) -> None:
    with domains.added(DOMAIN):
        assert "TOY-001" in load_catalogue(content_root()).requirements
    catalogue = load_catalogue(content_root())
    assert "TOY-001" not in catalogue.requirements and "TOY-SC-01" not in catalogue.scenarios
    assert "toy" not in domains.channels()
