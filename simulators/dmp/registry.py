"""The DMP's registry and repository, in an embedded SQLite database under the run's state.

Entries keep the DocumentEntry metadata as the candidate submitted it (ITI-18 answers return it, with the status the
registry maintains), plus what the registry needs to filter and to apply the DMP's rules: patient, status,
confidentiality codes, who submitted it. Contents are kept by document uniqueId for ITI-43.
Patient states (DMP absent, closed, patient opposed, professional not authorised) are set by scenario fixtures.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PatientState = Literal["actif", "absent", "ferme", "opposition", "non_autorise"]
PATIENT_STATES: tuple[str, ...] = ("actif", "absent", "ferme", "opposition", "non_autorise")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS patients (ins TEXT PRIMARY KEY, state TEXT NOT NULL);
-- What the DMP holds of the patient's identity (TD0.2 answers it) and each professional's authorisation (TD0.3).
CREATE TABLE IF NOT EXISTS traits (ins TEXT PRIMARY KEY, traits TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS authorisations (ins TEXT NOT NULL, professional TEXT NOT NULL, granted INTEGER NOT NULL,
                                           PRIMARY KEY (ins, professional));
CREATE TABLE IF NOT EXISTS entries (
    entry_uuid TEXT PRIMARY KEY,
    unique_id TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL,
    status TEXT NOT NULL,
    confidentiality TEXT NOT NULL,
    submitter TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    metadata BLOB NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_patient ON entries (patient_id);
-- Each store reads MAX(seq): without an index it scans the table (9.6 ms at 5k entries, issue 21).
CREATE INDEX IF NOT EXISTS entries_seq ON entries (seq);
CREATE TABLE IF NOT EXISTS contents (unique_id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


@dataclass
class StoredEntry:
    """One DocumentEntry as the registry keeps it."""

    entry_uuid: str
    unique_id: str
    patient_id: str  # the XDS patientId's identity, ID^^^&OID&ISO (simulators/dmp/cx.py Cx.key)
    status: str
    confidentiality: list[tuple[str, str]]  # (code, coding scheme)
    submitter: str  # the VIHF subject (professional id) of the feed
    hash: str
    size: int
    mime_type: str
    metadata: bytes  # the ExtrinsicObject as submitted (serialised XML)
    seq: int = 0

    def has_code(self, code: str) -> bool:
        return any(c == code for c, _s in self.confidentiality)


class DmpRegistry:
    """Thread-safe access to one simulator's database (the ASGI server and the bench share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def clear(self) -> None:
        """Forget every patient state and document (each scenario starts from an empty DMP)."""
        with self._lock:
            self._db.executescript(
                "DELETE FROM patients; DELETE FROM traits; DELETE FROM authorisations; DELETE FROM entries; "
                "DELETE FROM contents;"
            )

    # patients ------------------------------------------------------------------------------------------
    def set_patient_state(self, ins: str, state: PatientState) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO patients VALUES (?, ?)", (ins.upper(), state))

    def patient_state(self, ins: str) -> PatientState:
        """A patient the fixtures did not mention has an open DMP the professional may access."""
        with self._lock:
            row = self._db.execute("SELECT state FROM patients WHERE ins = ?", (ins.upper(),)).fetchone()
        return row[0] if row else "actif"

    def patient_state_for(self, ins: str, professional: str) -> PatientState:
        """The patient's state as one professional meets it: an authorisation set through TD0.3 turns a DMP the
        professional may not access into an accessible one (and its removal the reverse); a closed DMP, an absent one
        or the patient's opposition stay what they are."""
        state = self.patient_state(ins)
        granted = self.authorisation(ins, professional)
        if state in ("actif", "non_autorise") and granted is not None:
            return "actif" if granted else "non_autorise"
        return state

    def set_traits(self, ins: str, traits: dict[str, str]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO traits VALUES (?, ?)", (ins.upper(), json.dumps(traits)))

    def traits(self, ins: str) -> dict[str, str] | None:
        with self._lock:
            row = self._db.execute("SELECT traits FROM traits WHERE ins = ?", (ins.upper(),)).fetchone()
        return dict(json.loads(row[0])) if row else None

    def set_authorisation(self, ins: str, professional: str, granted: bool) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO authorisations VALUES (?, ?, ?)", (ins.upper(), professional, int(granted))
            )

    def authorisation(self, ins: str, professional: str) -> bool | None:
        """What TD0.3 last set for this professional on this patient's DMP, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT granted FROM authorisations WHERE ins = ? AND professional = ?", (ins.upper(), professional)
            ).fetchone()
        return bool(row[0]) if row else None

    # documents -----------------------------------------------------------------------------------------
    def store(self, entries: list[StoredEntry], contents: dict[str, bytes], deprecate: Iterable[str] = ()) -> None:
        """Register ``entries`` with their ``contents`` (uniqueId -> bytes) and deprecate replaced entries, all at
        once: an ITI-41 submission is atomic (IHE ITI TF-2b §3.42.4.1.3)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0]
                for n, entry in enumerate(entries):
                    self._db.execute(
                        "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            entry.entry_uuid,
                            entry.unique_id,
                            entry.patient_id,
                            entry.status,
                            json.dumps(entry.confidentiality),
                            entry.submitter,
                            entry.hash,
                            entry.size,
                            entry.mime_type,
                            entry.metadata,
                            seq + n + 1,
                        ),
                    )
                for unique_id, data in contents.items():
                    self._db.execute("INSERT INTO contents VALUES (?, ?)", (unique_id, data))
                for entry_uuid in deprecate:
                    self._db.execute(
                        "UPDATE entries SET status = ? WHERE entry_uuid = ?",
                        ("urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated", entry_uuid),
                    )
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise

    def entries(self, patient_id: str | None = None) -> list[StoredEntry]:
        """The entries of one patient (``Cx.key``), or every entry when ``patient_id`` is None."""
        query = "SELECT * FROM entries" + (" WHERE patient_id = ?" if patient_id else "") + " ORDER BY seq"
        with self._lock:
            rows = self._db.execute(query, (patient_id,) if patient_id else ()).fetchall()
        return [_entry(row) for row in rows]

    def entry(self, *, entry_uuid: str | None = None, unique_id: str | None = None) -> StoredEntry | None:
        column, value = ("entry_uuid", entry_uuid) if entry_uuid else ("unique_id", unique_id)
        with self._lock:
            row = self._db.execute(f"SELECT * FROM entries WHERE {column} = ?", (value,)).fetchone()
        return _entry(row) if row else None

    def unique_id_taken(self, unique_id: str) -> bool:
        return self.entry(unique_id=unique_id) is not None

    def content(self, unique_id: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM contents WHERE unique_id = ?", (unique_id,)).fetchone()
        return bytes(row[0]) if row else None

    def set_status(self, entry_uuid: str, status: str) -> None:
        with self._lock:
            self._db.execute("UPDATE entries SET status = ? WHERE entry_uuid = ?", (status, entry_uuid))

    def set_confidentiality(self, entry_uuid: str, codes: list[tuple[str, str]], metadata: bytes) -> None:
        """New confidentiality codes (ITI-57 metadata update), with the metadata that now carries them."""
        with self._lock:
            self._db.execute(
                "UPDATE entries SET confidentiality = ?, metadata = ? WHERE entry_uuid = ?",
                (json.dumps(codes), metadata, entry_uuid),
            )

    def delete(self, entry_uuid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE entry_uuid = ?", (entry_uuid,))


def _entry(row: tuple[object, ...]) -> StoredEntry:
    (entry_uuid, unique_id, patient_id, status, confidentiality, submitter, digest, size, mime, metadata, seq) = row
    return StoredEntry(
        entry_uuid=str(entry_uuid),
        unique_id=str(unique_id),
        patient_id=str(patient_id),
        status=str(status),
        confidentiality=[(str(c), str(s)) for c, s in json.loads(str(confidentiality))],
        submitter=str(submitter),
        hash=str(digest),
        size=int(str(size)),
        mime_type=str(mime),
        metadata=bytes(metadata) if isinstance(metadata, bytes | memoryview) else str(metadata).encode(),
        seq=int(str(seq)),
    )
