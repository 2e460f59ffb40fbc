"""The DMP simulator: an ASGI app answering the DMP's web services behind mutual TLS, over SOAP 1.2 with
WS-Addressing and MTOM/XOP: XDS.b (ITI-41, ITI-18, ITI-43, ITI-57), the access test TD0.2 (HL7v3 on ``patients``)
and the authorisation TD0.3 (``habilitations``).

Every call must carry a VIHF that verifies (simulators/dmp/vihf.py); a call without one, or with a forged, expired
or incomplete one, gets a WS-Security SOAP fault (OASIS WSS 1.1 §12 fault codes). Every exchange, refused ones
included, is recorded before the answer, with what the simulator concluded about the VIHF.

The services answer at the DMP's own paths (``/si-dmp-server/v2/services/<service>``, WSDL annex v2.01.04), so that
a vendor changes only the host, and at the bench's ``/dmp``; every operation is recognised by its WS-Addressing
action on any of them, as one CXF bus would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulators.common.journal import Journal
from simulators.common.mtom import MtomError, MtomMessage, build_mtom, parse_mtom
from simulators.common.saml import find_assertion
from simulators.common.server import read_bounded
from simulators.common.soap import SOAP12_CONTENT_TYPE, SoapError, envelope, fault, read_envelope
from simulators.common.xmlsafe import UnsafeXmlError
from simulators.dmp import transactions
from simulators.dmp.messages import ACTIONS, RESPONSE_ACTIONS
from simulators.dmp.registry import DmpRegistry
from simulators.dmp.vihf import Vihf, verify_vihf

MAX_BODY_BYTES = 20 * 1024 * 1024
DMP_PATH = "/dmp"
SERVICES_PATH = "/si-dmp-server/v2/services"  # the DMP's (WSDL annex: https://<host>/si-dmp-server/v2/services/)
SERVICES = ("registry", "repository", "patients", "habilitations")
# Fault subcodes the simulator names itself (the DMP's own fault vocabulary is not public): bench naming.
DMP_FAULT_NS = "urn:segur-bench:dmp:faults"
Handler = Callable[[Any, MtomMessage, Vihf, DmpRegistry], transactions.Outcome]
_HANDLERS: dict[str, Handler] = {
    "dmp.td02": lambda body, message, vihf, registry: transactions.access_test(body, vihf, registry),
    "dmp.td03": lambda body, message, vihf, registry: transactions.set_authorization(body, vihf, registry),
    "dmp.iti41": transactions.provide_and_register,
    "dmp.iti18": lambda body, message, vihf, registry: transactions.stored_query(body, vihf, registry),
    "dmp.iti43": lambda body, message, vihf, registry: transactions.retrieve(body, vihf, registry),
    "dmp.iti57": lambda body, message, vihf, registry: transactions.update(body, vihf, registry),
}


@dataclass
class DmpState:
    """What the simulator plays: its registry (patients' states and documents) and whom it trusts for VIHFs."""

    registry: DmpRegistry
    trusted_ca: x509.Certificate
    outage: bool = False  # the DMP is unreachable: every call gets HTTP 503

    def unavailable(self) -> bool:
        return self.outage


def open_state(state_dir: Path, ca_cert: Path) -> DmpState:
    return DmpState(DmpRegistry(state_dir / "dmp.sqlite"), x509.load_pem_x509_certificate(ca_cert.read_bytes()))


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = SOAP12_CONTENT_TYPE
    transaction: str = "dmp.invalid"
    outcome: str = "fault:Sender"
    subjects: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def create_dmp_app(journal: Journal, state: DmpState, *, channel: str = "dmp") -> Starlette:
    """The DMP simulator app, recording into ``journal`` under ``channel``."""

    async def serve(request: Request) -> Response:
        peer = {"address": request.client.host if request.client else None, **request.state.tls}
        body, truncated = await read_bounded(request, MAX_BODY_BYTES)
        content_type = request.headers.get("content-type", "")
        viewable: dict[str, tuple[bytes, str]] = {}  # MTOM split into parts a browser opens (the auditor's view)
        answer = _answer(state, body, truncated, content_type, viewable)
        meta = {**answer.meta, "http_status": answer.status, "content_type": content_type, "path": request.url.path}
        if truncated:
            meta["truncated_at"] = MAX_BODY_BYTES
        # Journal first, answer second: an exchange the candidate saw answered is always on disk.
        journal.record(
            channel,
            answer.transaction,
            {
                "request": (body, content_type or "application/octet-stream"),
                "response": (answer.body, answer.content_type),
                **viewable,
            },
            subjects=answer.subjects,
            outcome=answer.outcome,
            peer=peer,
            meta=meta,
        )
        return Response(answer.body, status_code=answer.status, headers={"content-type": answer.content_type})

    async def refuse_get(request: Request) -> Response:
        return Response("DMP simulator: POST SOAP 1.2 requests here.\n", status_code=405, headers={"Allow": "POST"})

    routes = [
        Route(DMP_PATH, serve, methods=["POST"]),
        Route(DMP_PATH + "/{service:path}", serve, methods=["POST"]),
        Route(DMP_PATH, refuse_get, methods=["GET"]),
        *(Route(f"{SERVICES_PATH}/{service}", serve, methods=["POST"]) for service in SERVICES),
        *(Route(f"{SERVICES_PATH}/{service}", refuse_get, methods=["GET"]) for service in SERVICES),
    ]
    return Starlette(routes=routes)


def _refused(status: int, reason: str, code: str = "Sender", subcode: str | None = None, **extra: Any) -> _Answer:
    meta = {"error": reason, **extra.pop("meta", {})}
    body = fault(code, reason, subcode=subcode, prefixes={"dmp": DMP_FAULT_NS})
    return _Answer(status, body, outcome=f"fault:{subcode or code}", meta=meta, **extra)


def _vihf_summary(vihf: Vihf, problems: list[Any]) -> dict[str, Any]:
    return {
        "subject": vihf.subject,
        "patient": vihf.patient_ins,
        "patient_oid": vihf.patient_oid,
        "access_mode": vihf.access_mode,
        "software": vihf.first("LPS_Nom"),
        "signer": vihf.signer,
        "authentication_mode": vihf.first("Authentification_mode"),
        "notes": vihf.notes,
        "problems": [f"{p.field} : {p.message}" for p in problems],
    }


def _security_subcode(problems: list[Any]) -> str:
    fields = {p.field for p in problems}
    if "Signature" in fields:
        return "wsse:FailedCheck"
    if any("expirée" in p.message for p in problems):
        return "wsse:MessageExpired"
    return "wsse:InvalidSecurityToken"


def _split(prefix: str, envelope_xml: bytes, attachments: dict[str, bytes]) -> dict[str, tuple[bytes, str]]:
    """An MTOM message's SOAP envelope and each attachment as parts of their own, typed by what they are, so that a
    browser shows them (the raw multipart body stays the evidence the checks read)."""
    parts = {f"{prefix}-envelope": (envelope_xml, "application/soap+xml")}
    for index, data in enumerate(attachments.values(), start=1):
        kind = "application/pdf" if data.startswith(b"%PDF") else "text/xml" if data.lstrip()[:1] == b"<" else ""
        parts[f"{prefix}-part{index}"] = (data, kind or "application/octet-stream")
    return parts


def _answer(
    state: DmpState, body: bytes, truncated: bool, content_type: str, viewable: dict[str, tuple[bytes, str]]
) -> _Answer:
    if state.unavailable():
        reason = "service DMP momentanément indisponible : renouveler l'envoi plus tard"
        return _refused(503, reason, "Receiver", "dmp:ServiceIndisponible")
    if truncated:
        return _refused(413, f"requête trop volumineuse : au-delà de {MAX_BODY_BYTES} octets")
    kind = content_type.lower()
    if not (kind.startswith("application/soap+xml") or kind.startswith("multipart/related")):
        return _refused(415, f"type de contenu {content_type or 'absent'!r} : SOAP 1.2 (MTOM) attendu")
    try:
        message = parse_mtom(body, content_type, max_bytes=MAX_BODY_BYTES)
        parsed = read_envelope(message.envelope, accept_soap11=True)  # TD2.1's official example is SOAP 1.1
    except (MtomError, UnsafeXmlError) as exc:
        return _refused(400, f"message illisible : {exc}")
    except SoapError as exc:
        return _refused(400 if exc.code in ("Sender", "VersionMismatch") else 500, str(exc), exc.code, exc.subcode)
    if message.attachments:
        viewable |= _split("request", etree.tostring(message.envelope), message.attachments)
    transaction = ACTIONS.get(parsed.action or "")
    if transaction is None:
        reason = f"WS-Addressing Action {parsed.action!r} absente ou non prise en charge par le DMP"
        return _refused(400, reason, subcode="wsa:ActionNotSupported")
    assertion = find_assertion(parsed.root)
    if assertion is None:
        reason = "en-tête WS-Security sans assertion SAML : chaque appel au DMP doit porter un VIHF"
        return _refused(400, reason, subcode="wsse:InvalidSecurity", transaction=transaction, meta={"vihf": None})
    vihf, problems = verify_vihf(assertion, state.trusted_ca)
    summary = _vihf_summary(vihf, problems)
    subjects = [f"ins:{vihf.patient_ins.upper()}"] if vihf.patient_ins else []
    if problems:
        reason = "VIHF refusé : " + " ; ".join(summary["problems"])
        return _refused(
            400,
            reason,
            subcode=_security_subcode(problems),
            transaction=transaction,
            subjects=subjects,
            meta={"vihf": summary},
        )
    outcome = _HANDLERS[transaction](parsed.body_element, message, vihf, state.registry)
    if outcome.patient:
        subjects.append(f"ins:{outcome.patient}")
    meta = {"vihf": summary, "errors": outcome.errors, **outcome.meta}
    if outcome.fault is not None:
        subcode, reason = outcome.fault
        return _refused(400, reason, subcode=subcode, transaction=transaction, subjects=subjects, meta=meta)
    reply = envelope(outcome.body, action=RESPONSE_ACTIONS[transaction], relates_to=parsed.message_id)
    if outcome.attachments:
        data, reply_type = build_mtom(reply, outcome.attachments)
        viewable |= _split("response", reply, {cid: data for cid, (data, _type) in outcome.attachments.items()})
        return _Answer(200, data, reply_type, transaction, outcome.outcome, subjects, meta)
    return _Answer(200, reply, SOAP12_CONTENT_TYPE, transaction, outcome.outcome, subjects, meta)
