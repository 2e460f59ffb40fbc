"""INSi teleservice messages (CNAM "Service Identité Certifiée", SOAP 1.2 + WS-Addressing).

Operation names, namespaces and result structure follow the public INSi client integrations:
search by traits ``RECSANSVITALE`` (``http://www.cnamts.fr/INSiRecSans``, action
``urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite``), search by Vitale card ``RECVITALE``
(``http://www.cnamts.fr/INSiRecVit``), result ``RESULTAT`` (``http://www.cnamts.fr/INSiResultat``) with
``CR/CodeCR`` 00 (one identity), 01 (none), 02 (several) and ``INDIVIDU/INSACTIF`` + ``TIQ`` traits; the SOAP
header carries ``ContexteLPS`` (``urn:siram:lps:ctxlps``: software IDAM, name, version) and ``ContexteBAM``.
The teleservice has exactly these two operations (CNAM WSDL DESIR_ICIR_EXP_1.5.0); anything else is a SOAP fault.
Verifying an INS the software holds is a traits search on its identity, whose answer the software compares with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from simulators.common.soap import SOAP12_NS, Envelope, SoapError, parse_envelope, read_fault
from simulators.common.xmlsafe import parse_xml

NS_RECSANS = "http://www.cnamts.fr/INSiRecSans"
NS_RECVIT = "http://www.cnamts.fr/INSiRecVit"
NS_RESULTAT = "http://www.cnamts.fr/INSiResultat"
NS_CTXLPS = "urn:siram:lps:ctxlps"
NS_CTXBAM = "urn:siram:bam:ctxbam"
NS_SIRAM = "urn:siram"
ACTION_PREFIX = "urn:ServiceIdentiteCertifiee:1.0.0:"

OPERATIONS = {
    f"{{{NS_RECSANS}}}RECSANSVITALE": ("insi.search_traits", ACTION_PREFIX + "rechercherInsAvecTraitsIdentite"),
    f"{{{NS_RECVIT}}}RECVITALE": ("insi.search_vitale", ACTION_PREFIX + "rechercherInsAvecCarteVitale"),
}
TRANSACTION_ACTIONS = dict(OPERATIONS.values())
CR_LABELS = {"00": "OK", "01": "Aucune identite trouvee", "02": "Plusieurs identites trouvees"}


@dataclass(frozen=True)
class InsiRequest:
    """What a candidate asked INSi, whatever the operation."""

    transaction: str
    action: str | None
    message_id: str | None
    birth_name: str | None = None
    first_names: list[str] = field(default_factory=list)
    sex: str | None = None
    birth_date: str | None = None
    birth_place: str | None = None
    beneficiary: str | None = None
    insured: str | None = None
    rank: str | None = None
    matricule: str | None = None
    oid: str | None = None
    software: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InsiIdentity:
    matricule: str
    oid: str
    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str
    birth_place: str


@dataclass(frozen=True)
class InsiResult:
    """What INSi answered: a CR code and, for 00, the identity; or a fault."""

    cr: str | None
    identity: InsiIdentity | None
    fault_code: str | None = None
    fault_subcode: str | None = None
    fault_detail: str | None = None

    @property
    def outcome(self) -> str:
        if self.cr is not None:
            return f"CR{self.cr}"
        return f"fault:{self.fault_subcode or self.fault_code}"


def _text(element: Any, name: str, ns: str) -> str | None:
    value = element.findtext(f"{{{ns}}}{name}")
    return value.strip() if value is not None and value.strip() else None


def request_from_envelope(data: bytes, *, max_bytes: int) -> InsiRequest:
    """Parse an INSi request; raises simulators.common.soap.SoapError for anything not a usable request."""
    return read_request(parse_envelope(data, max_bytes=max_bytes))


def read_request(env: Envelope) -> InsiRequest:
    """The INSi request of a parsed envelope; raises SoapError for an operation the teleservice does not have."""
    body = env.body_element
    operation = OPERATIONS.get(body.tag)
    if operation is None:
        raise SoapError(f"opération inconnue du téléservice INSi : {body.tag}")
    transaction, _action = operation
    software: dict[str, str] = {}
    if env.header is not None:
        lps = env.header.find(f"{{{NS_CTXLPS}}}ContexteLPS/{{{NS_CTXLPS}}}LPS")
        if lps is not None:
            for name in ("IDAM", "Version", "Instance", "Nom"):
                value = _text(lps, name, NS_CTXLPS)
                if value:
                    software[name] = value
    common: dict[str, Any] = {
        "transaction": transaction,
        "action": env.action,
        "message_id": env.message_id,
        "software": software,
    }
    if transaction == "insi.search_traits":
        return InsiRequest(
            **common,
            birth_name=_text(body, "NomNaissance", NS_RECSANS),
            first_names=[(el.text or "").strip() for el in body.findall(f"{{{NS_RECSANS}}}Prenom")],
            sex=_text(body, "Sexe", NS_RECSANS),
            birth_date=_text(body, "DateNaissance", NS_RECSANS),
            birth_place=_text(body, "LieuNaissance", NS_RECSANS),
        )
    return InsiRequest(
        **common,
        beneficiary=body.findtext(f"{{{NS_RECVIT}}}MatriculeIndividu/{{{NS_RECVIT}}}NumIdentifiant"),
        insured=body.findtext(f"{{{NS_RECVIT}}}MatriculeOD/{{{NS_RECVIT}}}NumIdentifiant"),
        birth_name=_text(body, "NomNaissance", NS_RECVIT),
        birth_date=_text(body, "DateNaissance", NS_RECVIT),
        rank=_text(body, "RangNaissance", NS_RECVIT),
    )


def result_body(cr: str, identity: InsiIdentity | None) -> str:
    """The ``RESULTAT`` element answering a search or a verification."""
    parts = [f'<insi:RESULTAT xmlns:insi="{NS_RESULTAT}">']
    parts.append(f"<insi:CR><insi:CodeCR>{cr}</insi:CodeCR><insi:LibelleCR>{CR_LABELS[cr]}</insi:LibelleCR></insi:CR>")
    if identity is not None:
        e = escape
        parts.append(
            "<insi:INDIVIDU><insi:INSACTIF><insi:IdIndividu>"
            f"<insi:NumIdentifiant>{e(identity.matricule[:13])}</insi:NumIdentifiant>"
            f"<insi:Cle>{e(identity.matricule[13:])}</insi:Cle></insi:IdIndividu>"
            f"<insi:OID>{e(identity.oid)}</insi:OID></insi:INSACTIF><insi:TIQ>"
            f"<insi:NomNaissance>{e(identity.birth_name)}</insi:NomNaissance>"
            f"<insi:Prenom>{e(identity.first_name)}</insi:Prenom>"
            f"<insi:ListePrenom>{e(identity.first_names)}</insi:ListePrenom>"
            f"<insi:Sexe>{e(identity.sex)}</insi:Sexe>"
            f"<insi:DateNaissance>{e(identity.birth_date)}</insi:DateNaissance>"
            f"<insi:LieuNaissance>{e(identity.birth_place)}</insi:LieuNaissance>"
            "</insi:TIQ></insi:INDIVIDU>"
        )
    parts.append("</insi:RESULTAT>")
    return "".join(parts)


def siram_error(code: str, text: str) -> str:
    """The ``siram:Erreur`` detail INSi puts in its faults, as the teleservice writes it (padoa/tlsi-ins fixture
    ``siram_100-desir_500-fake-idam``: ``code="desir_550" messageID="uuid:…" severite="erreur"``, schema
    ``schema_faultSOAP_V01_01.xsd``)."""
    return (
        f'<siram:Erreur xmlns:siram="{NS_SIRAM}" code="{escape(code)}" messageID="uuid:{uuid.uuid4()}" '
        f'severite="erreur">{escape(text)}</siram:Erreur>'
    )


def read_result(data: bytes) -> InsiResult:
    """Read an INSi response (result or fault). Raises UnsafeXmlError when it is not XML."""
    root = parse_xml(data)
    fault = read_fault(root)
    if fault is not None:
        return InsiResult(
            cr=None,
            identity=None,
            fault_code=fault.code,
            fault_subcode=(fault.subcode or "").removeprefix("soap:") or None,  # the teleservice writes soap:siram_NN
            fault_detail=fault.detail_code,
        )
    resultat = root.find(f"{{{SOAP12_NS}}}Body/{{{NS_RESULTAT}}}RESULTAT")
    if resultat is None:
        return InsiResult(cr=None, identity=None, fault_code="invalid")
    ns = {"r": NS_RESULTAT}
    cr = resultat.findtext("r:CR/r:CodeCR", namespaces=ns)
    individu = resultat.find("r:INDIVIDU", ns)
    identity = None
    if individu is not None:

        def get(path: str) -> str:
            return (individu.findtext(path, default="", namespaces=ns) or "").strip()

        identity = InsiIdentity(
            matricule=get("r:INSACTIF/r:IdIndividu/r:NumIdentifiant") + get("r:INSACTIF/r:IdIndividu/r:Cle"),
            oid=get("r:INSACTIF/r:OID"),
            birth_name=get("r:TIQ/r:NomNaissance"),
            first_name=get("r:TIQ/r:Prenom"),
            first_names=get("r:TIQ/r:ListePrenom"),
            sex=get("r:TIQ/r:Sexe"),
            birth_date=get("r:TIQ/r:DateNaissance"),
            birth_place=get("r:TIQ/r:LieuNaissance"),
        )
    return InsiResult(cr=cr.strip() if cr else None, identity=identity)
