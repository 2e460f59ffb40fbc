"""Check standalone artifacts without a run (``segur-bench check``): each file is identified, wrapped as evidence
and judged by the checks that apply to it. Files are read one at a time, so memory stays bounded whatever the
number of files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.checks.base import CheckContext, Evidence, Finding
from bench.checks.cda import CDA_CHECKS
from bench.checks.registry import get
from bench.validation.packs import ValidationPack
from simulators.common.journal import EvidenceFile, Exchange

MAX_FILE_BYTES = 64 * 1024 * 1024
CDA_ROOT = b"ClinicalDocument"


@dataclass
class FileReport:
    path: Path
    kind: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and files under folders named (sorted, recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _kind(path: Path, head: bytes) -> str:
    if path.suffix.lower() == ".xml" or head.lstrip().startswith(b"<"):
        return "cda" if CDA_ROOT in head else "xml"
    return {".zip": "xdm", ".eml": "eml", ".har": "har"}.get(path.suffix.lower(), "inconnu")


def check_file(path: Path, pack: ValidationPack | None, schematron: str | None = None) -> FileReport:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        return FileReport(path, "illisible", error=f"fichier illisible : {exc.strerror or exc}")
    kind = _kind(path, head)
    report = FileReport(path, kind)
    if size > MAX_FILE_BYTES:
        report.findings.append(
            Finding(
                "artifact.size",
                (),
                "fail",
                f"fichier de {size} octets, au-delà de {MAX_FILE_BYTES // (1024 * 1024)} Mo : non analysé",
            )
        )
        return report
    if kind not in ("cda", "xml"):
        report.findings.append(Finding("artifact.kind", (), "skip", f"type de fichier {kind!r} pas encore vérifié"))
        return report
    exchange = Exchange(
        id=path.name,
        seq=1,
        time="",
        channel="file",
        transaction="file.document",
        peer={},
        subjects=[],
        outcome=None,
        files={"document": EvidenceFile(path.name, "", size, "application/xml")},
    )
    evidence = Evidence(path.parent, [exchange])
    context = CheckContext(focus=exchange, pack=pack, schematron=schematron)
    for check_id in CDA_CHECKS:
        report.findings += get(check_id).function(evidence, context)
    return report


def exit_code(reports: list[FileReport]) -> int:
    """2 an input is unreadable, 1 a check fails, 3 the bench could not judge something, else 0."""
    outcomes = {f.outcome for r in reports for f in r.findings}
    if any(r.error for r in reports):
        return 2
    if "fail" in outcomes:
        return 1
    return 3 if "error" in outcomes else 0


def as_json(reports: list[FileReport]) -> str:
    return json.dumps(
        {
            "files": [
                {
                    "path": str(r.path),
                    "kind": r.kind,
                    "error": r.error,
                    "findings": [
                        {
                            "check": f.check_id,
                            "requirements": list(f.requirements),
                            "outcome": f.outcome,
                            "message": f.message,
                            "location": f.pointer,
                        }
                        for f in r.findings
                    ],
                }
                for r in reports
            ]
        },
        ensure_ascii=False,
        indent=2,
    )


def as_text(report: FileReport) -> list[str]:
    if report.error:
        return [f"{report.path}: ERREUR {report.error}"]
    lines = []
    for finding in report.findings:
        where = f" [{finding.pointer}]" if finding.pointer else ""
        requirements = ",".join(finding.requirements) or "-"
        lines.append(
            f"{report.path}: {finding.outcome.upper()} {requirements} {finding.check_id}: {finding.message}{where}"
        )
    return lines
