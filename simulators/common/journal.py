"""The evidence journal: every exchange a simulator sees (and every artefact a candidate hands over) is kept as
raw bytes beside an append-only ``journal.jsonl`` index, with SHA-256 digests.

The lines form a hash chain: each carries ``prev``, the SHA-256 of the previous line's bytes (64 zeros for the
first), so the digest of the last line (the chain's *head*) vouches for the whole journal, and a line edited, removed
or inserted breaks the chain at that line. The head is what the run's seal signs (``bench/seal.py``).

Writing order is what makes the journal trustworthy: the raw files are written first, then the index line is
appended and flushed, and only then does a simulator answer. An exchange the candidate saw acknowledged is
therefore always on disk, whatever happens to the bench afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

JOURNAL_NAME = "journal.jsonl"
GENESIS = "0" * 64  # the ``prev`` of a journal's first line
EXCHANGES_DIR = "exchanges"
_EXTENSIONS = {
    "application/soap+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
    "message/rfc822": "eml",
    "text/plain": "txt",
    "application/pdf": "pdf",
    # Opened by a browser as text rather than downloaded: forms (PSC) and raw MTOM bodies (their parts are also
    # split out by the DMP simulator).
    "application/x-www-form-urlencoded": "txt",
    "multipart/related": "txt",
}


@dataclass(frozen=True)
class EvidenceFile:
    """One raw part of an exchange (request, response, document...) as stored in the run directory."""

    name: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class Exchange:
    """One journal line. ``subjects`` are routing keys (for example ``ins:<matricule>``) that let the runner
    attribute an exchange to a scenario's patient; ``outcome`` is the simulator's short reading of it."""

    id: str
    seq: int
    time: str
    channel: str
    transaction: str
    peer: dict[str, Any]
    subjects: list[str]
    outcome: str | None
    files: dict[str, EvidenceFile]
    meta: dict[str, Any] = field(default_factory=dict)
    prev: str = ""  # SHA-256 of the previous journal line (the hash chain); empty outside a journal file

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(line: str) -> Exchange:
        data = json.loads(line)
        data["files"] = {key: EvidenceFile(**value) for key, value in data["files"].items()}
        return Exchange(**data)


class Journal:
    """Append-only, thread-safe evidence journal of one run directory.

    >>> journal = Journal(Path("runs/demo"))  # doctest: +SKIP
    >>> journal.record("demo", "demo.ping", {"request": (b"<x/>", "application/soap+xml")})  # doctest: +SKIP
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        (run_dir / EXCHANGES_DIR).mkdir(parents=True, exist_ok=True)
        self._path = run_dir / JOURNAL_NAME
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        if self._path.exists():
            _cut_torn_tail(self._path)  # resuming after a crash mid-write: never glue a new line onto a fragment
        self._exchanges: list[Exchange] = read_journal(run_dir) if self._path.exists() else []
        self._head = journal_head(run_dir)
        self._handle = self._path.open("a", encoding="utf-8")

    def close(self) -> None:
        with self._lock:
            self._handle.close()

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    @property
    def head(self) -> str:
        """SHA-256 of the last line written: the hash chain's head, which vouches for every line before it."""
        with self._lock:
            return self._head

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._exchanges[-1].seq if self._exchanges else 0

    def record(
        self,
        channel: str,
        transaction: str,
        parts: dict[str, tuple[bytes, str]],
        *,
        subjects: list[str] | None = None,
        outcome: str | None = None,
        peer: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Exchange:
        """Store ``parts`` (name -> (bytes, media type)) and append the exchange's journal line, flushed."""
        with self._lock:
            seq = (self._exchanges[-1].seq if self._exchanges else 0) + 1
            safe_tx = re.sub(r"[^A-Za-z0-9_.-]", "_", transaction)
            files: dict[str, EvidenceFile] = {}
            for part, (data, media_type) in parts.items():
                ext = _EXTENSIONS.get(media_type.split(";")[0].strip(), "bin")
                name = f"{EXCHANGES_DIR}/{seq:06d}-{safe_tx}.{part}.{ext}"
                (self.run_dir / name).write_bytes(data)
                files[part] = EvidenceFile(
                    name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type
                )
            exchange = Exchange(
                id=f"{seq:06d}-{safe_tx}",
                seq=seq,
                time=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                channel=channel,
                transaction=transaction,
                peer=peer or {},
                subjects=sorted(set(subjects or [])),
                outcome=outcome,
                files=files,
                meta=meta or {},
                prev=self._head,
            )
            line = exchange.to_json()
            self._handle.write(line + "\n")
            self._handle.flush()
            self._head = hashlib.sha256(line.encode("utf-8")).hexdigest()
            self._exchanges.append(exchange)
            self._changed.notify_all()
            return exchange

    def wait_for(self, predicate: Callable[[Exchange], bool], *, after_seq: int, timeout: float) -> Exchange | None:
        """First exchange after ``after_seq`` that satisfies ``predicate``, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for exchange in self._exchanges:
                    if exchange.seq > after_seq and predicate(exchange):
                        return exchange
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(min(remaining, 0.25))


def _cut_torn_tail(path: Path) -> None:
    """Drop what follows the journal's last newline: the fragment a crash left mid-write (never acknowledged)."""
    with path.open("rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def _lines(path: Path) -> list[bytes]:
    """The journal's complete lines (a torn tail, with no newline yet, is not a line)."""
    data = path.read_bytes() if path.is_file() else b""
    return data.split(b"\n")[:-1]


def journal_head(run_dir: Path) -> str:
    """The chain's head: SHA-256 of the journal's last complete line (GENESIS when it has none)."""
    lines = [line for line in _lines(run_dir / JOURNAL_NAME) if line.strip()]
    return hashlib.sha256(lines[-1]).hexdigest() if lines else GENESIS


def chain_problems(run_dir: Path) -> list[str]:
    """Where the journal's hash chain breaks: a line whose ``prev`` is not the digest of the line before it (a line
    edited, removed, inserted or reordered), a line that is not a journal record, text after the last line. Empty when
    the chain is whole."""
    path = run_dir / JOURNAL_NAME
    problems: list[str] = []
    expected = GENESIS
    data = path.read_bytes() if path.is_file() else b""
    if data and not data.endswith(b"\n"):
        problems.append(f"{JOURNAL_NAME} : fin de fichier sans fin de ligne (ligne tronquée ou ajoutée)")
    for number, line in enumerate(_lines(path), start=1):
        try:
            record = json.loads(line)
            prev = record.get("prev") if isinstance(record, dict) else None
        except (ValueError, RecursionError):
            prev = None
        if not isinstance(prev, str):
            problems.append(f"{JOURNAL_NAME}:{number} : ligne illisible ou sans chaînage (prev)")
        elif prev != expected:
            problems.append(
                f"{JOURNAL_NAME}:{number} : chaîne rompue entre les lignes {number - 1} et {number} (prev ≠ SHA-256 "
                "de la ligne précédente : ligne modifiée, retirée, insérée ou déplacée)"
            )
        expected = hashlib.sha256(line).hexdigest()
    return problems


def read_journal(run_dir: Path) -> list[Exchange]:
    """Every exchange of a run directory's journal, skipping a torn last line (a crash mid-write, even one cut inside
    a multi-byte character)."""
    exchanges = []
    path = run_dir / JOURNAL_NAME
    if not path.exists():
        return []
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            exchanges.append(Exchange.from_json(raw.decode("utf-8")))
        except (ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
            continue
    return exchanges


class EvidenceAltered(ValueError):
    """An evidence file that is not what the journal recorded (edited, replaced, outside the run directory): whatever
    reads it cannot judge it (a bench error, never a verdict)."""


def read_part(run_dir: Path, exchange: Exchange, part: str) -> bytes | None:
    """Raw bytes of one part of an exchange, or None when the exchange has no such part. The bytes are checked against
    the digest the journal recorded, and the file must be a regular file of the run directory (a journal line is
    input too): anything else raises EvidenceAltered."""
    ref = exchange.files.get(part)
    if ref is None:
        return None
    path = run_dir / ref.name
    if Path(ref.name).is_absolute() or ".." in Path(ref.name).parts or path.is_symlink() or not path.is_file():
        raise EvidenceAltered(f"{exchange.id} : preuve {ref.name!r} absente ou hors du dossier de la campagne")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        raise EvidenceAltered(f"{exchange.id} : {ref.name} modifié depuis son enregistrement (SHA-256 différent)")
    return data
