"""``segur-bench perf``: campaign wall time, INSi round trips, CDA documents, DMP feeds, MSSanté messages and replay
throughput, each measured on real sockets. Targets live here, never in timed tests."""

from bench.perf.core import measure, measure_cda, measure_replay

__all__ = ["measure", "measure_cda", "measure_replay"]
