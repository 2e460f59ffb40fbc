"""`segur-bench perf` runs end to end on small sizes and writes every figure as JSON (the figures themselves are not
asserted: speed targets live in the benchmark, never in timed tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.validation.packs import ValidationPack


def test_perf_writes_every_figure_with_its_machine(tmp_path: Path) -> None:
    target = tmp_path / "perf.json"
    arguments = ["perf", "--round-trips", "5", "--cda-documents", "5", "--peer-documents", "0"]
    arguments += ["--replay-exchanges", "0", "--dmp-feeds", "0", "--mss-messages", "0", "--no-hostile"]
    arguments += ["--psc-tokens", "3"]
    result = CliRunner().invoke(app, [*arguments, "--json", str(target)])
    assert result.exit_code == 0, result.output
    figures = json.loads(target.read_text(encoding="utf-8"))
    assert figures["machine"]["cores"] >= 1 and figures["campaign_insi"]["insi_round_trips"] == 5
    assert figures["cda"]["documents"] == 5 and figures["cda"]["check_one_s"] > 0
    assert figures["psc_tokens"]["tokens"] == 3 and figures["psc_tokens"]["xoauth2_sessions_per_s"] > 0


def test_peers_run_the_schematron_of_each_document_s_own_volet(ci_sis_pack: ValidationPack | None) -> None:
    from bench.perf.peers import schematron_figures

    if ci_sis_pack is None:
        pytest.skip("no CI-SIS validation pack in ../shared")
    figures = schematron_figures(ci_sis_pack, copies=2, repeats=1)
    volets = {f.what.split(" sur ")[0] for f in figures}
    # Each official example is judged by its own volet (the old peer ran VSM's on a VAC document).
    assert {"schématron CI-SIS_VAC_2023.01", "schématron CI-SIS_ANEST-CR-CPA_2022.01"} <= volets
    assert all(f.bench_per_s.median > 0 for f in figures)


def test_the_readme_table_is_written_from_the_json_figures() -> None:
    from bench.perf.table import markdown

    spread = {"low": 1, "median": 2, "high": 3}
    peer = {"what": "schématron V", "documents": 2, "bench": "b", "bench_per_s": spread, "peer": "Saxon"}
    peer |= {"peer_per_s": {"low": 1, "median": 1, "high": 1}, "ratio": spread, "note": ""}
    cda = {"documents": 10, "rules_xsd_per_s": 1.0, "check_folder_s": 1.0, "check_folder_peak_rss_mib": 9.0}
    cda |= {"check_one_s": 0.3, "with_xsd": True}
    machine = {"date": "2026-11-29", "cores": 2, "cpu": "X", "python": "3.11"}
    table = markdown({"machine": machine, "cda": cda, "peers": [peer]})
    assert "Mesuré le 2026-11-29 : 2 cœurs" in table
    assert "| schématron V, 2 copies | 2 (1–3) documents/s | Saxon : 1 (1–1) documents/s | 2 (1–3) |" in table
