"""The ``segur-bench`` command line.

One module per command group; presentation (consoles, tables) stays here, orchestration in the engine.
"""

from __future__ import annotations

import errno
import sys

from bench.cli import campaign, catalogue, evidence, packs, perf, tools  # noqa: F401  (register the commands)
from bench.cli.common import app
from bench.exit_codes import EXIT_BENCH_ERROR

__all__ = ["app", "main"]

# The machine, not the input, stopped the bench: it could not judge (exit 3), whatever command was running.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def main() -> None:
    try:
        app()
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"segur-bench : écriture impossible{where} : {exc.strerror or exc}. Le banc n'a pas pu juger (sortie 3) ; "
            "les preuves déjà écrites sont conservées dans le dossier de la campagne.",
            file=sys.stderr,
        )
        sys.exit(EXIT_BENCH_ERROR)
