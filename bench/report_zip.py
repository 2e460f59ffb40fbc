"""A run's report with its evidence in one .zip, to send to an auditor: the files the run's signed seal lists, and the
seal, under one folder named after the run, so that the report's links still work once unzipped and
``segur-bench verify`` can check the unzipped folder."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from bench.seal import SEAL_NAME


class ReportZipError(RuntimeError):
    """The run cannot be sent: not sealed, or not intact."""


def write_report_zip(run_dir: Path, target: Path) -> Path:
    """Zip what the seal vouches for; refuse a run whose seal or files do not verify (it must not leave as is)."""
    from bench.replay.verify import verify_run

    if not (run_dir / SEAL_NAME).is_file():
        raise ReportZipError(f"{run_dir} n'a pas de sceau ({SEAL_NAME}) : aucun rapport à envoyer")
    problems, _signer = verify_run(run_dir, None)
    if problems:
        raise ReportZipError(f"{run_dir} altérée, archive non écrite : {problems[0]}")
    listed = json.loads((run_dir / SEAL_NAME).read_text(encoding="utf-8"))["files"]
    target = target if target.suffix == ".zip" else target.with_suffix(".zip")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*sorted(listed), SEAL_NAME]:
            archive.write(run_dir / name, f"{run_dir.name}/{name}")
    return target
