"""Which transaction a captured HTTP request is, from its bytes, as the domains that declare HTTP channels recognise
it (an INSi call by its body, a DMP call by its WS-Addressing action...). Used by bundle imports and by streamed
capture replays alike."""

from __future__ import annotations

from bench.domains import registry

UNKNOWN = "http.unknown"


def identify(body: bytes, content_type: str, hint: str | None = None) -> str:
    """The transaction name (``insi.search_traits``, ``dmp.iti41``...), ``hint`` when the bundle gives one."""
    if hint:
        return hint
    for domain in registry.load().values():
        if domain.identify_http is not None and (transaction := domain.identify_http(body, content_type)):
            return transaction
    return UNKNOWN
