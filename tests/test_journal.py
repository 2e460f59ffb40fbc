"""The evidence journal: append-only, digests, durable lines, bounded waits."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from simulators.common.journal import JOURNAL_NAME, Journal, read_journal


def test_record_writes_bytes_digest_and_a_flushed_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    exchange = journal.record(
        "insi",
        "insi.search_traits",
        {"request": (b"<a/>", "application/soap+xml")},
        subjects=["b", "a", "a"],
        outcome="CR00",
    )
    assert exchange.subjects == ["a", "b"]
    ref = exchange.files["request"]
    assert (tmp_path / ref.name).read_bytes() == b"<a/>" and ref.sha256 == hashlib.sha256(b"<a/>").hexdigest()
    # Visible on disk before the journal is closed: a crash now loses nothing.
    assert read_journal(tmp_path) == [exchange]


def test_reopening_appends_and_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record("insi", "t", {"r": (b"1", "text/plain")})
    journal.close()
    with (tmp_path / JOURNAL_NAME).open("a") as handle:
        handle.write('{"id": "torn')
    reopened = Journal(tmp_path)
    assert [x.seq for x in reopened.exchanges] == [1]
    reopened.close()


def test_wait_for_returns_on_arrival_and_times_out(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    timer = threading.Timer(0.1, lambda: journal.record("insi", "late", {"r": (b"x", "text/plain")}))
    timer.start()
    found = journal.wait_for(lambda x: x.transaction == "late", after_seq=0, timeout=5)
    assert found is not None and found.transaction == "late"
    start = time.monotonic()
    assert journal.wait_for(lambda x: x.transaction == "never", after_seq=0, timeout=0.2) is None
    assert time.monotonic() - start < 2


def test_resuming_after_a_torn_line_never_glues_the_next_record_onto_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record("insi", "insi.search_traits", {"request": (b"<a/>", "application/soap+xml")})
    journal.close()
    path = tmp_path / "journal.jsonl"
    # A crash mid-write: half a line, cut inside a two-byte character.
    path.write_bytes(path.read_bytes() + '{"id": "000002-x", "note": "é'.encode()[:-1])
    again = Journal(tmp_path)
    again.record("insi", "insi.verify", {"request": (b"<b/>", "application/soap+xml")})
    again.close()
    assert [x.transaction for x in read_journal(tmp_path)] == ["insi.search_traits", "insi.verify"]
    assert path.read_bytes().count(b"\n") == 2
