"""`segur-bench perf`: the benchmarks behind the speed targets (never asserted in timed tests)."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.candidates.reference import ReferenceCandidate
from bench.candidates.reference.insi_client import InsiClient
from bench.catalogue.loader import Catalogue
from bench.domains.ins.simulators import InsiSimulators
from bench.runner.engine import Campaign, CampaignOptions
from bench.runner.simulators import SimulatorHub
from bench.validation.packs import ValidationPack
from simulators.common.pki import BenchPki


@dataclass(frozen=True)
class PerfFigures:
    campaign_wall_s: float
    campaign_scenarios: int
    insi_round_trips: int
    insi_round_trips_per_s: float
    insi_latency_p50_ms: float
    insi_latency_p95_ms: float


def measure(
    catalogue: Catalogue,
    pki: BenchPki,
    profile: str = "medecin-ville",
    round_trips: int = 1000,
    pack: ValidationPack | None = None,
) -> PerfFigures:
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-") as tmp:
        campaign = Campaign(
            catalogue, ReferenceCandidate(), CampaignOptions(profile=profile, pack=pack), Path(tmp) / "campaign", pki
        )
        clock = time.perf_counter()
        result = campaign.run()
        wall = time.perf_counter() - clock
        with SimulatorHub(Path(tmp) / "round-trips", pki) as hub:
            client = InsiClient(hub.of("ins", InsiSimulators).url, pki.client_context())
            fields = [("NomNaissance", "LEFEVRE"), ("Prenom", "HELENE"), ("Sexe", "F"), ("DateNaissance", "1985-06-30")]
            client.call("traits", fields)  # connection and TLS handshake out of the measure
            latencies = []
            start = time.perf_counter()
            for _ in range(round_trips):
                one = time.perf_counter()
                client.call("traits", fields)
                latencies.append(time.perf_counter() - one)
            elapsed = time.perf_counter() - start
            client.close()
    latencies.sort()
    return PerfFigures(
        campaign_wall_s=round(wall, 3),
        campaign_scenarios=len(result.scenarios),
        insi_round_trips=round_trips,
        insi_round_trips_per_s=round(round_trips / elapsed, 1),
        insi_latency_p50_ms=round(statistics.median(latencies) * 1000, 2),
        insi_latency_p95_ms=round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
    )


@dataclass(frozen=True)
class CdaFigures:
    documents: int
    rules_xsd_per_s: float
    with_xsd: bool
    check_folder_s: float  # ``segur-bench check`` over the folder, start-up included
    check_folder_peak_rss_mib: float
    check_one_s: float  # ``segur-bench check`` on one document, start-up included


def measure_cda(pack: ValidationPack | None, documents: int = 1000) -> CdaFigures:
    """CDA checking speed on the bench's own documents: header rules + XSD per document in one process, and
    ``segur-bench check`` as users run it (a fresh process: over the whole folder, and on one file), with its peak
    resident memory. Official-size documents and the peers vendors use are in ``peers.py``."""
    from bench.checks.base import CheckContext, document_evidence
    from bench.checks.registry import get
    from bench.fixtures.documents import SAMPLE_PATIENT, build_cda
    from bench.fixtures.kinds import DOCUMENT_KINDS
    from bench.perf.rss import BENCH, measured

    kinds = list(DOCUMENT_KINDS)
    rule_checks = ("cda.schema", "cda.header", "cda.record_target", "cda.actors", "cda.body")
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-cda-") as tmp:
        folder = Path(tmp) / "documents"
        folder.mkdir()
        for index in range(documents):
            (folder / f"doc{index:05d}.xml").write_bytes(build_cda(kinds[index % len(kinds)], SAMPLE_PATIENT))
        names = sorted(p.name for p in folder.iterdir())
        clock = time.perf_counter()
        for name in names:
            evidence, exchange = document_evidence(folder, name)
            context = CheckContext(focus=exchange, pack=pack)
            for check_id in rule_checks:
                get(check_id).function(evidence, context)
        rules_rate = documents / (time.perf_counter() - clock)
        with_pack = ["--pack", str(pack.root)] if pack else []
        whole = measured([*BENCH, "check", str(folder), *with_pack])
        one = measured([*BENCH, "check", str(folder / names[0]), *with_pack])
    return CdaFigures(
        documents=documents,
        rules_xsd_per_s=round(rules_rate, 1),
        with_xsd=bool(pack and pack.has_cda_schema()),
        check_folder_s=whole.seconds,
        check_folder_peak_rss_mib=whole.peak_rss_mib,
        check_one_s=one.seconds,
    )


@dataclass(frozen=True)
class ReplayFigures:
    exchanges: int
    bundle_mib: float
    local_per_s: float
    process_per_s: float
    dask_per_s: float | None
    peak_rss_mib: float
    peak_worker_rss_mib: float
    dask_client_scheduler_peak_rss_mib: float | None = None  # the client and the scheduler share one process
    dask_worker_peak_rss_mib: float | None = None


def _dask_figures_in_fresh_process(bundle: str) -> tuple[float, float, float]:
    """A Dask replay on a local cluster (scheduler in this process, two worker processes), in a process that did
    nothing else: (exchanges per second, peak memory of client and scheduler, highest peak of a worker)."""
    from distributed import Client, LocalCluster

    from bench.replay.scale import replay_capture

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        rate = replay_capture(Path(bundle), engine="dask", scheduler=cluster.scheduler_address, workers=2).rate
        with Client(cluster) as client:
            workers = client.run(_peak_rss_mib)
    return rate, _peak_rss_mib(), max(workers.values())


def _replay_figures_in_fresh_process(bundle: str) -> tuple[int, float, float, float, float]:
    """Local and process-pool replays, measured in a process that did nothing else (peak memory is the replay's)."""
    import resource

    from bench.replay.scale import replay_capture

    local = replay_capture(Path(bundle), engine="local")
    pooled = replay_capture(Path(bundle), engine="process", workers=2)
    return (
        local.exchanges,
        local.rate,
        pooled.rate,
        _peak_rss_mib(),
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def _peak_rss_mib() -> float:
    """This process's peak resident memory. Linux carries a parent's high-water mark into ru_maxrss across fork and
    exec, so a process spawned by a big one would report the parent's peak: VmHWM (per address space) is read
    instead when the system has it."""
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_replay(exchanges: int = 100_000, with_dask: bool = True) -> ReplayFigures:
    """Replay throughput on a generated field capture: in-process, on a process pool, and on a local Dask cluster
    on loopback; peak resident memory of the replaying process and of its worker processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from bench.replay.generate import generate_bundle

    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-replay-") as tmp:
        bundle = generate_bundle(Path(tmp) / "capture.zip", exchanges)
        size = bundle.stat().st_size / (1024 * 1024)
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
            count, local_rate, pooled_rate, peak, worker_peak = fresh.submit(
                _replay_figures_in_fresh_process, str(bundle)
            ).result()
        dask_rate = dask_peak = dask_worker_peak = None
        if with_dask:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
                dask_rate, dask_peak, dask_worker_peak = fresh.submit(
                    _dask_figures_in_fresh_process, str(bundle)
                ).result()
    return ReplayFigures(
        exchanges=count,
        bundle_mib=round(size, 1),
        local_per_s=round(local_rate, 0),
        process_per_s=round(pooled_rate, 0),
        dask_per_s=round(dask_rate, 0) if dask_rate else None,
        peak_rss_mib=round(peak, 1),
        peak_worker_rss_mib=round(worker_peak, 1),
        dask_client_scheduler_peak_rss_mib=round(dask_peak, 1) if dask_peak else None,
        dask_worker_peak_rss_mib=round(dask_worker_peak, 1) if dask_worker_peak else None,
    )
