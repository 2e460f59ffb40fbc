"""The INSi simulator: an ASGI app answering the INSi teleservice's operations over SOAP 1.2.

It plays the national base of ``identities.yaml`` (results 00/01/02), answers faults and unavailability when a
scenario asks for them, refuses what the real service would refuse (SOAP 1.1, missing WS-Addressing action,
missing software context), and records every exchange, including refused ones, before answering.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulators.common.journal import Journal
from simulators.common.soap import SOAP12_CONTENT_TYPE, SoapError, envelope, fault
from simulators.insi.identities import IdentityBase, Person, load_identities
from simulators.insi.ins import traits_key
from simulators.insi.messages import (
    TRANSACTION_ACTIONS,
    InsiIdentity,
    InsiRequest,
    request_from_envelope,
    result_body,
    siram_error,
)

MAX_BODY_BYTES = 256 * 1024
INSI_PATH = "/insi"
Behaviour = Literal["fault", "unavailable"]


@dataclass
class InsiState:
    """What the simulator plays: the identity base, OIDs to return, and per-person misbehaviour."""

    identities: IdentityBase = field(default_factory=load_identities)
    test_oids: bool = True
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


def create_insi_app(journal: Journal, state: InsiState | None = None) -> Starlette:
    """The INSi simulator app, recording into ``journal``."""
    insi_state = state or InsiState()

    async def serve(request: Request) -> Response:
        peer = {"address": request.client.host if request.client else None, **request.state.tls}
        body, truncated = await _read_bounded(request, MAX_BODY_BYTES)
        content_type = request.headers.get("content-type", "")
        status, response, transaction, outcome, subjects, meta = _answer(insi_state, body, truncated, content_type)
        meta = {**meta, "http_status": status, "content_type": content_type, "path": request.url.path}
        if truncated:
            meta["truncated_at"] = MAX_BODY_BYTES
        journal.record(
            "insi",
            transaction,
            {
                "request": (body, content_type or "application/octet-stream"),
                "response": (response, SOAP12_CONTENT_TYPE),
            },
            subjects=subjects,
            outcome=outcome,
            peer=peer,
            meta=meta,
        )
        return Response(response, status_code=status, media_type=SOAP12_CONTENT_TYPE)

    async def refuse_get(request: Request) -> Response:
        return Response("INSi simulator: POST SOAP 1.2 requests here.\n", status_code=405, headers={"Allow": "POST"})

    routes = [
        Route(INSI_PATH, serve, methods=["POST"]),
        Route("/", serve, methods=["POST"]),
        Route(INSI_PATH, refuse_get, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.insi = insi_state
    return app


async def _read_bounded(request: Request, limit: int) -> tuple[bytes, bool]:
    """The request body, cut at ``limit`` bytes (the rest is drained, not kept)."""
    declared = request.headers.get("content-length")
    chunks: list[bytes] = []
    size = 0
    truncated = False
    if declared and declared.isdigit() and int(declared) > limit:
        truncated = True
    async for chunk in request.stream():
        if size < limit:
            keep = chunk[: limit - size]
            chunks.append(keep)
            size += len(keep)
            if len(keep) < len(chunk):
                truncated = True
        else:
            truncated = True
    return b"".join(chunks), truncated


def _answer(
    state: InsiState, body: bytes, truncated: bool, content_type: str
) -> tuple[int, bytes, str, str, list[str], dict[str, Any]]:
    """(HTTP status, response bytes, transaction, outcome, subjects, meta) for one request."""
    if truncated:
        reason = f"requête trop volumineuse : au-delà de {MAX_BODY_BYTES} octets"
        return 413, fault("Sender", reason), "insi.invalid", "fault:Sender", [], {"error": reason}
    if not content_type.lower().startswith("application/soap+xml"):
        reason = f"type de contenu {content_type or 'absent'!r} : SOAP 1.2 attend application/soap+xml"
        return 415, fault("Sender", reason), "insi.invalid", "fault:Sender", [], {"error": reason}
    try:
        request = request_from_envelope(body, max_bytes=MAX_BODY_BYTES)
    except SoapError as exc:
        status = 400 if exc.code in ("Sender", "VersionMismatch") else 500
        return (
            status,
            fault(exc.code, str(exc), subcode=exc.subcode),
            "insi.invalid",
            f"fault:{exc.code}",
            [],
            {"error": str(exc)},
        )
    meta: dict[str, Any] = {"action": request.action, "software": request.software}
    expected_action = TRANSACTION_ACTIONS[request.transaction]
    if request.action != expected_action:
        reason = f"WS-Addressing Action {request.action!r} absente ou incorrecte : {expected_action!r} attendue"
        return (
            400,
            fault("Sender", reason, subcode="wsa:ActionMismatch"),
            request.transaction,
            "fault:Sender",
            _subjects(request, []),
            {**meta, "error": reason},
        )
    if "IDAM" not in request.software or "Nom" not in request.software:
        reason = "ContexteLPS absent ou incomplet (IDAM et Nom du logiciel requis)"
        detail = siram_error("DESIR_500", reason)
        return (
            400,
            fault("Sender", reason, subcode="siram_100", detail_xml=detail),
            request.transaction,
            "fault:siram_100",
            _subjects(request, []),
            {**meta, "error": reason},
        )
    persons = _match(state, request)
    subjects = _subjects(request, persons)
    behaviour = state.behaviour_for(persons)
    if behaviour == "unavailable":
        reason = "Le service est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement."
        detail = siram_error("insi_102", "Erreur technique du service de recherche.")
        return (
            500,
            fault("Receiver", reason, subcode="siram_40", detail_xml=detail),
            request.transaction,
            "fault:siram_40",
            subjects,
            meta,
        )
    if behaviour == "fault":
        reason = "Erreur technique lors du traitement de la demande."
        detail = siram_error("insi_101", reason)
        return (
            500,
            fault("Receiver", reason, subcode="siram_10", detail_xml=detail),
            request.transaction,
            "fault:siram_10",
            subjects,
            meta,
        )
    if len(persons) == 1:
        cr, identity = "00", _identity(persons[0], state.test_oids)
    elif persons:
        cr, identity = "02", None
    else:
        cr, identity = "01", None
    response = envelope(result_body(cr, identity), action=expected_action + "Response")
    return 200, response, request.transaction, f"CR{cr}", subjects, meta
