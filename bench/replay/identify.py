"""Which transaction a captured HTTP request is, from its bytes: an INSi call by its body, a DMP call by its
WS-Addressing action (plain SOAP or MTOM). Used by bundle imports and by streamed capture replays alike."""

from __future__ import annotations

from simulators.common.mtom import MtomError, parse_mtom
from simulators.common.soap import SoapError, read_envelope
from simulators.common.xmlsafe import UnsafeXmlError
from simulators.dmp.messages import ACTIONS as DMP_ACTIONS
from simulators.insi.messages import request_from_envelope

UNKNOWN = "http.unknown"


def identify(body: bytes, content_type: str, hint: str | None = None) -> str:
    """The transaction name (``insi.search_traits``, ``dmp.iti41``...), ``hint`` when the bundle gives one."""
    if hint:
        return hint
    if not content_type.lower().startswith("multipart/related"):
        try:
            return request_from_envelope(body, max_bytes=len(body) + 1).transaction
        except (SoapError, ValueError):
            pass
    try:
        parsed = read_envelope(parse_mtom(body, content_type, max_bytes=len(body) + 1).envelope)
    except (MtomError, UnsafeXmlError, SoapError):
        return UNKNOWN
    return DMP_ACTIONS.get(parsed.action or "", UNKNOWN)
