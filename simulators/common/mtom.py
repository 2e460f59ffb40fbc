"""SOAP 1.2 messages packaged with MTOM/XOP (W3C XOP 1.0, SOAP MTOM): what XDS.b document transactions use
(ITI-41 Provide and Register, ITI-43 Retrieve). The root part is the envelope (``application/xop+xml``); binary
content travels in other MIME parts that ``xop:Include href="cid:..."`` elements point to."""

from __future__ import annotations

import base64
import email
import email.policy
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from simulators.common.xmlsafe import parse_xml

XOP = "http://www.w3.org/2004/08/xop/include"
MAX_PARTS = 1000


class MtomError(ValueError):
    """The message is not a usable MTOM/XOP package (say why)."""


@dataclass(frozen=True)
class MtomMessage:
    envelope: Any
    attachments: dict[str, bytes]

    def content(self, element: Any) -> bytes | None:
        """The bytes an element carries: base64 text, or the MIME part its ``xop:Include`` points to."""
        include = element.find(f"{{{XOP}}}Include")
        if include is not None:
            href = include.get("href") or ""
            if not href.startswith("cid:"):
                raise MtomError(f"xop:Include href {href!r} : une référence cid: est attendue")
            cid = unquote(href[4:])
            if cid not in self.attachments:
                raise MtomError(f"partie MIME {cid!r} introuvable")
            return self.attachments[cid]
        text = "".join(element.itertext()).strip()
        if not text:
            return None
        try:
            return base64.b64decode(text, validate=False)
        except ValueError as exc:
            raise MtomError(f"contenu base64 invalide : {exc}") from exc


def _cid(value: str | None) -> str:
    return (value or "").strip().strip("<>")


def parse_mtom(body: bytes, content_type: str, *, max_bytes: int) -> MtomMessage:
    """Parse a SOAP message, MTOM-packaged or not. Raises MtomError, or UnsafeXmlError for the envelope."""
    if len(body) > max_bytes:
        raise MtomError(f"message de {len(body)} octets, au-delà de {max_bytes}")
    if not content_type.lower().startswith("multipart/related"):
        return MtomMessage(parse_xml(body, max_bytes=max_bytes), {})
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.default
    )
    if not message.is_multipart():
        raise MtomError("multipart/related sans parties lisibles (délimiteur absent ou faux)")
    parts = [part for part in message.iter_parts()]
    if not parts or len(parts) > MAX_PARTS:
        raise MtomError(f"nombre de parties MIME inacceptable : {len(parts)}")
    start = _cid(message.get_param("start"))  # type: ignore[arg-type]
    root = next((p for p in parts if start and _cid(p.get("Content-ID")) == start), parts[0])
    attachments = {}
    for part in parts:
        if part is root:
            continue
        payload = part.get_payload(decode=True)
        attachments[_cid(part.get("Content-ID"))] = payload if isinstance(payload, bytes) else b""
    envelope_bytes = root.get_payload(decode=True)
    if not isinstance(envelope_bytes, bytes):
        raise MtomError("partie racine illisible")
    return MtomMessage(parse_xml(envelope_bytes, max_bytes=max_bytes), attachments)


def build_mtom(envelope: bytes, attachments: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """(body, Content-Type) of an MTOM message whose envelope refers to ``attachments`` (cid -> (bytes, type))."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = f"root.{uuid.uuid4().hex}@segur-bench"
    chunks = [
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode()
        + envelope
        + b"\r\n"
    ]
    for cid, (data, media_type) in attachments.items():
        chunks.append(
            f"--{boundary}\r\nContent-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{cid}>\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"'
    )
    return b"".join(chunks), content_type
