"""The ``segur-bench`` command line.

One module per command group; presentation (consoles, tables) stays here, orchestration in the engine.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import sys
import traceback

import typer

from bench.cli import campaign, catalogue, evidence, packs, perf, reporting, tools  # noqa: F401  (register the commands)
from bench.cli.common import app
from bench.cli.language import cli_language, localise
from bench.exit_codes import EXIT_BENCH_ERROR

__all__ = ["app", "main"]

# The machine, not the input, stopped the bench: it could not judge (exit 3), whatever command was running.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def main() -> None:
    try:
        command = typer.main.get_command(app)
        localise(command, cli_language(sys.argv[1:], os.environ))
        command(prog_name="segur-bench")
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            _bench_error(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"segur-bench : écriture impossible{where} : {exc.strerror or exc}. Le banc n'a pas pu juger (sortie 3) ; "
            "les preuves déjà écrites sont conservées dans le dossier de la campagne.",
            file=sys.stderr,
        )
        sys.exit(EXIT_BENCH_ERROR)
    except Exception as exc:
        _bench_error(exc)


def _bench_error(exc: BaseException) -> None:
    """A defect of the bench itself: one line for the user, the traceback kept on this machine for a bug report
    (``SEGUR_BENCH_DEBUG=1`` shows it instead)."""
    if os.environ.get("SEGUR_BENCH_DEBUG"):
        raise exc
    from bench.paths import state_dir
    from bench.privacy import mask_identifiers

    kept = ""
    try:
        folder = state_dir() / "errors"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        path.chmod(0o600)
        kept = f" ; détails : {path}"
    except OSError:
        pass
    said = mask_identifiers(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]
    print(f"segur-bench : erreur du banc, rien n'a pu être jugé (sortie 3) : {said}{kept}", file=sys.stderr)
    sys.exit(EXIT_BENCH_ERROR)
