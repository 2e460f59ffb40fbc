"""Peak resident memory of a command, as the operating system counts it (lxml, Saxon and every native allocation
included, which tracemalloc cannot see): the command runs as the only child of a fresh Python process, which reports
its children's high-water mark."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
BENCH = [sys.executable, "-c", "from bench.cli import main; main()"]  # ``segur-bench`` in this environment


@dataclass(frozen=True)
class Measured:
    exit_code: int
    seconds: float
    peak_rss_mib: float


def measured(command: list[str]) -> Measured:
    """Exit code, wall time (start-up included) and peak resident memory of ``command``."""
    clock = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - clock
    code, kib = done.stdout.split()
    return Measured(int(code), round(seconds, 3), round(int(kib) / 1024, 1))
