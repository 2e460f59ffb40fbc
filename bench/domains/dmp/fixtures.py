"""DMP fixture fields: each patient's DMP as the simulator plays it, documents other professionals already put in it,
and an outage of the DMP until a step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bench.domains.base import FixtureFields
from bench.fixtures.kinds import DocumentKindName

if TYPE_CHECKING:
    from bench.catalogue.models import Scenario


class DmpPatientFixture(FixtureFields):
    dmp: Literal["actif", "absent", "ferme", "opposition", "non_autorise"] = "actif"
    dmp_documents: list[DocumentKindName] = Field(default_factory=list)
    # The identity the DMP holds for the patient (TD0.2 answers it): the national base's traits, or the same with
    # another birth date (a DMP opened from a mistyped identity, SC.DMP/CONF.01).
    dmp_traits: Literal["identiques", "divergents"] = "identiques"
    # The order placer number of the imaging request the colleague's imaging report in the DMP fulfils (its
    # referenceIdList): what a RIS or a hospital record finds the report by (DB/RIS.16, DB/DPI.04).
    dmp_imaging_order: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,30}$")


class DmpScenarioFixture(FixtureFields):
    # The DMP is unreachable (HTTP 503) from the start of the scenario until this step's action is done: an event,
    # not a duration, so that the verdict never depends on how fast the machine is.
    dmp_outage_until: str | None = None


def scenario_problems(scenario: Scenario) -> list[str]:
    until = scenario.fixtures.part(DmpScenarioFixture).dmp_outage_until
    if until is not None and until not in {step.id for step in scenario.steps}:
        return [f"fixtures.dmp_outage_until : aucune étape {until!r} dans le scénario"]
    return []
