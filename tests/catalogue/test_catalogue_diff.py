"""`segur-bench catalogue diff`: what a new catalogue release changes, requirement by requirement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from bench.catalogue.diff import diff_catalogues
from bench.cli import app
from bench.paths import content_root


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / "requirements"
    shutil.copytree(content_root() / "requirements", target)
    return target.parent


def test_identical_catalogues_have_no_change(tmp_path: Path) -> None:
    assert diff_catalogues(_copy(tmp_path, "a"), _copy(tmp_path, "b")).empty


def test_added_removed_reworded_renumbered_and_changed_are_told_apart(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    dmp = new / "requirements" / "dmp.yaml"
    text = dmp.read_text(encoding="utf-8")
    text = text.replace("- id: DMP-013\n", "- id: DMP-099\n")  # renumbered (same statement, same official ids)
    text = text.replace("dont le certificat ne se vérifie pas.", "dont le certificat n'est pas vérifiable.")
    text = text.replace("criticality: critical\n", "criticality: major\n", 1)  # DMP-002's criticality
    dmp.write_text(text, encoding="utf-8")
    sec = new / "requirements" / "sec.yaml"
    blocks = sec.read_text(encoding="utf-8").split("\n- id: ")
    sec.write_text("\n- id: ".join(blocks[:-1]) + "\n", encoding="utf-8")  # the last SEC requirement removed
    removed = blocks[-1].split("\n", 1)[0]
    mss = new / "requirements" / "mss.yaml"
    last = mss.read_text(encoding="utf-8").split("\n- id: ")[-1]  # a copy of the last MSS requirement, as a new one
    added = last.replace(last.split("\n", 1)[0], "MSS-099", 1).replace(
        "statement: ", "statement: Nouvelle exigence. ", 1
    )
    mss.write_text(mss.read_text(encoding="utf-8") + "- id: " + added, encoding="utf-8")

    changes = diff_catalogues(old, new)
    assert [(a.id, b.id) for a, b in changes.renumbered] == [("DMP-013", "DMP-099")]
    assert [a.id for a, _b in changes.reworded] == ["DMP-012"]
    assert ("DMP-002", ["criticality"]) in changes.changed
    assert [r.id for r in changes.removed] == [removed]
    assert [r.id for r in changes.added] == ["MSS-099"]

    shown = CliRunner().invoke(app, ["catalogue", "diff", str(old), str(new), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["renumbered"] == [{"old": "DMP-013", "new": "DMP-099"}]


def test_a_broken_catalogue_is_reported_with_its_location(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    (new / "requirements" / "ins.yaml").write_text("requirements:\n  - id: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["catalogue", "diff", str(old), str(new)])
    assert result.exit_code == 2
    assert "ins.yaml:" in result.output
