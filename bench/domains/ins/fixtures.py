"""INS fixture fields of a scenario patient."""

from __future__ import annotations

from typing import Literal

from bench.domains.base import FixtureFields


class InsiPatientFixture(FixtureFields):
    # How INSi misbehaves for this person: a SOAP fault, or the service unavailable.
    insi_behaviour: Literal["fault", "unavailable"] | None = None
