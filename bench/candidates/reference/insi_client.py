"""The reference candidate's INSi client: builds the SOAP 1.2 requests a practice software sends and reads
the answers. Written apart from the simulator on purpose, so the two do not share a misunderstanding."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

import httpx
from lxml import etree

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
CTXLPS = "urn:siram:lps:ctxlps"
RESULT = "http://www.cnamts.fr/INSiResultat"
OPERATIONS = {
    "traits": ("rechercherInsAvecTraitsIdentite", "http://www.cnamts.fr/INSiRecSans", "RECSANSVITALE"),
    "vitale": ("rechercherInsAvecCarteVitale", "http://www.cnamts.fr/INSiRecVit", "RECVITALE"),
}
SOFTWARE = {"IDAM": "SEGUR-BENCH-REF", "Version": "0.1.0", "Nom": "urn:lps:segur-bench-reference:0.1.0"}


class InsiUnavailable(RuntimeError):
    """INSi answered with a fault, an HTTP error, or not at all."""


@dataclass(frozen=True)
class InsiAnswer:
    cr: str
    matricule: str | None = None
    oid: str | None = None
    birth_name: str | None = None
    first_name: str | None = None
    first_names: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    birth_place: str | None = None


class InsiClient:
    def __init__(self, url: str, tls: ssl.SSLContext | bool, timeout: float = 10.0) -> None:
        self._url = url
        # TCP_NODELAY: httpx writes headers and body separately; without it Nagle's algorithm meets the server's
        # delayed ACK and every call waits ~40 ms.
        transport = httpx.HTTPTransport(verify=tls, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self.answered = 0  # calls that reached INSi, whatever its answer: what the dashboard counts (GEN-003)

    def close(self) -> None:
        self._http.close()

    def call(self, operation: str, fields: list[tuple[str, str]]) -> InsiAnswer:
        name, namespace, element = OPERATIONS[operation]
        action = f"urn:ServiceIdentiteCertifiee:1.0.0:{name}"
        body = "".join(_field(tag, value) for tag, value in fields)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lps = "".join(f"<ctx:{key}>{escape(value)}</ctx:{key}>" for key, value in SOFTWARE.items())
        envelope = (
            f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP}" xmlns:wsa="{WSA}" '
            f'xmlns:ctx="{CTXLPS}" xmlns:ins="{namespace}"><soap:Header>'
            f'<ctx:ContexteLPS Nature="CTXLPS" Version="01_00"><ctx:Id>{uuid.uuid4()}</ctx:Id>'
            f"<ctx:Temps>{now}</ctx:Temps><ctx:Emetteur>segur-bench</ctx:Emetteur><ctx:LPS>{lps}</ctx:LPS>"
            f"</ctx:ContexteLPS><wsa:Action>{action}</wsa:Action><wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID>"
            f"</soap:Header><soap:Body><ins:{element}>{body}</ins:{element}></soap:Body></soap:Envelope>"
        )
        try:
            response = self._http.post(
                self._url,
                content=envelope.encode(),
                headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'},
            )
        except httpx.HTTPError as exc:
            raise InsiUnavailable(f"INSi injoignable : {exc}") from exc
        self.answered += 1
        if response.status_code not in (200, 500):  # the teleservice answers its SOAP faults with HTTP 500
            raise InsiUnavailable(f"INSi a répondu HTTP {response.status_code}")
        return _read(response.content)


def _field(tag: str, value: str) -> str:
    if "/" in tag:
        outer, inner = tag.split("/", 1)
        return f"<ins:{outer}>{_field(inner, value)}</ins:{outer}>"
    return f"<ins:{tag}>{escape(value)}</ins:{tag}>"


def _read(content: bytes) -> InsiAnswer:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InsiUnavailable(f"réponse INSi illisible : {exc}") from exc
    ns = {"s": SOAP, "r": RESULT}
    if root.find("s:Body/s:Fault", ns) is not None:
        raise InsiUnavailable("INSi a répondu par une faute SOAP")
    result = root.find("s:Body/r:RESULTAT", ns)
    if result is None:
        raise InsiUnavailable("réponse INSi sans RESULTAT")

    def get(path: str) -> str | None:
        value = result.findtext(path, namespaces=ns)
        return value.strip() if value else None

    number, key = (
        get("r:INDIVIDU/r:INSACTIF/r:IdIndividu/r:NumIdentifiant"),
        get("r:INDIVIDU/r:INSACTIF/r:IdIndividu/r:Cle"),
    )
    return InsiAnswer(
        cr=get("r:CR/r:CodeCR") or "",
        matricule=(number + key) if number and key else None,
        oid=get("r:INDIVIDU/r:INSACTIF/r:OID"),
        birth_name=get("r:INDIVIDU/r:TIQ/r:NomNaissance"),
        first_name=get("r:INDIVIDU/r:TIQ/r:Prenom"),
        first_names=get("r:INDIVIDU/r:TIQ/r:ListePrenom"),
        sex=get("r:INDIVIDU/r:TIQ/r:Sexe"),
        birth_date=get("r:INDIVIDU/r:TIQ/r:DateNaissance"),
        birth_place=get("r:INDIVIDU/r:TIQ/r:LieuNaissance"),
    )
