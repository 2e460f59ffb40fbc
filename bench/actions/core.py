"""Actions every health software answers whatever the domain: register a patient, produce a document, and the
read-only view of a patient's record. Their exchanges go on the bench's ``candidate`` channel."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Literal

from pydantic import Field

from bench.actions.registry import ActionContext, NoParams, Params, action
from bench.candidates.base import IDENTITY_STATUSES, AdapterError, Artifact
from bench.domains.base import CandidateView
from bench.fixtures.kinds import DocumentKindName
from simulators.common.journal import Exchange

CANDIDATE = "candidate"  # the bench's own channel for what the candidate hands over or shows
DOCUMENT = "candidate.document"
RECORD = "candidate.patient_record"
CHOICE = "candidate.patient_choice"
DASHBOARD = "candidate.dashboard"
DOCUMENT_REQUEST = "candidate.document_request"
CORE_VIEWS = (
    CandidateView(DOCUMENT, "document", "application/xml", "documents/", ".xml"),
    # What the candidate answered the bench's read-only query (a bench extension, JSON).
    CandidateView(RECORD, "record", "application/json", "records/", ".json", subject_field="ref"),
    # A patient's opposition (or consent) the bench asked the candidate to record: later exchanges are judged by it.
    CandidateView(CHOICE, "choice", "application/json", "choices/", ".json", subject_field="ref"),
    # What the software's dashboard shows (GEN-003), compared with what reached the simulators.
    CandidateView(DASHBOARD, "dashboard", "application/json", "dashboards/", ".json"),
    # What the bench asked of a document beyond its kind: a business date, recipients (what the document must carry).
    CandidateView(DOCUMENT_REQUEST, "request", "application/json", "document-requests/", ".json", subject_field="ref"),
)


class DocumentParams(Params):
    kind: DocumentKindName = Field(
        "consultation-report",
        description="Le type de document (liste unique des types) ; dans une campagne, une étape qui ne le nomme pas "
        "porte sur le document habituel du profil (profiles.yaml, usual_document)",
    )


class ChoiceParams(Params):
    # accord: the patient consents, which lifts an earlier opposition
    choice: Literal["opposition", "accord"] = Field("opposition", description="opposition, ou accord (la lève)")


def record_patient_choice(
    context: ActionContext, about: str, params: ChoiceParams, record: Callable[[str, str], None]
) -> Exchange:
    """Ask the candidate to record the patient's choice about ``about`` (a domain's name) through ``record`` (the
    adapter's method for it), then journal what was asked, so that checks judge each later exchange against the
    choice in force."""
    patient = context.require_patient()
    record(patient.fixture.ref, params.choice)
    said = {"ref": patient.fixture.ref, "about": about, "choice": params.choice}
    return context.journal.record(
        CANDIDATE,
        CHOICE,
        {"choice": (json.dumps(said, ensure_ascii=False).encode(), "application/json")},
        subjects=context.subjects,
        outcome=f"{about}:{params.choice}",
    )


def snapshot(context: ActionContext) -> Exchange:
    """What the candidate's read-only query answers for the step's patient, recorded as evidence."""
    patient = context.require_patient()
    view = context.adapter.read_patient_record(patient.fixture.ref)
    if view.status not in IDENTITY_STATUSES:
        # An unknown status cannot be judged: a bench error, never a silent pass.
        raise AdapterError(f"statut d'identité inconnu {view.status!r} : attendu {', '.join(IDENTITY_STATUSES)}")
    data = json.dumps(asdict(view), ensure_ascii=False, indent=2).encode()
    return context.journal.record(
        CANDIDATE, RECORD, {"record": (data, "application/json")}, subjects=context.subjects, outcome=view.status
    )


def record_document(context: ActionContext, artifact: Artifact) -> Exchange:
    """A document the candidate produced, then the identity status at the time of production."""
    document = context.journal.record(
        CANDIDATE,
        DOCUMENT,
        {"document": (artifact.data, artifact.media_type)},
        subjects=context.subjects,
        meta={"name": artifact.name},
    )
    snapshot(context)
    return document


@action("register_patient", domain="core", description="Créer le dossier du patient avec les traits saisis")
def register_patient(context: ActionContext, params: NoParams) -> None:
    context.adapter.register_patient(context.require_patient().input)


class ProduceParams(DocumentParams):
    # A historical document (SC.DMP/HISTO.03): dated of this day, its production or validation, not of today.
    date: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="Date métier (historique)")
    # The correspondents the document is written to (LGC.DOC.02: each named in it), MSSanté addresses, comma-separated.
    to: str | None = Field(None, pattern=r"^[^@\s,]+@[^@\s,]+(,[^@\s,]+@[^@\s,]+){0,9}$", description="Destinataires")


@action(
    "produce_document",
    domain="core",
    description="Produire un document pour le patient (le banc en reçoit les octets)",
    params=ProduceParams,
    focus=DOCUMENT,
)
def produce_document(context: ActionContext, params: ProduceParams) -> Exchange:
    ref = context.require_patient().fixture.ref
    recipients = [a.strip() for a in params.to.split(",")] if params.to else []
    if params.date or recipients:
        said = {"ref": ref, "kind": params.kind, "business_date": params.date, "recipients": recipients}
        asked = json.dumps(said).encode()
        context.journal.record(
            CANDIDATE, DOCUMENT_REQUEST, {"request": (asked, "application/json")}, subjects=context.subjects
        )
    artifact = context.adapter.produce_document(ref, params.kind, business_date=params.date, recipients=recipients)
    return record_document(context, artifact)


@action(
    "read_patient_record",
    domain="core",
    description="Lecture seule : ce que le logiciel détient pour le patient",
    focus=RECORD,
)
def read_patient_record(context: ActionContext, params: NoParams) -> Exchange:
    return snapshot(context)


@action(
    "read_dashboard",
    domain="core",
    description="Lecture seule : les compteurs du tableau de bord du logiciel (alimentations DMP, messages MSSanté, "
    "appels INSi)",
    needs_patient=False,
    focus=DASHBOARD,
)
def read_dashboard(context: ActionContext, params: NoParams) -> Exchange:
    view = context.adapter.read_dashboard()
    data = json.dumps(asdict(view), ensure_ascii=False, indent=2).encode()
    return context.journal.record(CANDIDATE, DASHBOARD, {"dashboard": (data, "application/json")})
