"""Check standalone artifacts without a run (``segur-bench check``): each file is identified, wrapped as evidence
and judged by the checks that apply to it. Files are read one at a time, so memory stays bounded whatever the
number of files."""

from __future__ import annotations

import base64
import collections
import email
import email.policy
import io
import itertools
import json
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bench.checks.base import CheckContext, Finding, document_evidence
from bench.domains.cda.checks import CDA_CHECKS
from bench.privacy import mask_identifiers
from bench.runner.judge import run_check
from bench.validation.packs import ValidationPack
from simulators.common.archives import ZipLimits, read_members, shown_name
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # a zip member inflating more than this is treated as a bomb
MAX_ZIP_TOTAL = 256 * 1024 * 1024
CDA_ROOT = b"ClinicalDocument"


@dataclass(frozen=True)
class Judging:
    """How a file is judged: the validation pack, a forced volet schematron, the environment of its documents."""

    pack: ValidationPack | None
    schematron: str | None = None
    test_mode: bool = True  # documents of a test environment: an INS under a production OID is a finding


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


def check_file(
    path: Path, pack: ValidationPack | None, schematron: str | None = None, *, test_mode: bool = True
) -> list[FileReport]:
    """Reports for one file: one for a document, one per document found inside an XDM archive or a message.
    ``test_mode``: the documents come from a test environment (an INS under a production OID is then a finding)."""
    judging = Judging(pack, schematron, test_mode)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            # A FIFO would block, /dev/zero never end: only regular files are read.
            return [FileReport(path, "illisible", error="pas un fichier ordinaire (tube, périphérique) : non lu")]
        size = status.st_size
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        return [FileReport(path, "illisible", error=f"fichier illisible : {exc.strerror or exc}")]
    kind = _kind(path, head)
    if size > MAX_FILE_BYTES:
        report = FileReport(path, kind)
        report.findings.append(
            Finding(
                "artifact.size",
                (),
                "fail",
                f"fichier de {size} octets, au-delà de {MAX_FILE_BYTES // (1024 * 1024)} Mo : non analysé",
            )
        )
        return [report]
    try:
        return _check_kind(path, kind, judging)
    except RecursionError:
        # Parts nested thousands deep (MIME, JSON): what a parser cannot walk is a finding, never a traceback.
        report = FileReport(path, kind)
        report.findings.append(
            Finding(f"artifact.{kind}", (), "fail", "structure imbriquée trop profondément pour être lue : non analysé")
        )
        return [report]


def _check_kind(path: Path, kind: str, judging: Judging) -> list[FileReport]:
    if kind in ("cda", "xml"):
        return [_check_document(path, path.parent, path.name, judging, kind)]
    if kind == "xdm":
        return _check_zip(path, path.read_bytes(), judging)
    if kind == "eml":
        return _check_message(path, path.read_bytes(), judging)
    if kind == "har":
        return _check_har(path, path.read_bytes(), judging)
    report = FileReport(path, kind)
    report.findings.append(Finding("artifact.kind", (), "skip", f"type de fichier {kind!r} pas encore vérifié"))
    return [report]


def _check_document(label: Path, folder: Path, name: str, judging: Judging, kind: str = "cda") -> FileReport:
    evidence, exchange = document_evidence(folder, name)
    context = CheckContext(
        focus=exchange, pack=judging.pack, schematron=judging.schematron, test_mode=judging.test_mode, alone=True
    )
    report = FileReport(label, kind)
    for check_id in CDA_CHECKS:
        report.findings += run_check(check_id, evidence, context)  # a crash is a bench error, never a traceback
    return report


def _documents_in(label: Path, items: Iterable[tuple[str, bytes]], judging: Judging) -> Iterator[FileReport]:
    """Each document judged as it comes (one at a time in memory, whatever the archive or message holds)."""
    with tempfile.TemporaryDirectory(prefix="segur-bench-check-") as tmp:
        for index, (name, data) in enumerate(items):
            local = Path(tmp) / f"part-{index:05d}.xml"
            local.write_bytes(data)
            yield _check_document(Path(f"{label}!/{shown_name(name)}"), Path(tmp), local.name, judging)
            local.unlink()


# A zip given to ``check`` (an XDM package, a folder of documents): members, sizes and ratio bounded so that a bomb or
# overlapping entries cannot make it inflate more than MAX_ZIP_TOTAL in all (simulators/common/archives.py).
ZIP_LIMITS = ZipLimits(
    max_members=MAX_MEMBERS, max_member_bytes=MAX_MEMBER_BYTES, max_total_bytes=MAX_ZIP_TOTAL, max_ratio=MAX_RATIO
)


