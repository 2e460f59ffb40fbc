"""DMP actions: open the record (access test), consult, replace and mask documents, point the software to a DMP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bench.actions.core import (
    CANDIDATE,
    DOCUMENT,
    ChoiceParams,
    DocumentParams,
    record_document,
    record_patient_choice,
)
from bench.actions.registry import ActionContext, NoParams, Params, action, on_scenario_start
from bench.candidates.base import AdapterError
from bench.domains.dmp import COLLEAGUE_FEED, COLLEAGUE_FEED_PATH, INTEGRATION_VIEW, ORDER_SEARCH_VIEW
from simulators.common.journal import Exchange

if TYPE_CHECKING:
    from bench.domains.dmp.simulators import DmpSimulators

REDIRECTED = "dmp.redirected"  # run state: a scenario pointed the candidate to the rogue DMP


class ConsultParams(Params):
    mode: Literal["normal", "bris_de_glace"] = "normal"


class SearchParams(DocumentParams):
    since: str = Field("2020-01-01", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="Documents créés depuis")


SEARCH = "candidate.dmp_search"  # what the bench asked to search for (the criteria the ITI-18 must carry)
ORDER_SEARCH = ORDER_SEARCH_VIEW.transaction


class OrderParams(Params):
    order: str = Field(
        pattern=r"^[A-Za-z0-9-]{1,30}$", description="Numéro de la demande d'imagerie (Order Placer Number)"
    )


INTEGRATION = INTEGRATION_VIEW.transaction


class ServerParams(Params):
    server: Literal["trusted", "untrusted"] = "trusted"  # untrusted: a DMP whose certificate must be refused


@action(
    "open_patient_record",
    domain="dmp",
    description="Ouvrir le dossier du patient (vague 2 : test d'accès au DMP sans clic)",
    causes=("dmp.td02", "dmp.td03"),
)
def open_patient_record(context: ActionContext, params: NoParams) -> None:
    context.adapter.open_patient_record(context.require_patient().fixture.ref)


@action(
    "consult_dmp",
    domain="dmp",
    description="Consulter le DMP du patient depuis son dossier et intégrer ce qui est retrouvé",
    params=ConsultParams,
    causes=("dmp.iti18", "dmp.iti43"),
)
def consult_dmp(context: ActionContext, params: ConsultParams) -> None:
    context.adapter.consult_dmp(context.require_patient().fixture.ref, params.mode)


@action(
    "replace_document",
    domain="dmp",
    description="Corriger le dernier document de ce type : une nouvelle version le remplace",
    params=DocumentParams,
    causes=("dmp.iti41",),
    focus=DOCUMENT,
)
def replace_document(context: ActionContext, params: DocumentParams) -> Exchange:
    return record_document(
        context, context.adapter.replace_document(context.require_patient().fixture.ref, params.kind)
    )


@action(
    "mask_document",
    domain="dmp",
    description="Masquer aux professionnels le dernier document de ce type",
    params=DocumentParams,
    causes=("dmp.iti57",),
)
def mask_document(context: ActionContext, params: DocumentParams) -> None:
    context.adapter.mask_document(context.require_patient().fixture.ref, params.kind)


@action(
    "search_dmp",
    domain="dmp",
    description="Rechercher dans le DMP du patient les documents d'un type créés depuis une date (recherche "
    "multicritère sur les métadonnées XDS)",
    params=SearchParams,
    causes=("dmp.iti18",),
)
def search_dmp(context: ActionContext, params: SearchParams) -> None:
    patient = context.require_patient()
    asked = {"ref": patient.fixture.ref, "kind": params.kind, "since": params.since}
    context.journal.record(
        CANDIDATE, SEARCH, {"search": (json.dumps(asked).encode(), "application/json")}, subjects=context.subjects
    )
    context.adapter.search_dmp(patient.fixture.ref, params.kind, params.since)


@action(
    "find_order_reports",
    domain="dmp",
    description="Retrouver dans le DMP du patient les comptes rendus d'imagerie d'une demande d'actes d'imagerie, par "
    "son Order Placer Number (requête sur les métadonnées XDS, DB/RIS.16 et DB/DPI.04)",
    params=OrderParams,
    causes=("dmp.iti18",),
)
def find_order_reports(context: ActionContext, params: OrderParams) -> None:
    patient = context.require_patient()
    asked = {"ref": patient.fixture.ref, "order": params.order}
    context.journal.record(
        CANDIDATE, ORDER_SEARCH, {"search": (json.dumps(asked).encode(), "application/json")}, subjects=context.subjects
    )
    context.adapter.find_order_reports(patient.fixture.ref, params.order)


@action(
    "record_dmp_choice",
    domain="dmp",
    description="Enregistrer l'opposition du patient à l'accès des professionnels à son DMP, ou son accord (qui lève "
    "l'opposition) ; un refus qui en découle est dit à l'utilisateur, ce n'est pas une erreur",
    params=ChoiceParams,
    focus="candidate.patient_choice",
)
def record_dmp_choice(context: ActionContext, params: ChoiceParams) -> Exchange:
    return record_patient_choice(context, "dmp", params, context.adapter.record_dmp_choice)


@action(
    "delete_document",
    domain="dmp",
    description="Supprimer du DMP le dernier document de ce type envoyé par le logiciel (TD3.3c)",
    params=DocumentParams,
    causes=("dmp.iti57",),
)
def delete_document(context: ActionContext, params: DocumentParams) -> None:
    context.adapter.delete_document(context.require_patient().fixture.ref, params.kind)


@action(
    "integrate_dmp_document",
    domain="dmp",
    description="Sélectionner dans la liste du DMP le document d'un confrère de ce type et l'intégrer au dossier (un "
    "document déjà intégré ne l'est pas une seconde fois)",
    params=DocumentParams,
    causes=("dmp.iti18", "dmp.iti43"),
)
def integrate_dmp_document(context: ActionContext, params: DocumentParams) -> None:
    patient = context.require_patient()
    asked = {"ref": patient.fixture.ref, "kind": params.kind}
    context.journal.record(
        CANDIDATE,
        INTEGRATION,
        {"integration": (json.dumps(asked).encode(), "application/json")},
        subjects=context.subjects,
    )
    context.adapter.integrate_dmp_document(patient.fixture.ref, params.kind)


@action(
    "open_dmp_document",
    domain="dmp",
    description="Ouvrir dans le dossier le document de ce type intégré du DMP (le logiciel vérifie auprès du DMP "
    "s'il a été remplacé ou supprimé depuis)",
    params=DocumentParams,
    causes=("dmp.iti18",),
)
def open_dmp_document(context: ActionContext, params: DocumentParams) -> None:
    context.adapter.open_dmp_document(context.require_patient().fixture.ref, params.kind)


@action(
    "publish_new_version",
    domain="dmp",
    description="Le banc, en confrère, publie dans le DMP du patient une nouvelle version de son document de ce type "
    "(remplacement RPLC : l'ancienne version est dépréciée)",
    params=DocumentParams,
    by="bench",
    focus=COLLEAGUE_FEED,
)
def publish_new_version(context: ActionContext, params: DocumentParams) -> Exchange:
    from bench.domains.dmp.seed import colleague_feed

    dmp = _dmp(context)
    person = dmp.identities.by_id(context.require_identity())
    try:
        feed = colleague_feed(dmp.state, person, params.kind, new_version=True)
    except RuntimeError as exc:
        raise AdapterError(f"l'étape {context.step_id} : {exc}") from exc
    meta = {"unique_id": feed.unique_id, "replaces": feed.replaces}
    return _colleague_change(context, (feed.request, "application/xml"), meta)


@action(
    "delete_colleague_document",
    domain="dmp",
    description="Le banc, en confrère, supprime du DMP du patient son document de ce type (TD3.3c)",
    params=DocumentParams,
    by="bench",
    focus=COLLEAGUE_FEED,
)
def delete_colleague_document(context: ActionContext, params: DocumentParams) -> Exchange:
    from bench.domains.dmp.seed import colleague_delete

    dmp = _dmp(context)
    person = dmp.identities.by_id(context.require_identity())
    try:
        deleted = colleague_delete(dmp.state, person, params.kind)
    except RuntimeError as exc:
        raise AdapterError(f"l'étape {context.step_id} : {exc}") from exc
    said = json.dumps({"deleted": deleted, "kind": params.kind}).encode()
    return _colleague_change(context, (said, "application/json"), {"deletes": deleted})


def _colleague_change(context: ActionContext, request: tuple[bytes, str], meta: dict[str, str | None]) -> Exchange:
    """Journal what a colleague changed in the DMP, with the path an export's replay knows it by."""
    exchange: Exchange = context.journal.record(
        "dmp",
        COLLEAGUE_FEED,
        {"request": request},
        subjects=context.subjects,
        outcome="success",
        meta={**meta, "path": COLLEAGUE_FEED_PATH},
    )
    return exchange


@action(
    "configure_dmp",
    domain="dmp",
    description="Le DMP que le logiciel doit utiliser désormais (le banc peut le diriger vers un serveur non reconnu)",
    params=ServerParams,
    needs_patient=False,
)
def configure_dmp(context: ActionContext, params: ServerParams) -> None:
    dmp = _dmp(context)
    untrusted = params.server == "untrusted"
    context.adapter.configure_dmp(dmp.untrusted_url if untrusted else dmp.url)
    context.run[REDIRECTED] = untrusted


@on_scenario_start("dmp")
def back_to_trusted_dmp(context: ActionContext) -> None:
    """A scenario that pointed the candidate to the rogue DMP leaves the next one with the real endpoint."""
    if context.run.get(REDIRECTED):
        context.adapter.configure_dmp(_dmp(context).url)
        context.run[REDIRECTED] = False


def _dmp(context: ActionContext) -> DmpSimulators:
    """The running DMP simulators (imported here: ``check`` and ``replay`` load the domain's actions without them)."""
    from bench.domains.dmp.simulators import DmpSimulators

    running: DmpSimulators = context.simulators.of("dmp", DmpSimulators)
    return running
