"""The patient's choices the bench asked the candidate to record (an opposition, a consent that lifts it), as the
journal holds them: which exchanges came while an opposition was in force.

What was asked is read from the recorded request itself (``about``, ``choice``), so that a replayed bundle is judged
as the run was. A scenario that records a choice is about that one patient: every exchange during an opposition
counts, whoever it names (a message sent without the patient's INS is still the patient's)."""

from __future__ import annotations

from bench.actions.core import CANDIDATE, CHOICE
from bench.checks.base import Evidence
from simulators.common.journal import Exchange


def choices(evidence: Evidence, about: str) -> list[tuple[Exchange, str]]:
    """(request, ``opposition`` or ``accord``) of the choices about ``about`` (``dmp``, ``mss``) recorded so far."""
    found = []
    for request in sorted(evidence.select(channel=CANDIDATE, transactions=(CHOICE,)), key=lambda x: x.seq):
        try:
            said = evidence.json(request, "choice") or {}
        except ValueError:
            continue
        if isinstance(said, dict) and said.get("about") == about and said.get("choice") in ("opposition", "accord"):
            found.append((request, str(said["choice"])))
    return found


def while_opposed(evidence: Evidence, about: str, exchanges: list[Exchange]) -> list[tuple[Exchange, Exchange]]:
    """Each of ``exchanges`` that came while an opposition about ``about`` was in force (after it, before the consent
    that lifted it), with that opposition."""
    windows: list[tuple[Exchange, int | None]] = []
    opened: Exchange | None = None
    for request, choice in choices(evidence, about):
        if choice == "opposition" and opened is None:
            opened = request
        elif choice == "accord" and opened is not None:
            windows.append((opened, request.seq))
            opened = None
    if opened is not None:
        windows.append((opened, None))
    found = []
    for exchange in exchanges:
        for opposition, lifted in windows:
            if opposition.seq < exchange.seq and (lifted is None or exchange.seq < lifted):
                found.append((exchange, opposition))
                break
    return found
