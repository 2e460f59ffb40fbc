"""Hardened XML parsing shared by simulators and checks.

Everything that reaches the bench from a candidate or a capture is hostile until parsed: no DTD, no entity
expansion (billion laughs), no external entity or network access (XXE), bounded size and depth.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

MAX_XML_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 256


class UnsafeXmlError(ValueError):
    """The input is not XML the bench accepts: malformed, too large, too deep, or carrying a DTD."""


class _NothingExternal(etree.Resolver):  # type: ignore[misc]
    """Every external resource (DTD, entity, XInclude) resolves to nothing: libxml2 would otherwise open a local
    ``SYSTEM "file:///dev/stdin"`` or a FIFO even with ``load_dtd=False`` and ``no_network``, and block."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        return self.resolve_string("", context)


# A DTD declared in another encoding (UTF-16, UTF-32) does not show as ASCII bytes: look for it in those too.
_DTD_MARKERS = tuple(
    marker.encode(codec)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def _parser() -> Any:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )
    parser.resolvers.add(_NothingExternal())
    return parser


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> Any:
    """Parse ``data`` into an lxml element, refusing DTDs, entities, oversized or too deeply nested input.

    >>> parse_xml(b"<a><b/></a>").tag
    'a'
    """
    if len(data) > max_bytes:
        raise UnsafeXmlError(f"document de {len(data)} octets, au-delà de la limite de {max_bytes} octets")
    if not data.strip():
        raise UnsafeXmlError("document vide")
    # A DTD is never legitimate in SOAP (SOAP 1.2 part 1, 5) nor in CDA exchanges: refuse it before parsing.
    if any(marker in data for marker in _DTD_MARKERS):
        raise UnsafeXmlError("les DTD et déclarations d'entités sont interdites")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError(f"XML mal formé : {exc}") from exc
    except ValueError as exc:  # lxml raises ValueError for some encodings declarations
        raise UnsafeXmlError(f"XML illisible : {exc}") from exc
    if root is None:
        raise UnsafeXmlError("document vide")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise UnsafeXmlError("les DTD et déclarations d'entités sont interdites")
    _check_depth(root)
    return root


def _check_depth(root: Any) -> None:
    depth = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise UnsafeXmlError(f"imbrication XML au-delà de {MAX_DEPTH} niveaux")


def text_of(element: Any, path: str, namespaces: dict[str, str]) -> str | None:
    """Text of the first element at ``path`` (an XPath relative to ``element``), or None."""
    found = element.find(path, namespaces)
    if found is None or found.text is None:
        return None
    return str(found.text)
