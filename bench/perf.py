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
from bench.runner.engine import Campaign, CampaignOptions
from bench.runner.simulators import SimulatorHub
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
    catalogue: Catalogue, pki: BenchPki, profile: str = "medecin-ville", round_trips: int = 1000
) -> PerfFigures:
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-") as tmp:
        campaign = Campaign(
            catalogue, ReferenceCandidate(), CampaignOptions(profile=profile), Path(tmp) / "campaign", pki
        )
        clock = time.perf_counter()
        result = campaign.run()
        wall = time.perf_counter() - clock
        with SimulatorHub(Path(tmp) / "insi", pki) as hub:
            client = InsiClient(hub.endpoints.insi, pki.client_context())
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
