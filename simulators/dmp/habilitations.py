"""TD0.3, the professional's authorisation on the patient's DMP: ``setAuthorization`` on the ``habilitations``
service (namespace ``urn:si-dmp-habilitations``, WSDL annex v2.01.04 Habilitations.wsdl; GIE SESAM-Vitale example
"TD0.3 - Mise à jour de l'autorisation"). The patient and the professional are the VIHF's; the body says ``AJOUT`` or
``SUPPRESSION``; the answer is a ``WebServiceResponse`` (``status``, ``context``).

``DMPOk`` and the context "Autorisation déjà présente aucune action effectuée" are the official example's; the other
statuses and contexts below have no public source and are the bench's naming (docs/dmp-simulator.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

NS = "urn:si-dmp-habilitations"
REQUEST_ACTION = "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization"
RESPONSE_ACTION = "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse"
ACTIONS = ("AJOUT", "SUPPRESSION")  # Habilitations.wsdl actionType
OK = "DMPOk"
ALREADY_PRESENT = "Autorisation déjà présente aucune action effectuée"  # official example
# Bench naming (no public source): the DMP's refusals of TD0.3.
REFUSALS = {
    "absent": ("DMPNotFound", "Le patient n'a pas de DMP."),
    "ferme": ("DMPClosed", "Le DMP du patient est fermé."),  # DMPClosed: official C# sample (closing an closed DMP)
    "opposition": ("DMPAccessDenied", "Le patient a bloqué l'accès de ce professionnel à son DMP."),
}


@dataclass(frozen=True)
class SetAuthorization:
    action: str
    role: str | None


def read_set_authorization(body: Any) -> SetAuthorization | str:
    if body.tag != f"{{{NS}}}setAuthorization":
        return f"élément {body.tag!r} : setAuthorization ({NS}) attendu"
    action = (body.findtext(f"{{{NS}}}action") or "").strip()
    if action not in ACTIONS:
        return f"action {action!r} : {' ou '.join(ACTIONS)} attendue"
    role = (body.findtext(f"{{{NS}}}role") or "").strip() or None
    return SetAuthorization(action, role)


def set_authorization_response(status: str, context: str) -> str:
    return (
        f'<ns1:setAuthorizationResponse xmlns:ns1="{NS}"><ns1:output><ns1:status>{escape(status)}</ns1:status>'
        f"<ns1:context>{escape(context)}</ns1:context></ns1:output></ns1:setAuthorizationResponse>"
    )
