"""Which transaction a captured HTTP request is, from its bytes, as the domains that declare HTTP channels recognise
it (an INSi call by its body, a DMP call by its WS-Addressing action...). Used by bundle imports and by streamed
capture replays alike.

A bundle's own label is input, never authority: relabelling an ITI-41 would otherwise hide it from every check that
look for a feed. The label is kept only where the bytes cannot speak: exchanges that carry no message (a refused TLS
handshake, which a channel declares in ``before_tls``), and requests the simulator refused before reading them as a
transaction (``<domain>.invalid``: unreadable, or refused for a reason outside the request such as a service made
unavailable), which the recorded answer must then show as a refusal (an HTTP error with a SOAP fault)."""

from __future__ import annotations

from bench.domains import registry

UNKNOWN = "http.unknown"
INVALID = "invalid"  # ``dmp.invalid``, ``insi.invalid``: a request the simulator could not read


def from_bytes(body: bytes, content_type: str, path: str = "") -> str | None:
    """The transaction the request is, as some domain recognises its body (or, when no body tells, its URL path)."""
    for domain in registry.load().values():
        if domain.identify_http is not None and (transaction := domain.identify_http(body, content_type)):
            return transaction
    for domain in registry.load().values():
        if path and domain.identify_path is not None and (transaction := domain.identify_path(path)):
            return transaction
    return None


def refused(status: object, response: bytes) -> bool:
    """Whether a recorded answer is a refusal: an HTTP error status carrying a SOAP fault."""
    return isinstance(status, int) and status >= 400 and (b":Fault" in response or b"<Fault" in response)


def identify(
    body: bytes, content_type: str, hint: str | None = None, *, was_refused: bool = False, path: str = ""
) -> str:
    """The transaction name (``insi.search_traits``, ``dmp.iti41``...) the bytes are; ``hint``, the bundle's label,
    only where the bytes cannot tell (see the module docstring); else UNKNOWN. ``was_refused``: the recorded answer
    is a refusal (see ``refused``)."""
    owner = registry.domain_of_transaction(hint) if hint else None
    if hint and owner is not None and hint.endswith(f".{INVALID}") and was_refused:
        return hint
    found = from_bytes(body, content_type, path)
    if found is not None:
        return found
    if hint and owner is not None and hint in {t for channel in owner.channels for t in channel.before_tls}:
        return hint
    return UNKNOWN
