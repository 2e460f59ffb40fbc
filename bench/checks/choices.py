"""The patient's choices the bench asked the candidate to record (an opposition, a consent that lifts it), as the
journal holds them: which exchanges came while an opposition was in force."""

from __future__ import annotations

from bench.actions.core import CANDIDATE, CHOICE
from bench.checks.base import Evidence
from simulators.common.journal import Exchange


def choices(evidence: Evidence, about: str) -> list[Exchange]:
    """The choices about ``about`` (``dmp``, ``mss``) recorded so far, in order."""
    recorded = evidence.select(channel=CANDIDATE, transactions=(CHOICE,))
    return sorted((x for x in recorded if (x.outcome or "").startswith(f"{about}:")), key=lambda x: x.seq)


def while_opposed(evidence: Evidence, about: str, exchanges: list[Exchange]) -> list[tuple[Exchange, Exchange]]:
    """Each of ``exchanges`` that came while an opposition about ``about`` was in force (after it, before the consent
    that lifted it), with that opposition. An exchange counts when it names the patient of the opposition, or names
    nobody: a message sent without the patient's INS is still the patient's."""
    windows: list[tuple[Exchange, int | None]] = []
    opened: Exchange | None = None
    for choice in choices(evidence, about):
        if choice.outcome == f"{about}:opposition" and opened is None:
            opened = choice
        elif choice.outcome == f"{about}:accord" and opened is not None:
            windows.append((opened, choice.seq))
            opened = None
    if opened is not None:
        windows.append((opened, None))
    found = []
    for exchange in exchanges:
        for opposition, lifted in windows:
            concerned = not exchange.subjects or set(exchange.subjects) & set(opposition.subjects)
            if concerned and opposition.seq < exchange.seq and (lifted is None or exchange.seq < lifted):
                found.append((exchange, opposition))
                break
    return found
