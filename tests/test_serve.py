"""`segur-bench serve` as real software would meet it: a separate process, endpoints printed, mutual TLS, Ctrl-C."""

from __future__ import annotations

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
    process = subprocess.Popen(
        [sys.executable, "-c", "from bench.cli import main; main()", "serve", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if "INSi" in line:
                url = line.split(" : ", 1)[1].strip()
        assert url and url.startswith("https://127.0.0.1:")
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
