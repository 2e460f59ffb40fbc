"""MSSanté actions: send a document, read the mailbox, the read-only reception queue, point the software to MSSanté
servers, and the bench's own deliveries of correspondents' messages to the candidate's mailbox."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bench.actions.core import CANDIDATE, ChoiceParams, DocumentParams, record_patient_choice
from bench.actions.registry import ActionContext, NoParams, Params, action, on_scenario_start
from bench.candidates.base import AdapterError
from bench.domains.mss import RECEIVED_VIEW, REPLY_VIEW, SERVERS_VIEW
from simulators.common.journal import Exchange
from simulators.mss.addresses import CORRESPONDENT

if TYPE_CHECKING:
    from bench.catalogue.models import Scenario
    from bench.domains.mss.inbox import Delivery
    from bench.domains.mss.simulators import MssSimulators

REDIRECTED = "mss.redirected"  # run state: a scenario pointed the candidate to rogue MSSanté servers
DELIVERIES = "mss.deliveries"  # scenario state: what each delivering step put in the mailbox (for resends)
RECEIVED = RECEIVED_VIEW.transaction


class SendParams(DocumentParams):
    # An MSSanté address, or ``patient`` for the patient's mailbox (the software forms it from the INS).
    to: str = Field(CORRESPONDENT, pattern=r"^(patient|[^@\s]+@[^@\s]+)$")
    # non: the professional does not want the patient to answer (X-MSS-MES: FIN, SC.MSS/CONF.21)
    reply: Literal["oui", "non"] = "oui"


class DeliveryParams(DocumentParams):
    ins: Literal["oui", "non"] = "oui"  # non: the correspondent only knows the patient by its own local id
    xdm: Literal["valid", "metadata", "traversal"] = "valid"  # a broken package: METADATA.XML left out, a ``..`` entry
    resend: str | None = None  # send again the very message of this earlier step
    replaces: str | None = None  # carry the next version of the document this earlier step delivered
    filed_in: str | None = None  # the record (patient ref) it belongs in; none: it must await matching
    read_receipt: Literal["oui", "non"] = "non"  # oui: the message asks for a read receipt (RFC 8098)


class ReplyParams(Params):
    message: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")  # the deliver_message step whose message is answered


def _reply_reference(params: ReplyParams, scenario: Scenario) -> list[str]:
    delivering = {s.id for s in scenario.steps if s.action == "deliver_message"}
    if params.message not in delivering:
        return [f"reply_to_message : message={params.message!r} ne désigne aucune étape deliver_message"]
    return []


class SizeLimitParams(Params):
    # The operator's message size limit announced from now on (EHLO SIZE, RFC 1870); 0: the usual one (30 MiB).
    bytes: str = Field("0", pattern=r"^[0-9]{1,10}$")


class ServerParams(Params):
    # untrusted: a certificate from a rogue CA; weak: suites outside SC.MSS/CONF.03 (SMTP; IMAP stays the trusted one);
    # down: the operator's servers refuse every connection (an outage)
    server: Literal["trusted", "untrusted", "weak", "down"] = "trusted"


def _delivery_references(params: DeliveryParams, scenario: Scenario) -> list[str]:
    problems = []
    if params.filed_in and params.filed_in not in {p.ref for p in scenario.fixtures.patients}:
        problems.append(f"deliver_message : filed_in={params.filed_in!r} n'est pas un patient du scénario")
    delivering = {s.id for s in scenario.steps if s.action == "deliver_message"}
    for name, value in (("resend", params.resend), ("replaces", params.replaces)):
        if value and value not in delivering:
            problems.append(f"deliver_message : {name}={value!r} ne désigne aucune étape deliver_message")
    if params.resend and params.replaces:
        problems.append("deliver_message : resend et replaces s'excluent (un même message, ou une nouvelle version)")
    return problems


@action(
    "send_document",
    domain="mss",
    description="Envoyer par MSSanté le dernier document de ce type (à un correspondant ou au patient)",
    params=SendParams,
    causes=("mss.smtp.message",),
)
def send_document(context: ActionContext, params: SendParams) -> None:
    context.adapter.send_document(
        context.require_patient().fixture.ref, params.kind, params.to, no_reply=params.reply == "non"
    )


@action(
    "deliver_message",
    domain="mss",
    description="Le banc, en correspondant, dépose un message pour le patient dans la boîte du logiciel",
    params=DeliveryParams,
    by="bench",
    focus="mss.delivery",
    validate=_delivery_references,
)
def deliver_message(context: ActionContext, params: DeliveryParams) -> Exchange:
    from bench.domains.mss.inbox import build_delivery

    step_id = context.step_id
    mss = _mss(context)
    person = mss.identities.by_id(context.require_identity())
    deliveries: dict[str, Delivery] = context.scenario.setdefault(DELIVERIES, {})
    with_ins = params.ins != "non"
    earlier = deliveries.get(params.replaces) if params.replaces else None
    if params.resend:
        if params.resend not in deliveries:
            raise AdapterError(f"l'étape {step_id} renvoie le message de l'étape {params.resend}, qui n'a rien remis")
        delivery = deliveries[params.resend]
    else:
        if params.replaces and earlier is None:
            raise AdapterError(f"l'étape {step_id} remplace le document de l'étape {params.replaces} : rien remis")
        receipt = params.read_receipt == "oui"
        delivery = build_delivery(
            person, params.kind, with_ins=with_ins, xdm=params.xdm, read_receipt=receipt, replaces=earlier
        )
    deliveries[step_id] = delivery
    exchange: Exchange = mss.server.deliver(
        delivery.data,
        kind="document",
        subjects=context.subjects,
        meta={
            "message_id": delivery.message_id,
            "unique_id": delivery.unique_id,
            "filed_in": params.filed_in,
            "ins": person.matricule if with_ins and params.xdm == "valid" else None,  # what INSi must be asked about
            "resend_of": params.resend,
            "read_receipt": params.read_receipt == "oui",
            "subject": delivery.subject,
            "type_code": delivery.type_code,
            "effective_day": delivery.effective_day,
            "replaces": earlier.unique_id if earlier is not None else None,
        },
    )
    return exchange


@action(
    "reply_to_message",
    domain="mss",
    description="Répondre par MSSanté, en texte, au message reçu d'un correspondant (relevé auparavant)",
    params=ReplyParams,
    needs_patient=False,
    causes=("mss.smtp.message",),
    validate=_reply_reference,
)
def reply_to_message(context: ActionContext, params: ReplyParams) -> None:
    deliveries: dict[str, Delivery] = context.scenario.get(DELIVERIES, {})
    delivery = deliveries.get(params.message)
    if delivery is None:
        raise AdapterError(f"l'étape {params.message} n'a remis aucun message auquel répondre")
    asked = {"message_id": delivery.message_id, "subject": delivery.subject}
    said = json.dumps(asked, ensure_ascii=False).encode()
    context.journal.record(CANDIDATE, REPLY_VIEW.transaction, {"reply": (said, "application/json")})
    context.adapter.reply_to_message(delivery.message_id, delivery.subject)


@action(
    "check_mailbox",
    domain="mss",
    description="Le logiciel relève sa boîte MSSanté (IMAP) et intègre ce qu'il a reçu",
    needs_patient=False,
    causes=("mss.imap.fetch", "mss.imap.uid_fetch"),
)
def check_mailbox(context: ActionContext, params: NoParams) -> None:
    context.adapter.check_mailbox()


@action(
    "read_received_documents",
    domain="mss",
    description="Lecture seule : documents reçus classés par dossier, et ceux en attente de rapprochement",
    needs_patient=False,
    focus=RECEIVED,
)
def read_received_documents(context: ActionContext, params: NoParams) -> Exchange:
    view = context.adapter.read_received_documents()
    data = json.dumps(asdict(view), ensure_ascii=False, indent=2).encode()
    return context.journal.record(CANDIDATE, RECEIVED, {"received": (data, "application/json")})


@action(
    "record_mss_choice",
    domain="mss",
    description="Enregistrer l'opposition du patient à l'envoi de ses documents par messagerie (à lui-même ou aux "
    "professionnels), ou son accord (qui lève l'opposition) ; un envoi alors bloqué est dit à l'utilisateur, ce n'est "
    "pas une erreur",
    params=ChoiceParams,
    focus="candidate.patient_choice",
)
def record_mss_choice(context: ActionContext, params: ChoiceParams) -> Exchange:
    return record_patient_choice(context, "mss", params, context.adapter.record_mss_choice)


class FailureParams(Params):
    reason: str = Field(
        "destinataire inconnu", min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    )  # one line


@action(
    "report_delivery_failure",
    domain="mss",
    description="L'opérateur n'a pas pu remettre le dernier message envoyé par le logiciel : un avis d'échec (DSN) "
    "arrive dans sa boîte",
    params=FailureParams,
    by="bench",
    needs_patient=False,
)
def report_delivery_failure(context: ActionContext, params: FailureParams) -> Exchange:
    exchange = _mss(context).server.report_delivery_failure(params.reason)
    if exchange is None:
        raise AdapterError("aucun message envoyé par le logiciel dont signaler l'échec de remise")
    return exchange


class DeferralParams(Params):
    count: str = Field("1", pattern=r"^[1-9][0-9]?$")  # how many submissions the operator defers


@action(
    "defer_next_messages",
    domain="mss",
    description="L'opérateur MSSanté refuse temporairement (451) les prochains messages soumis : le logiciel doit les "
    "renvoyer lui-même, sans en perdre ni en envoyer deux fois",
    params=DeferralParams,
    by="bench",
    needs_patient=False,
)
def defer_next_messages(context: ActionContext, params: DeferralParams) -> None:
    _mss(context).server.defer_next_messages(int(params.count))


@action(
    "limit_message_size",
    domain="mss",
    description="L'opérateur MSSanté annonce désormais cette taille maximale de message (EHLO SIZE ; 0 : l'habituelle)",
    params=SizeLimitParams,
    by="bench",
    needs_patient=False,
)
def limit_message_size(context: ActionContext, params: SizeLimitParams) -> None:
    _mss(context).server.limit_message_size(int(params.bytes) or None)


@action(
    "configure_mss",
    domain="mss",
    description="Les serveurs MSSanté à utiliser (le banc peut le diriger vers des serveurs non reconnus)",
    params=ServerParams,
    needs_patient=False,
)
def configure_mss(context: ActionContext, params: ServerParams) -> None:
    mss = _mss(context)
    if params.server == "untrusted":
        context.adapter.configure_mss(mss.smtp_untrusted, mss.imap_untrusted)
    elif params.server == "weak":
        context.adapter.configure_mss(mss.smtp_weak, mss.imap)
    elif params.server == "down":
        context.adapter.configure_mss(mss.smtp_down, mss.imap_down)
    else:
        context.adapter.configure_mss(mss.smtp, mss.imap)
    context.run[REDIRECTED] = params.server != "trusted"
    said = json.dumps({"server": params.server}).encode()
    context.journal.record(CANDIDATE, SERVERS_VIEW.transaction, {"servers": (said, "application/json")})


@on_scenario_start("mss")
def back_to_trusted_mss(context: ActionContext) -> None:
    if context.run.get(REDIRECTED):
        mss = _mss(context)
        context.adapter.configure_mss(mss.smtp, mss.imap)
        context.run[REDIRECTED] = False


def _mss(context: ActionContext) -> MssSimulators:
    """The running MSS simulators (imported here: ``check`` and ``replay`` load the domain's actions without them)."""
    from bench.domains.mss.simulators import MssSimulators

    running: MssSimulators = context.simulators.of("mss", MssSimulators)
    return running
