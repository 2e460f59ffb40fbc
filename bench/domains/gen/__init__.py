"""GEN: general requirements of the referencing (labels, portability, ...), proven by operator or document."""

from __future__ import annotations

from bench.domains.base import Domain

DOMAIN = Domain(name="gen", label="Exigences générales", label_en="General requirements", requirement_prefixes=("GEN",))
