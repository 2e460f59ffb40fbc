"""What leaves the machine by default (console, CI logs, pytest output) carries no identity in clear: INS matricules
and NIR are masked there. Reports and evidence stay in the run directory, on the user's machine."""

from __future__ import annotations

import re

_MATRICULE = re.compile(r"(?<![0-9A-Za-z])([12378][0-9]{4}(?:[0-9]{2}|2A|2B))([0-9]{6}(?:[0-9]{2})?)(?![0-9A-Za-z])")


def mask_identifiers(text: str) -> str:
    """Mask NIR/NIA and INS matricules (13 or 15 characters), keeping sex, birth year-month and department.

    >>> mask_identifiers("le document transmet l'INS 178037511502783")
    "le document transmet l'INS 1780375••••••••"
    """
    return _MATRICULE.sub(lambda m: m.group(1) + "•" * len(m.group(2)), text)
