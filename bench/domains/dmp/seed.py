"""Scenario fixtures of the DMP simulator: each patient's DMP state, and documents another professional already fed
(what a consultation should find). Seeded documents go through the simulator's own ITI-41 path, so they are stored
exactly as a feed would store them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bench.fixtures.colleague import COLLEAGUE, colleague_moment, colleague_record_target
from bench.fixtures.documents import Lineage, build_cda
from bench.fixtures.kinds import DOCUMENT_KINDS
from bench.fixtures.volets import new_study
from bench.fixtures.xds import SubmissionContext, provide_and_register, read_header
from simulators.common.mtom import MtomMessage
from simulators.common.xmlsafe import parse_xml
from simulators.dmp import transactions
from simulators.dmp.app import DmpState
from simulators.dmp.registry import PatientState, StoredEntry
from simulators.dmp.vihf import Vihf
from simulators.insi.identities import Person


def seed_patient(
    state: DmpState, person: Person, dmp_state: PatientState, kinds: list[str], imaging_order: str | None = None
) -> None:
    """Give ``person``'s DMP its state and the documents of ``kinds``, authored by a colleague; an imaging report
    fulfils the imaging request ``imaging_order`` when given."""
    state.registry.set_patient_state(person.matricule, dmp_state)
    for kind in kinds:
        colleague_feed(state, person, kind, imaging_order=imaging_order)


@dataclass(frozen=True)
class ColleagueFeed:
    request: bytes  # the ITI-41 body the colleague's software sent (its document as an xop:Include)
    unique_id: str
    replaces: str | None  # the unique id of the version it replaced


def colleague_feed(
    state: DmpState, person: Person, kind: str, *, new_version: bool = False, imaging_order: str | None = None
) -> ColleagueFeed:
    """The colleague feeds ``person``'s DMP a document of ``kind`` (written a few days ago) through the simulator's own
    ITI-41 path; ``new_version``: the next version of the colleague's last document of that kind (RPLC), which the DMP
    then deprecates."""
    registry = state.registry
    patient = colleague_record_target(person, "VOISIN-1")
    vihf = Vihf(subject=COLLEAGUE.national_id, patient_ins=person.matricule, patient_oid=person.oid(test=True))
    earlier = _colleague_document(state, person, kind) if new_version else None
    if new_version and earlier is None:
        raise RuntimeError(f"aucun document « {kind} » du confrère à remplacer dans le DMP")
    lineage = Lineage.of(earlier[1]) if earlier else None
    study = replace(new_study(), order_placer_number=imaging_order) if imaging_order else None
    moment = colleague_moment(1 if earlier else 3)
    document = build_cda(kind, patient, COLLEAGUE, now=moment, replaces=lineage, study=study)
    replaced_entry = earlier[0].entry_uuid if earlier else None
    submission = provide_and_register(
        document, SubmissionContext(source_id=COLLEAGUE.practice_id, replaces_entry=replaced_entry)
    )
    body = parse_xml(submission.body.encode())
    message = MtomMessage(body, {submission.document_cid: document})
    dmp_state = registry.patient_state(person.matricule)
    registry.set_patient_state(person.matricule, "actif")  # the colleague fed it while the DMP was open
    try:
        outcome = transactions.provide_and_register(body, message, vihf, registry)
    finally:
        registry.set_patient_state(person.matricule, dmp_state)
    if outcome.errors:
        raise RuntimeError(f"alimentation du DMP par le confrère impossible : {', '.join(outcome.errors)}")
    return ColleagueFeed(
        submission.body.encode(), read_header(document).unique_id, earlier[0].unique_id if earlier else None
    )


def colleague_delete(state: DmpState, person: Person, kind: str) -> str:
    """The colleague deletes their last document of ``kind`` from ``person``'s DMP (TD3.3c: the DMP forgets it, as the
    simulator's ITI-57 does); its unique id."""
    found = _colleague_document(state, person, kind)
    if found is None:
        raise RuntimeError(f"aucun document « {kind} » du confrère à supprimer du DMP")
    state.registry.delete(found[0].entry_uuid)
    return found[0].unique_id


def _colleague_document(state: DmpState, person: Person, kind: str) -> tuple[StoredEntry, bytes] | None:
    """The colleague's last approved document of ``kind`` in ``person``'s DMP, with its bytes."""
    wanted = DOCUMENT_KINDS[kind].code
    key = f"{person.matricule.upper()}^^^&{person.oid(test=True)}&ISO"
    for entry in reversed(state.registry.entries(key)):
        data = state.registry.content(entry.unique_id)
        mine = entry.submitter == COLLEAGUE.national_id and entry.status.endswith(":Approved")
        if mine and data and read_header(data).type_code[0] == wanted:
            return entry, data
    return None


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
