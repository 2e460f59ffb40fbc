"""`pytest --segur-candidate=...` runs the bench's scenarios as test items, with Allure labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--segur-candidate=reference",
            "--segur-scenario=INS-SC-05",
            "--segur-scenario=INS-SC-08",
            f"--segur-out={tmp_path / 'runs'}",
            f"--alluredir={tmp_path / 'allure'}",
            "-v",
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_scenarios_run_as_items_with_allure_labels(tmp_path: Path) -> None:
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "INS-SC-05 PASSED" in result.stdout and "INS-SC-08 PASSED" in result.stdout
    assert "2 passed" in result.stdout and "segur-bench : rapport" in result.stdout
    assert list((tmp_path / "runs").glob("*/report.html"))
    results = [json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-result.json")]
    by_name = {r["name"].split(" ")[0]: r for r in results}
    labels = {(label["name"], label.get("value")) for label in by_name["INS-SC-08"]["labels"]}
    assert {("epic", "INS"), ("epic", "CDA (CI-SIS)"), ("feature", "INS-005"), ("feature", "CDA-003")} <= labels
    assert any(label[0] == "story" and label[1].startswith("INS-SC-08") for label in labels)
    steps = by_name["INS-SC-08"]["steps"]
    assert [s["name"].split(" ")[0] for s in steps][:2] == ["p1-register", "p1-search"]
    assert any(step.get("attachments") for step in steps)


def test_a_defect_fails_its_item_with_the_findings(tmp_path: Path) -> None:
    result = _pytest(tmp_path, "--segur-defect=ins.share_unqualified")
    assert result.returncode == 1
    assert "INS-SC-08 FAILED" in result.stdout and "INS-SC-05 PASSED" in result.stdout
    assert "INS-005 fail: le document transmet l'INS 2900499••••••••" in result.stdout
    assert "290049935001718" not in result.stdout  # no matricule in clear in CI logs
