"""The INSi simulator: an ASGI app answering the INSi teleservice's operations over SOAP 1.2.

It plays the national base of ``identities.yaml`` (results 00/01/02), answers faults and unavailability when a
scenario asks for them, refuses what the real service would refuse (SOAP 1.1, missing WS-Addressing action,
missing software context), and records every exchange, including refused ones, before answering.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulators.common.journal import Journal
from simulators.common.server import read_bounded
from simulators.common.soap import SOAP12_CONTENT_TYPE, SoapError, envelope, fault, parse_envelope
from simulators.insi.cps import verify_cps_assertion
from simulators.insi.identities import IdentityBase, Person, load_identities
from simulators.insi.ins import traits_key
from simulators.insi.messages import (
    TRANSACTION_ACTIONS,
    InsiIdentity,
    InsiRequest,
    read_request,
    result_body,
    siram_error,
)

MAX_BODY_BYTES = 256 * 1024
INSI_PATH = "/insi"
LPS_PATH = "/lps"  # the teleservice's own path (https://qualiflps-services-ps-tlsm.ameli.fr:443/lps, CNAM WSDL)
# The teleservice answers every SOAP fault with HTTP 500 (clients such as padoa's read a fault only then).
FAULT_STATUS = 500
Behaviour = Literal["fault", "unavailable"]


@dataclass
class InsiState:
    """What the simulator plays: the identity base, OIDs to return, and per-person misbehaviour."""

    identities: IdentityBase = field(default_factory=load_identities)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_behaviours(self, behaviours: dict[str, Behaviour]) -> None:
        with self.lock:
            self.behaviours = dict(behaviours)

    def behaviour_for(self, persons: list[Person]) -> Behaviour | None:
        with self.lock:
            for person in persons:
                if person.id in self.behaviours:
                    return self.behaviours[person.id]
        return None


def _identity(person: Person, test_oids: bool) -> InsiIdentity:
    t = person.traits
    return InsiIdentity(
        matricule=person.matricule,
        oid=person.oid(test=test_oids),
        birth_name=t.birth_name,
        first_name=t.first_name,
        first_names=t.first_names,
        sex=t.sex,
        birth_date=t.birth_date,
        birth_place=t.birth_place,
    )


def _match(state: InsiState, request: InsiRequest) -> list[Person]:
    base = state.identities
    if request.transaction == "insi.search_traits":
        return base.search_traits(
            request.birth_name or "",
            request.first_names,
            request.sex or "",
            request.birth_date or "",
            request.birth_place,
        )
    if request.transaction == "insi.search_vitale":
        return base.search_vitale(request.beneficiary, request.insured, request.birth_date)
    person = base.by_matricule(request.matricule or "")
    if person is None:
        return []
    found = base.search_traits(
        request.birth_name or "",
        request.first_names,
        request.sex or "",
        request.birth_date or "",
        request.birth_place,
    )
    return [person] if person in found else []


def _subjects(request: InsiRequest, persons: list[Person]) -> list[str]:
    keys = []
    if request.birth_name and request.birth_date:
        keys.append(traits_key(request.birth_name, request.birth_date))
    for number in (request.beneficiary, request.insured):
        if number:
            keys.append(f"nir:{number[:13].upper()}")
    if request.matricule:
        keys.append(f"ins:{request.matricule.upper()}")
    for person in persons:
        keys.append(f"ins:{person.matricule}")
        keys.append(person.traits.key)
    return keys


def create_insi_app(
    journal: Journal, state: InsiState | None = None, *, cps_ca: x509.Certificate | None = None
) -> Starlette:
    """The INSi simulator app, recording into ``journal``. With ``cps_ca``, it plays the CPS-assertion mode: server-side
    TLS only, every call carrying a SAML assertion signed by a CPS card that authority issued (insi/cps.py)."""
    insi_state = state or InsiState()

    async def serve(request: Request) -> Response:
        peer = {"address": request.client.host if request.client else None, **request.state.tls}
        body, truncated = await read_bounded(request, MAX_BODY_BYTES)
        content_type = request.headers.get("content-type", "")
        answer = _answer(insi_state, body, truncated, content_type, cps_ca)
        meta = {**answer.meta, "http_status": answer.status, "content_type": content_type, "path": request.url.path}
        if truncated:
            meta["truncated_at"] = MAX_BODY_BYTES
        # Journal first, answer second: an exchange the candidate saw answered is always on disk.
        journal.record(
            "insi",
            answer.transaction,
            {
                "request": (body, content_type or "application/octet-stream"),
                "response": (answer.body, SOAP12_CONTENT_TYPE),
            },
            subjects=answer.subjects,
            outcome=answer.outcome,
            peer=peer,
            meta=meta,
        )
        return Response(answer.body, status_code=answer.status, media_type=SOAP12_CONTENT_TYPE)

    async def refuse_get(request: Request) -> Response:
        return Response("INSi simulator: POST SOAP 1.2 requests here.\n", status_code=405, headers={"Allow": "POST"})

    routes = [
        Route(INSI_PATH, serve, methods=["POST"]),
        Route(LPS_PATH, serve, methods=["POST"]),
        Route("/", serve, methods=["POST"]),
        Route(INSI_PATH, refuse_get, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.insi = insi_state
    return app


@dataclass(frozen=True)
class _Answer:
    """What the simulator answers to one request, and how the journal files it."""

    status: int
    body: bytes
    transaction: str = "insi.invalid"
    outcome: str = "fault:Sender"
    subjects: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


# Misbehaviours a scenario can ask for: (subcode, detail code, reason, detail text), as INSi faults look.
_BEHAVIOUR_FAULTS: dict[str, tuple[str, str, str, str]] = {
    "unavailable": (
        "soap:siram_40",
        "insi_102",
        "Le service est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement.",
        "Erreur technique du service de recherche.",
    ),
    "fault": ("soap:siram_10", "insi_101", "Erreur technique lors du traitement de la demande.", "Erreur technique."),
}


def _refused(
    status: int,
    reason: str,
    code: str = "Sender",
    *,
    subcode: str | None = None,
    detail: str = "",
    request: InsiRequest | None = None,
    subjects: list[str] | None = None,
) -> _Answer:
    meta: dict[str, Any] = {"error": reason}
    if request is not None:
        meta.update(action=request.action, software=request.software)
    return _Answer(
        status,
        fault(code, reason, subcode=subcode, detail_xml=detail),
        request.transaction if request else "insi.invalid",
        f"fault:{(subcode or code).removeprefix('soap:')}",
        subjects if subjects is not None else (_subjects(request, []) if request else []),
        meta,
    )


def _answer(
    state: InsiState, body: bytes, truncated: bool, content_type: str, cps_ca: x509.Certificate | None = None
) -> _Answer:
    if truncated:
        return _refused(413, f"requête trop volumineuse : au-delà de {MAX_BODY_BYTES} octets")
    if not content_type.lower().startswith("application/soap+xml"):
        return _refused(415, f"type de contenu {content_type or 'absent'!r} : SOAP 1.2 attend application/soap+xml")
    try:
        parsed = parse_envelope(body, max_bytes=MAX_BODY_BYTES)
        request = read_request(parsed)
    except SoapError as exc:
        return _refused(FAULT_STATUS, str(exc), exc.code, subcode=exc.subcode)
    expected_action = TRANSACTION_ACTIONS[request.transaction]
    if request.action != expected_action:
        said = f"{request.action!r} incorrecte" if request.action else "absente"
        reason = f"WS-Addressing Action {said} : {expected_action!r} attendue"
        return _refused(FAULT_STATUS, reason, subcode="wsa:ActionMismatch", request=request)
    if "IDAM" not in request.software or "Nom" not in request.software:
        reason = "ContexteLPS absent ou incomplet (IDAM et Nom du logiciel requis)"
        # siram_100 is the teleservice's refusal of the software (padoa fixture); desir_500 is the bench's detail code
        detail = siram_error("desir_500", reason)
        return _refused(FAULT_STATUS, reason, subcode="soap:siram_100", detail=detail, request=request)
    cps: dict[str, Any] = {}
    if cps_ca is not None:
        assertion = verify_cps_assertion(parsed.root, cps_ca)
        cps = {"mode": "cps", "cps": assertion.summary()}
        if assertion.problems:
            # The teleservice's own fault for a refused CPS assertion is not public: WS-Security's (bench naming).
            reason = "assertion CPS refusée : " + " ; ".join(cps["cps"]["problems"])
            answer = _refused(FAULT_STATUS, reason, subcode="wsse:FailedCheck", request=request)
            return dataclasses.replace(answer, meta={**answer.meta, **cps})
    persons = _match(state, request)
    subjects = _subjects(request, persons)
    behaviour = state.behaviour_for(persons)
    if behaviour is not None:
        subcode, detail_code, reason, detail_text = _BEHAVIOUR_FAULTS[behaviour]
        detail = siram_error(detail_code, detail_text)
        return _refused(
            FAULT_STATUS, reason, "Receiver", subcode=subcode, detail=detail, request=request, subjects=subjects
        )
    if len(persons) == 1:
        cr, identity = "00", _identity(persons[0], state.identities.returned_oids == "test")
    elif persons:
        cr, identity = "02", None
    else:
        cr, identity = "01", None
    response = envelope(result_body(cr, identity), action=expected_action + "Response")
    meta = {"action": request.action, "software": request.software, **cps}
    return _Answer(200, response, request.transaction, f"CR{cr}", subjects, meta)
