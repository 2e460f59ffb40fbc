"""SEC: security of exchanges (PGSSI-S), judged over every domain's channels from what they declare."""

from __future__ import annotations

from bench.domains.base import Domain

DOMAIN = Domain(
    name="sec",
    label="Sécurité",
    label_en="Security",
    requirement_prefixes=("SEC",),
    modules=("bench.domains.sec.checks",),
)
