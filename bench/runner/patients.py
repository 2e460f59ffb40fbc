"""The patients of a scenario as the runner and the replay know them: routing keys that recognise the exchanges
about each one (local ref, typed traits, and for a person of the bench's fictitious population their INS, strict
traits and NIR), and what the professional types and reads (traits, Vitale card, an INS already held)."""

from __future__ import annotations

from bench.actions.registry import ScenarioPatient
from bench.candidates.base import HeldIns, PatientInput, VitaleReading
from bench.catalogue.models import Scenario
from bench.checks.base import PatientKeys
from simulators.insi.identities import IdentityBase, load_identities
from simulators.insi.ins import OID_TEST_NIA, OID_TEST_NIR, traits_key


def scenario_patients(scenario: Scenario, identities: IdentityBase) -> dict[str, ScenarioPatient]:
    patients = {}
    for fixture in scenario.fixtures.patients:
        typed = fixture.typed
        keys = {f"patient:{fixture.ref}", traits_key(typed.birth_name, typed.birth_date)}
        held = None
        if fixture.identity:
            person = identities.by_id(fixture.identity)
            keys.add(f"ins:{person.matricule}")
            keys.add(person.traits.key)
            if fixture.held_ins:
                held = HeldIns(person.matricule, OID_TEST_NIA if person.kind == "nia" else OID_TEST_NIR)
        vitale = None
        if fixture.vitale:
            vitale = VitaleReading(fixture.vitale.beneficiary, fixture.vitale.insured, fixture.vitale.rank)
            keys.update(f"nir:{n[:13].upper()}" for n in (fixture.vitale.beneficiary, fixture.vitale.insured) if n)
        patient_input = PatientInput(
            ref=fixture.ref,
            birth_name=typed.birth_name,
            first_names=list(typed.first_names),
            sex=typed.sex,
            birth_date=typed.birth_date,
            birth_place=typed.birth_place,
            vitale=vitale,
            held_ins=held,
        )
        patients[fixture.ref] = ScenarioPatient(fixture, PatientKeys(fixture.ref, frozenset(keys)), patient_input)
    return patients


def patient_keys(scenario: Scenario, identities: IdentityBase) -> dict[str, PatientKeys]:
    """How exchanges about each patient of ``scenario`` are recognised (routing keys)."""
    return {ref: patient.keys for ref, patient in scenario_patients(scenario, identities).items()}


_IDENTITIES: list[IdentityBase] = []


def population() -> IdentityBase:
    """The bench's fictitious population (INSi's identity base), read once per process."""
    if not _IDENTITIES:
        _IDENTITIES.append(load_identities())
    return _IDENTITIES[0]
