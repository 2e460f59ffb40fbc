"""Pydantic models of the catalogue. Field names follow the ANS Ségur requirement grid (profil, section, bloc,
fonction, nature, n° exigence, énoncé, périmètre, criticité, preuve) so that a report reads like the grid."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from bench.fixtures.kinds import DocumentKindName

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|min)?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueHeader(Strict):
    """``requirements/catalogue.yaml``: what this catalogue is and which ANS texts it encodes."""

    catalogue_version: str
    title: str
    source_specification: str
    source_version: str
    date: str
    domains: list[str] = Field(default_factory=list, description="Order of the domains in listings and reports")


class Proof(Strict):
    """How a requirement is proven (grid columns Référence / Nature / Vérification de la preuve)."""

    reference: str = Field(description="Référence de la preuve (scénario de conformité)")
    nature: Literal["automated", "operator", "document"]
    verification: str = Field(description="Ce que l'auditeur vérifie")
    # The verdict rests on what the software says it shows (a read-only view answered by the adapter, or read from the
    # screen by the operator), not only on what reached the simulators: the report says so, for the auditor to weigh.
    candidate_view: bool = Field(False, description="Verdict fondé sur ce que le logiciel déclare afficher")


class Source(Strict):
    specification: str
    section: str | None = None
    # How far the public sources can be trusted for this entry (SEGUR-REQUIREMENTS.md, "Sources and confidence").
    confidence: Literal["high", "medium", "low"] | None = None
    note: str | None = None


class Requirement(Strict):
    """One requirement (exigence) or recommendation (préconisation) of the catalogue."""

    id: str = Field(pattern=r"^[A-Z]{2,5}-\d{3}$")
    official_ids: list[str] = Field(default_factory=list)
    title: str
    title_en: str | None = None
    statement: str = Field(description="Énoncé en français, tel qu'ANS l'écrit")
    statement_en: str | None = None
    profiles: list[str] = Field(min_length=1)
    section: str
    block: str
    function: str
    nature: Literal["exigence", "preconisation"]
    perimeter: Literal["vague1", "vague2"]
    criticality: Literal["critical", "major", "minor"]
    proof: Proof
    source: Source
    checks: list[str] = Field(default_factory=list)
    operator_checklist: list[str] = Field(default_factory=list)


class Profile(Strict):
    id: str
    label: str
    description: str
    # The REM of ANS's wave-2 grid whose rows this profile follows (LGC, BIO, RIS, DB, DPI, PFI): where the report finds
    # ANS's scenario and proof for each requirement, when given the grid's export (--ans-grid).
    ans_rem: str | None = None
    ans_rem_note: str | None = None  # a caveat on that choice, shown in the report's header
    # Which release or draft of ANS's requirements this profile's catalogue follows, shown in the report's header.
    grid: str = ""
    # The document its software produces most: what a scenario step produces when it names no kind.
    usual_document: DocumentKindName


class RequirementFile(Strict):
    requirements: list[Requirement]


class ProfilesFile(Strict):
    profiles: list[Profile]


class VitaleFixture(Strict):
    beneficiary: str | None = None
    insured: str | None = None
    rank: str = "1"


class TypedTraits(Strict):
    """Traits as a professional types them (case, accents and all)."""

    birth_name: str
    first_names: list[str] = Field(min_length=1)
    sex: Literal["M", "F"]
    birth_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    birth_place: str | None = None


M = TypeVar("M", bound=BaseModel)


class DomainFields(BaseModel):
    """Fixture fields a domain adds (its declaration names the model); the loader checks them, ``part`` reads them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def part(self, model: type[M]) -> M:
        """The fields ``model`` declares, validated (``fixture.part(DmpPatientFixture).dmp``)."""
        extra = self.model_extra or {}
        return model.model_validate({key: value for key, value in extra.items() if key in model.model_fields})


class PatientFixture(DomainFields):
    """A patient of the scenario: who they are for INSi (``identity``, an id of the simulator's base, or none for
    a person INSi does not know) and what the professional types and reads. Domains add their own fields (the DMP
    state of the patient's record, INSi misbehaviour...)."""

    ref: str
    identity: str | None = None
    typed: TypedTraits
    vitale: VitaleFixture | None = None
    held_ins: bool = False


class Fixtures(DomainFields):
    """The scenario's patients, and fields the domains add (a DMP outage until a step...)."""

    patients: list[PatientFixture] = Field(default_factory=list)


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value`` ("5s", "250ms", "1min", 3)."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"durée illisible : {value!r} (exemples : 5s, 250ms, 1min)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1.0, "min": 60.0}[unit]


class Expectation(Strict):
    """An exchange that must (or, with ``absent``, must not) reach a simulator within ``within``, and the checks
    that then run on it. When the exchange does not come (or comes though forbidden), ``requirement`` fails."""

    requirement: str
    channel: str
    transaction: str
    patient: str | None = None
    within: Annotated[
        float,
        WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": _DURATION.pattern}]}),
    ] = 5.0
    absent: bool = False
    outcome: str | None = None  # only an exchange the simulator filed with this outcome counts (e.g. "success")
    outcome_not: str | None = None  # an exchange filed with this outcome does not count (e.g. a refusal for outage)
    checks: list[str] = Field(default_factory=list)

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class Step(Strict):
    """One action asked of the candidate, then what must be observed and judged."""

    id: str
    title: str
    action: str = Field(description="Une action du registre (bench/actions, bench/domains/*/actions.py)")
    patient: str | None = None
    params: dict[str, str] = Field(default_factory=dict, description="Paramètres, validés par le modèle de l'action")
    expect: list[Expectation] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)


class Scenario(Strict):
    id: str = Field(pattern=r"^[A-Z]{2,5}-SC-\d{2}$")
    title: str
    description: str | None = None
    requirements: list[str] = Field(min_length=1)
    profiles: list[str] = Field(min_length=1)
    fixtures: Fixtures = Field(default_factory=Fixtures)
    steps: list[Step] = Field(min_length=1)
