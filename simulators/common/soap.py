"""SOAP 1.2 envelope helpers (W3C SOAP 1.2 Part 1) with WS-Addressing 1.0 headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"


class SoapError(ValueError):
    """A request that is not a usable SOAP 1.2 envelope. ``code`` is the SOAP fault code to answer with."""

    def __init__(self, message: str, code: str = "Sender", subcode: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode


@dataclass(frozen=True)
class Envelope:
    """A parsed SOAP 1.2 envelope: its header blocks, the first body child and the WS-Addressing action."""

    root: Any
    header: Any | None
    body_element: Any
    action: str | None
    message_id: str | None


def parse_envelope(data: bytes, *, max_bytes: int) -> Envelope:
    """Parse and validate a SOAP 1.2 envelope, raising SoapError with the fault code a SOAP node would use."""
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except UnsafeXmlError as exc:
        raise SoapError(str(exc)) from exc
    return read_envelope(root)


def read_envelope(root: Any, *, accept_soap11: bool = False) -> Envelope:
    """Validate an already parsed SOAP 1.2 envelope (the root part of an MTOM package, for instance).
    ``accept_soap11``: a SOAP 1.1 envelope is read too (the DMP's official TD2.1 example is one)."""
    namespace = SOAP12_NS
    if root.tag == f"{{{SOAP11_NS}}}Envelope":
        if not accept_soap11:
            raise SoapError("enveloppe SOAP 1.1 reçue : le service attend SOAP 1.2", code="VersionMismatch")
        namespace = SOAP11_NS
    elif root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise SoapError(f"l'élément racine {root.tag!r} n'est pas une enveloppe SOAP 1.2")
    header = root.find(f"{{{namespace}}}Header")
    body = root.find(f"{{{namespace}}}Body")
    if body is None:
        raise SoapError("l'enveloppe SOAP n'a pas de Body")
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise SoapError(f"le Body SOAP doit contenir exactement un élément, il en contient {len(children)}")
    action = message_id = None
    if header is not None:
        action_el = header.find(f"{{{WSA_NS}}}Action")
        action = (action_el.text or "").strip() if action_el is not None else None
        id_el = header.find(f"{{{WSA_NS}}}MessageID")
        message_id = (id_el.text or "").strip() if id_el is not None else None
    return Envelope(root=root, header=header, body_element=children[0], action=action, message_id=message_id)


def envelope(body_xml: str, *, action: str | None = None, relates_to: str | None = None) -> bytes:
    """Serialise a SOAP 1.2 envelope around ``body_xml`` (already serialised XML)."""
    headers = ""
    if action:
        headers += f"<wsa:Action>{escape(action)}</wsa:Action>"
    if relates_to:
        headers += f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
    header = f"<soap:Header>{headers}</soap:Header>" if headers else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:wsa="{WSA_NS}">{header}<soap:Body>{body_xml}</soap:Body>'
        "</soap:Envelope>"
    ).encode()


WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
# Prefixes a fault subcode may use, each declared on the Fault that uses it: a QName whose prefix is not in scope
# cannot be read by a SOAP stack (zeep fails on it).
FAULT_PREFIXES = {"wsse": WSSE_NS, "wsa": WSA_NS}


def fault(
    code: str,
    reason: str,
    *,
    subcode: str | None = None,
    detail_xml: str = "",
    prefixes: dict[str, str] | None = None,
) -> bytes:
    """Serialise a SOAP 1.2 Fault. ``code`` is Sender, Receiver, VersionMismatch or MustUnderstand; a prefixed
    ``subcode`` must use a prefix of FAULT_PREFIXES or ``prefixes``, declared on the Fault."""
    sub = f"<soap:Subcode><soap:Value>{escape(subcode)}</soap:Value></soap:Subcode>" if subcode else ""
    detail = f"<soap:Detail>{detail_xml}</soap:Detail>" if detail_xml else ""
    declared = ""
    if subcode and ":" in subcode:
        prefix = subcode.split(":", 1)[0]
        known = {**FAULT_PREFIXES, "soap": SOAP12_NS, **(prefixes or {})}
        if prefix not in known:
            raise ValueError(f"fault subcode prefix {prefix!r} has no namespace")
        if prefix not in ("wsa", "soap"):  # declared on the envelope already
            declared = f' xmlns:{prefix}="{escape(known[prefix])}"'
    body = (
        f"<soap:Fault{declared}><soap:Code><soap:Value>soap:{code}</soap:Value>{sub}</soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="fr">{escape(reason)}</soap:Text></soap:Reason>{detail}</soap:Fault>'
    )
    return envelope(body)


@dataclass(frozen=True)
class FaultInfo:
    """The useful parts of a SOAP 1.2 fault: code, subcode, reason and detail error code if any."""

    code: str
    subcode: str | None
    reason: str
    detail_code: str | None


def read_fault(root: Any) -> FaultInfo | None:
    """The fault carried by a parsed envelope, or None when the body is not a fault."""
    found = root.find(f"{{{SOAP12_NS}}}Body/{{{SOAP12_NS}}}Fault")
    if found is None:
        return None
    ns = {"s": SOAP12_NS}
    code = found.findtext("s:Code/s:Value", default="", namespaces=ns)
    subcode = found.findtext("s:Code/s:Subcode/s:Value", default=None, namespaces=ns)
    reason = found.findtext("s:Reason/s:Text", default="", namespaces=ns)
    detail_code = None
    detail = found.find("s:Detail", ns)
    if detail is not None:
        for child in detail:
            if isinstance(child.tag, str) and child.get("code"):
                detail_code = child.get("code")
                break
    return FaultInfo(code=code, subcode=subcode, reason=reason, detail_code=detail_code)
