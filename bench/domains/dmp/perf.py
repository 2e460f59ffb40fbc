"""DMP benchmark: ITI-41 feeds of 100 KB documents over mutual TLS, one client then 16 concurrent clients.

The simulator runs in its own process (as it would for a vendor's software), so the clients' work does not share its
interpreter. Each client signs one VIHF and reuses it within its validity, as real software does; submissions are
built before the clock starts: what is measured is the DMP's answer (parse MTOM, verify the VIHF signature, store in
SQLite, journal the evidence) and the network round trip.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCUMENT_BYTES = 100 * 1024


@dataclass(frozen=True)
class DmpFigures:
    feeds: int
    document_kib: int
    sequential_per_s: float
    concurrent_clients: int
    concurrent_per_s: float
    concurrent_p50_ms: float
    concurrent_p95_ms: float
    failures: int


def _serve(pki_dir: str, run_dir: str, ready: Any, stop: Any) -> None:
    from bench.domains.dmp.simulators import DmpSimulators
    from bench.runner.simulators import SimulatorHub
    from simulators.common.pki import ensure_pki

    with SimulatorHub(Path(run_dir), ensure_pki(Path(pki_dir))) as hub:
        ready.put(hub.of("dmp", DmpSimulators).url)
        stop.wait()


def _padded_document() -> bytes:
    """A 100 KB consultation report (each has its own id; a trailing comment brings it to size)."""
    from bench.fixtures.documents import SAMPLE_PATIENT, build_cda

    document = build_cda("consultation-report", SAMPLE_PATIENT)
    return document + b"<!--" + b"x" * max(0, DOCUMENT_BYTES - len(document) - 7) + b"-->"


Prepared = tuple[Any, list[tuple[Any, bytes]]]  # one client's VIHF and its (submission, document) pairs


def _prepare(url: str, pki_dir: str, documents: list[bytes]) -> Prepared:
    """A client's signed VIHF and ITI-41 submissions, built before the clock starts."""
    from bench.candidates.reference.dmp_practice import DmpPatient, DmpPractice
    from bench.fixtures.documents import SAMPLE_PATIENT, Practitioner
    from bench.fixtures.xds import SubmissionContext, provide_and_register
    from simulators.common.pki import ensure_pki

    practice = DmpPractice(_environment(url, ensure_pki(Path(pki_dir))), frozenset(), Practitioner())
    patient = DmpPatient(SAMPLE_PATIENT.ins_matricule or "", SAMPLE_PATIENT.ins_oid or "", "REF000001")
    vihf = practice._vihf(patient)  # one assertion per client, reused within its validity
    practice.close()
    context = SubmissionContext(source_id="1.2.250.1.999.1.3")
    return vihf, [(provide_and_register(d, context), d) for d in documents]


def _client_work(url: str, pki_dir: str, prepared: Prepared, latencies: list[float], failures: list[str]) -> None:
    from bench.candidates.reference.dmp_client import DmpClient, DmpRefused, DmpUnavailable
    from simulators.common.pki import ensure_pki

    vihf, submissions = prepared
    try:
        client = DmpClient(url, ensure_pki(Path(pki_dir)).client_context(), timeout=30)
    except Exception as exc:  # a broken client is a failed measure, said in the figures
        failures.append(f"{type(exc).__name__}: {exc}")
        return
    try:
        for submission, document in submissions:
            clock = time.perf_counter()
            try:
                client.call("iti41", submission.body, vihf, (submission.document_cid, document))
            except (DmpRefused, DmpUnavailable) as exc:
                failures.append(str(exc))
            latencies.append(time.perf_counter() - clock)
    finally:
        client.close()


def _environment(url: str, pki: Any) -> Any:
    from bench.candidates.base import Environment

    return Environment(
        client_tls=pki.client_context(),
        ca_file=str(pki.ca.cert),
        client_cert_file=str(pki.client.cert),
        client_key_file=str(pki.client.key),
        endpoints={"dmp_url": url},
    )


def _run_clients(url: str, pki_dir: str, batches: list[list[bytes]]) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    prepared = [_prepare(url, pki_dir, batch) for batch in batches]
    threads = [threading.Thread(target=_client_work, args=(url, pki_dir, one, latencies, failures)) for one in prepared]
    clock = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - clock, latencies, failures


def measure_dmp(pki_dir: Path, feeds: int = 1000, clients: int = 16) -> DmpFigures:
    """Feeds per second, sequential and with ``clients`` concurrent clients, and the latter's p50/p95 latency."""
    documents = [_padded_document() for _ in range(feeds)]
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-dmp-") as tmp:
        server = context.Process(target=_serve, args=(str(pki_dir), str(Path(tmp) / "run"), ready, stop), daemon=True)
        server.start()
        try:
            url = ready.get(timeout=60)
            sequential = feeds // 4
            wall, _lat, failures = _run_clients(url, str(pki_dir), [documents[:sequential]])
            sequential_rate = sequential / wall
            rest = documents[sequential:]
            batches = [rest[i::clients] for i in range(clients)]
            concurrent_wall, latencies, more = _run_clients(url, str(pki_dir), batches)
            failures += more
        finally:
            stop.set()
            server.join(timeout=30)
    latencies.sort()
    if not latencies:
        raise RuntimeError(f"aucune alimentation mesurée : {failures[:1]}")
    return DmpFigures(
        feeds=feeds,
        document_kib=DOCUMENT_BYTES // 1024,
        sequential_per_s=round(sequential_rate, 1),
        concurrent_clients=clients,
        concurrent_per_s=round(len(rest) / concurrent_wall, 1),
        concurrent_p50_ms=round(statistics.median(latencies) * 1000, 1),
        concurrent_p95_ms=round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        failures=len(failures),
    )
