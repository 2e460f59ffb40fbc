"""Archives from hostile sources: every reader (``check``, run-bundle replay, streamed field-capture replay) stops a
zip bomb, overlapping entries and too many members before inflating them, and says so; deep nesting is a finding.
Peak memory on these files is measured by ``segur-bench perf`` (bench/perf/bombs.py), not asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.artifacts import check_file
from bench.cli import app
from bench.perf.bombs import write_bomb_set
from bench.replay.scale import replay_capture

runner = CliRunner()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {path.name: path for path in write_bomb_set(tmp_path_factory.mktemp("bombs"))}


def _messages(path: Path) -> str:
    return " | ".join(f.message for report in check_file(path, None) for f in report.findings)


def test_check_refuses_a_deflate_bomb_before_inflating_it(bombs: dict[str, Path]) -> None:
    assert "taux de compression d'une bombe zip" in _messages(bombs["deflate-bomb.zip"])


def test_check_stops_overlapping_entries_at_the_archive_budget(bombs: dict[str, Path]) -> None:
    reports = check_file(bombs["overlapping-entries.zip"], None)
    messages = " | ".join(f.message for report in reports for f in report.findings)
    assert "lecture arrêtée" in messages and "entrées superposées" in messages
    judged = [r for r in reports if "!/" in str(r.path)]
    # The budget (200 times the archive's size) lets through a few copies of the 1 MiB member, never 4,000.
    assert 0 < len(judged) < 200


def test_check_refuses_too_many_members_and_deep_mime(bombs: dict[str, Path]) -> None:
    assert "au-delà de 10000" in _messages(bombs["many-members.zip"])
    assert "imbriquée trop profondément" in _messages(bombs["deep-mime.eml"])


@pytest.mark.parametrize("name", ["deflate-bomb.zip", "overlapping-entries.zip"])
def test_streamed_replay_reports_bombs_and_judges_nothing_from_them(bombs: dict[str, Path], name: str) -> None:
    scale = replay_capture(bombs[name])
    assert scale.exchanges == 0 and any(("bombe" in p) for p in scale.problems), scale.problems


def test_replay_of_what_is_not_a_bundle_is_an_unreadable_input(bombs: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(bombs["deep-mime.eml"]), "--out", str(tmp_path)])
    said = " ".join(result.output.split())  # the console wraps long paths at its width
    assert result.exit_code == 2 and "ni dossier ni archive zip" in said, result.output


def test_a_deep_yaml_manifest_is_refused_not_a_traceback(bombs: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(bombs["manifest.yaml"].parent), "--out", str(tmp_path)])
    assert result.exit_code == 3 and "manifest.yaml" in result.output, result.output
    assert isinstance(result.exception, SystemExit)  # a refusal, not a crash
