"""The ``segur-bench`` command line.

One module per command group; presentation (consoles, tables) stays here, orchestration in the engine.
"""

from __future__ import annotations

from bench.cli import campaign, catalogue, evidence, packs, perf, tools  # noqa: F401  (register the commands)
from bench.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