def _check_zip(label: Path, data: bytes, judging: Judging) -> list[FileReport]:
    """CDA documents inside an IHE XDM archive (or any zip), read member by member with bomb and traversal guards."""
    report = FileReport(label, "xdm")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        report.findings.append(Finding("artifact.zip", (), "fail", "archive zip illisible"))
        return [report]

    def is_document(name: str) -> bool:
        path = PurePosixPath(name.replace("\\", "/"))
        return path.name.upper() != "METADATA.XML" and path.suffix.upper() == ".XML"

    def documents(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
        for member in read_members(archive, ZIP_LIMITS, is_document):
            if member.data is not None:
                yield member.name, member.data
            else:
                where = f"{shown_name(member.name)} : " if member.name else ""
                report.findings.append(Finding("artifact.zip", (), "fail", f"{where}{member.problem}"))

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            judged = list(_documents_in(label, documents(archive), judging))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.findings.append(Finding("artifact.zip", (), "fail", f"archive zip illisible : {exc}"))
        return [report]
    if not judged and not report.findings:
        report.findings.append(Finding("artifact.zip", (), "skip", "aucun document XML dans l'archive"))
    return ([report] if report.findings else []) + judged


def _check_message(label: Path, data: bytes, judging: Judging) -> list[FileReport]:
    """CDA documents attached to an RFC 5322 message, directly or inside an XDM zip."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    reports: list[FileReport] = []
    documents: list[tuple[str, bytes]] = []
    for part in message.walk():
        name = part.get_filename() or ""
        if part.is_multipart() or not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if name.lower().endswith(".zip"):
            reports += _check_zip(Path(f"{label}!/{shown_name(name)}"), payload, judging)
        elif name.lower().endswith(".xml"):
            documents.append((name, payload))
    reports += list(_documents_in(label, documents, judging))
    if not reports:
        empty = FileReport(label, "eml")
        empty.findings.append(Finding("artifact.eml", (), "skip", "aucune pièce jointe CDA ni XDM dans le message"))
        reports.append(empty)
    return reports


XDS_B = "urn:ihe:iti:xds-b:2007"


def _check_har(label: Path, data: bytes, judging: Judging) -> list[FileReport]:
    """CDA documents carried by the HTTP exchanges of a HAR 1.2 capture: SOAP bodies (ITI-41 ``Document`` in base64),
    MTOM/XOP parts, or documents posted as they are."""
    report = FileReport(label, "har")
    try:
        entries = json.loads(data)["log"]["entries"]
        if not isinstance(entries, list):
            raise TypeError("entries n'est pas une liste")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        report.findings.append(Finding("artifact.har", (), "fail", f"HAR illisible : {exc}"))
        return [report]
    documents: list[tuple[str, bytes]] = []
    for index, entry in enumerate(entries):
        for side, body, mime in _har_bodies(entry):
            for part_index, payload in enumerate(_mime_parts(body, mime)):
                for doc_index, document in enumerate(_cda_documents(payload)):
                    documents.append((f"entries[{index}]/{side}/part{part_index}/document{doc_index}", document))
    if not documents:
        report.findings.append(Finding("artifact.har", (), "skip", "aucun document CDA dans les échanges capturés"))
        return [report]
    return list(_documents_in(label, documents, judging))


def _har_bodies(entry: object) -> Iterator[tuple[str, bytes, str]]:
    if not isinstance(entry, dict):
        return
    post = (entry.get("request") or {}).get("postData") or {}
    content = (entry.get("response") or {}).get("content") or {}
    for side, holder in (("request", post), ("response", content)):
        text = holder.get("text") if isinstance(holder, dict) else None
        if not isinstance(text, str) or not text:
            continue
        try:
            body = base64.b64decode(text) if holder.get("encoding") == "base64" else text.encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            continue
        yield side, body, str(holder.get("mimeType") or "")


def _mime_parts(body: bytes, mime: str) -> list[bytes]:
    if not mime.lower().startswith("multipart/"):
        return [body]
    message = email.message_from_bytes(f"Content-Type: {mime}\r\n\r\n".encode() + body, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload)
    return parts


def _cda_documents(payload: bytes) -> list[bytes]:
    if CDA_ROOT not in payload and b"Document" not in payload:
        return []
    try:
        root = parse_xml(payload)
    except UnsafeXmlError:
        return [payload] if CDA_ROOT in payload[:4096] else []
    if root.tag == "{urn:hl7-org:v3}ClinicalDocument":
        return [payload]
    found = []
    for element in root.iter(f"{{{XDS_B}}}Document"):
        text = "".join(element.itertext()).strip()
        if not text:
            continue  # an MTOM xop:Include: the document travels as its own MIME part
        try:
            decoded = base64.b64decode(text, validate=False)
        except ValueError:
            continue
        if CDA_ROOT in decoded[:4096]:
            found.append(decoded)
    return found


def exit_code(reports: list[FileReport]) -> int:
    """2 an input is unreadable, 1 a check fails, 3 the bench could not judge something, else 0."""
    tally = Tally()
    for report in reports:
        tally.add(report)
    return tally.exit_code


@dataclass
class Tally:
    """What the exit code needs of the reports seen so far (``check`` keeps no report once printed)."""

    unreadable: bool = False
    outcomes: set[str] = field(default_factory=set)

    def add(self, report: FileReport) -> None:
        self.unreadable |= report.error is not None
        self.outcomes.update(f.outcome for f in report.findings)

    @property
    def exit_code(self) -> int:
        if self.unreadable:
            return 2
        if "fail" in self.outcomes:
            return 1
        return 3 if "error" in self.outcomes else 0


def check_safely(path: Path, judging: Judging) -> list[FileReport]:
    """One file's reports; a defect of the bench on this file is said for this file (exit 3), never raised, so that
    the other files are still checked."""
    try:
        return check_file(path, judging.pack, judging.schematron, test_mode=judging.test_mode)
    except Exception as exc:
        said = f"erreur du banc sur ce fichier, non jugé : {type(exc).__name__}: {str(exc)[:200]}"
        return [FileReport(path, "inconnu", findings=[Finding("artifact.bench", (), "error", said)])]


PARALLEL_FROM = 32  # fewer files are checked in this process: a pool costs more to start than it saves
_CHUNK = 16  # files per task sent to a worker


def _check_chunk(paths: list[Path], judging: Judging) -> list[list[FileReport]]:
    return [check_safely(path, judging) for path in paths]


def check_all(paths: Iterable[Path], judging: Judging, jobs: int) -> Iterator[list[FileReport]]:
    """Each file's reports, in the order of ``paths``. From PARALLEL_FROM files on and with ``jobs`` > 1, files are
    checked by a pool of worker processes (each keeps its parsed schema and compiled schematrons), at most
    ``4 * jobs`` chunks in flight: memory stays flat whatever the number of files, and results stream in order."""
    iterator = iter(paths)
    head = list(itertools.islice(iterator, PARALLEL_FROM))
    if jobs <= 1 or len(head) < PARALLEL_FROM:
        for path in itertools.chain(head, iterator):
            yield check_safely(path, judging)
        return
    chunks = _chunks(itertools.chain(head, iterator), _CHUNK)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: collections.deque[Future[list[list[FileReport]]]] = collections.deque()
        for chunk in chunks:
            pending.append(pool.submit(_check_chunk, chunk, judging))
            if len(pending) >= 4 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _chunks(paths: Iterator[Path], size: int) -> Iterator[list[Path]]:
    while chunk := list(itertools.islice(paths, size)):
        yield chunk


def json_entry(report: FileReport, *, reveal: bool = False) -> dict[str, object]:
    """One file's entry of the JSON output; identifiers masked unless ``reveal`` (it often ends up in CI logs)."""
    show = (lambda text: text) if reveal else mask_identifiers
    return {
        "path": str(report.path),
        "kind": report.kind,
        "error": report.error,
        "findings": [
            {
                "check": f.check_id,
                "requirements": list(f.requirements),
                "outcome": f.outcome,
                "message": show(f.message),
                "location": f.pointer,
            }
            for f in report.findings
        ],
    }


def as_json(reports: list[FileReport], *, reveal: bool = False) -> str:
    """The JSON output of a few reports at once (``check`` streams the same entries file by file)."""
    return json.dumps({"files": [json_entry(r, reveal=reveal) for r in reports]}, ensure_ascii=False, indent=2)


def as_text(report: FileReport, *, reveal: bool = False) -> list[str]:
    """One line per finding; identifiers masked unless ``reveal``."""
    show = (lambda text: text) if reveal else mask_identifiers
    if report.error:
        return [f"{report.path}: ERREUR {report.error}"]
    lines = []
    for finding in report.findings:
        where = f" [{finding.pointer}]" if finding.pointer else ""
        requirements = ",".join(finding.requirements) or "-"
        message = show(finding.message)
        lines.append(f"{report.path}: {finding.outcome.upper()} {requirements} {finding.check_id}: {message}{where}")
    return lines
