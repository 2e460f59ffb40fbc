"""The reference candidate's DMP client: SOAP 1.2 envelopes with WS-Addressing and a WS-Security header carrying the
signed VIHF, MTOM/XOP packaging for documents, over mutual TLS that verifies the DMP's certificate. Written apart
from the simulator on purpose, so the two do not share a misunderstanding."""

from __future__ import annotations

import collections
import email
import email.policy
import socket
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from lxml import etree

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
XOP = "http://www.w3.org/2004/08/xop/include"
HABILITATIONS = "urn:si-dmp-habilitations"
ACTIONS = {  # as the GIE SESAM-Vitale example messages send them
    "td02": "urn:hl7-org:v3:PRPA_IN201307UV02",
    "td03": "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization",
    "iti41": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    "iti18": "urn:ihe:iti:2007:RegistryStoredQuery",
    "iti43": "urn:ihe:iti:2007:RetrieveDocumentSet",
    "iti57": "urn:ihe:iti:2010:UpdateDocumentSet",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class DmpUnavailable(RuntimeError):
    """The DMP could not be reached, or its certificate did not verify (nothing was sent)."""


class DmpRefused(RuntimeError):
    """The DMP answered with a SOAP fault or an XDS failure; ``codes`` are its error codes."""

    def __init__(self, message: str, codes: list[str]) -> None:
        super().__init__(message)
        self.codes = codes


@dataclass(frozen=True)
class DmpAnswer:
    body: Any  # the SOAP Body's first child
    attachments: dict[str, bytes]

    def content(self, element: Any) -> bytes:
        include = element.find(f"{{{XOP}}}Include")
        if include is None:
            import base64

            return base64.b64decode("".join(element.itertext()))
        return self.attachments[(include.get("href") or "")[4:]]


class DmpClient:
    def __init__(
        self, url: str, tls: ssl.SSLContext, timeout: float = 10.0, answered: collections.Counter[str] | None = None
    ) -> None:
        self.url = url
        # Calls that reached the DMP, whatever its answer, by transaction: what the dashboard counts (GEN-003).
        self.answered: collections.Counter[str] = answered if answered is not None else collections.Counter()
        transport = httpx.HTTPTransport(verify=tls, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def call(self, transaction: str, body: str, vihf: Any, document: tuple[str, bytes] | None = None) -> DmpAnswer:
        """Send one transaction; ``document`` (cid, bytes) travels as an MTOM part."""
        action = ACTIONS[transaction]
        assertion = etree.tostring(vihf, encoding="unicode")
        envelope = (
            f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP}" xmlns:wsa="{WSA}">'
            f'<soap:Header><wsa:Action soap:mustUnderstand="1">{action}</wsa:Action>'
            f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID><wsa:To>{self.url}</wsa:To>"
            f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1">{assertion}</wsse:Security>'
            f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
        ).encode()
        content, content_type = _package(envelope, action, document)
        try:
            response = self._http.post(self.url, content=content, headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise DmpUnavailable(f"DMP injoignable ou certificat serveur non vérifié : {exc}") from exc
        self.answered[transaction] += 1
        if response.status_code in (502, 503, 504):
            raise DmpUnavailable(f"DMP indisponible (HTTP {response.status_code})")
        return _read(response)


def _package(envelope: bytes, action: str, document: tuple[str, bytes] | None) -> tuple[bytes, str]:
    if document is None:
        return envelope, f'application/soap+xml; charset=utf-8; action="{action}"'
    boundary = f"uuid:{uuid.uuid4()}"
    start = f"<root.{uuid.uuid4().hex}@reference.segur-bench>"
    cid, data = document
    parts = (
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\nContent-ID: {start}\r\n\r\n".encode()
        + envelope
        + f"\r\n--{boundary}\r\nContent-Type: text/xml\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{cid}>\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="{start}"; '
        f'start-info="application/soap+xml"; action="{action}"'
    )
    return parts, content_type


def _read(response: httpx.Response) -> DmpAnswer:
    content_type = response.headers.get("content-type", "")
    attachments: dict[str, bytes] = {}
    raw = response.content
    if content_type.lower().startswith("multipart/related"):
        message = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw, policy=email.policy.default
        )
        parts = list(message.iter_parts())
        raw = _payload(parts[0])
        for part in parts[1:]:
            attachments[(part.get("Content-ID") or "").strip("<>")] = _payload(part)
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DmpRefused(f"réponse du DMP illisible (HTTP {response.status_code}) : {exc}", []) from exc
    body = root.find(f"{{{SOAP}}}Body")
    child = body[0] if body is not None and len(body) else None
    if child is None:
        raise DmpRefused("réponse du DMP sans corps SOAP", [])
    if child.tag == f"{{{SOAP}}}Fault":
        reason = child.findtext(f"{{{SOAP}}}Reason/{{{SOAP}}}Text", default="")
        subcode = child.findtext(f"{{{SOAP}}}Code/{{{SOAP}}}Subcode/{{{SOAP}}}Value", default="")
        raise DmpRefused(f"le DMP a refusé l'appel ({subcode}) : {reason}", [subcode])
    status = child.get("status") or ""
    registry = child if child.tag == f"{{{RS}}}RegistryResponse" else child.find(f"{{{RS}}}RegistryResponse")
    if registry is not None:
        status = registry.get("status") or status
    if status.endswith(":Failure"):
        errors = [(e.get("errorCode") or "", e.get("codeContext") or "") for e in child.iter(f"{{{RS}}}RegistryError")]
        text = " ; ".join(f"{code} {context}" for code, context in errors)
        raise DmpRefused(f"le DMP a refusé : {text}", [code for code, _c in errors])
    return DmpAnswer(child, attachments)


def _payload(part: Any) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
