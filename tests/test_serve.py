"""`segur-bench serve` as real software would meet it: a separate process, endpoints printed, mutual TLS, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulators.common.journal import read_journal
from simulators.common.pki import BenchPki
from simulators.insi.messages import read_result
from tests.simulators.insi_requests import HEADERS, search_traits


def test_serve_prints_endpoints_answers_and_stops_cleanly(tmp_path: Path, pki: BenchPki) -> None:
    described = tmp_path / "endpoints.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bench.cli import main; main()",
            "serve",
            "--out",
            str(tmp_path),
            "--json",
            str(described),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},  # a pipe, 80 columns: nothing may wrap
    )
    try:
        assert process.stdout is not None
        url = None
        printed: list[str] = []
        deadline = time.monotonic() + 20
        while not any(line.startswith("Ctrl-C") for line in printed) and time.monotonic() < deadline:
            printed.append(process.stdout.readline())
        url = next(line.split(" : ", 1)[1].strip() for line in printed if "INSi" in line)
        assert url.startswith("https://127.0.0.1:")
        # One line per endpoint, implicit-TLS listeners included, and the password whole on its line.
        endpoints = json.loads(described.read_text(encoding="utf-8"))["endpoints"]
        for key in ("insi_url", "dmp_url", "mss_smtp_url", "mss_smtps_url", "mss_imap_url", "mss_imaps_url",
                    "psc_discovery_url", "psc_ciba_control", "psc_sessions_control", "psc_id_token_probe"):  # fmt: skip
            assert any(line.rstrip("\n").endswith(" : " + endpoints[key]["value"]) for line in printed), key
        password = endpoints["mss_password"]["value"]
        assert any(line.rstrip("\n").endswith(" : " + password) for line in printed)
        with httpx.Client(verify=pki.client_context(), timeout=10) as client:
            response = client.post(
                url, content=search_traits("SANTONI", "MARIE-PAULE", "F", "1955-02-10"), headers=HEADERS
            )
        assert read_result(response.content).cr == "00"
        process.send_signal(signal.SIGINT)
        remaining, _ = process.communicate(timeout=20)
        assert process.returncode == 0
        assert "1 échange(s) enregistré(s)" in remaining
    finally:
        if process.poll() is None:
            process.kill()
    run_dirs = list(tmp_path.glob("serve-*"))
    assert len(run_dirs) == 1 and [x.outcome for x in read_journal(run_dirs[0])] == ["CR00"]
