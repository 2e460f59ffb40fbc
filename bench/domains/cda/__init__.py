"""CDA: documents produced per the CI-SIS (schema, header, patient, actors, body, the volets' schematrons)."""

from __future__ import annotations

from bench.domains.base import Domain

DOMAIN = Domain(
    name="cda",
    label="Documents CDA (CI-SIS)",
    label_en="CDA documents (CI-SIS)",
    requirement_prefixes=("CDA",),
    modules=("bench.domains.cda.checks",),
)
