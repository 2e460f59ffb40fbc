"""Scenario fixtures of the DMP simulator: each patient's DMP state, and documents another professional already fed
(what a consultation should find). Seeded documents go through the simulator's own ITI-41 path, so they are stored
exactly as a feed would store them."""

from __future__ import annotations

import datetime as dt

from bench.fixtures.colleague import COLLEAGUE, colleague_record_target
from bench.fixtures.documents import build_cda
from bench.fixtures.xds import SubmissionContext, provide_and_register
from simulators.common.mtom import MtomMessage
from simulators.common.xmlsafe import parse_xml
from simulators.dmp import transactions
from simulators.dmp.app import DmpState
from simulators.dmp.registry import PatientState
from simulators.dmp.vihf import Vihf
from simulators.insi.identities import Person


def seed_patient(state: DmpState, person: Person, dmp_state: PatientState, kinds: list[str]) -> None:
    """Give ``person``'s DMP its state and the documents of ``kinds``, authored by a colleague."""
    registry = state.registry
    registry.set_patient_state(person.matricule, dmp_state)
    patient = colleague_record_target(person, "VOISIN-1")
    vihf = Vihf(subject=COLLEAGUE.national_id, patient_ins=person.matricule, patient_oid=person.oid(test=True))
    for kind in kinds:
        document = build_cda(kind, patient, COLLEAGUE)
        submission = provide_and_register(document, SubmissionContext(source_id=COLLEAGUE.practice_id))
        body = parse_xml(submission.body.encode())
        message = MtomMessage(body, {submission.document_cid: document})
        registry.set_patient_state(person.matricule, "actif")  # the colleague fed it while the DMP was open
        outcome = transactions.provide_and_register(body, message, vihf, registry)
        registry.set_patient_state(person.matricule, dmp_state)
        if outcome.errors:
            raise RuntimeError(f"amorçage du DMP impossible : {', '.join(outcome.errors)}")


def dmp_traits(person: Person, *, divergent: bool = False) -> dict[str, str]:
    """The identity the DMP answers in TD0.2: the national base's strict traits, or the same born a day later."""
    traits = person.traits
    birth_date = traits.birth_date
    if divergent:
        birth_date = (dt.date.fromisoformat(birth_date) + dt.timedelta(days=1)).isoformat()
    return {
        "birth_name": traits.birth_name,
        "first_name": traits.first_name,
        "sex": traits.sex,
        "birth_date": birth_date,
    }
