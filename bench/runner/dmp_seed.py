"""Scenario fixtures of the DMP simulator: each patient's DMP state, and documents another professional already fed
(what a consultation should find). Seeded documents go through the simulator's own ITI-41 path, so they are stored
exactly as a feed would store them."""

from __future__ import annotations

from bench.fixtures.documents import Practitioner, RecordTargetData, build_cda
from bench.fixtures.xds import SubmissionContext, provide_and_register
from simulators.common.mtom import MtomMessage
from simulators.common.xmlsafe import parse_xml
from simulators.dmp import transactions
from simulators.dmp.app import DmpState
from simulators.dmp.registry import PatientState
from simulators.dmp.vihf import Vihf
from simulators.insi.identities import Person

# Another GP of another practice (fictitious RPPS): the author of what the DMP already holds.
COLLEAGUE = Practitioner(
    rpps="10009876543",
    family="CONFRERE",
    given="AUTRE",
    practice_id="1.2.250.1.999.1.4",
    practice_name="Cabinet voisin",
)


def colleague_record_target(person: Person, local_id: str, *, with_ins: bool = True) -> RecordTargetData:
    """``person`` as another professional's software knows them: INSi's strict traits, its own local id, and the INS
    unless it only knows the patient locally."""
    traits = person.traits
    return RecordTargetData(
        local_id=local_id,
        ins_matricule=person.matricule if with_ins else None,
        ins_oid=person.oid(test=True) if with_ins else None,
        birth_name=traits.birth_name,
        first_name=traits.first_name,
        first_names=traits.first_names,
        sex=traits.sex,
        birth_date=traits.birth_date,
        birth_place=traits.birth_place,
    )


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
