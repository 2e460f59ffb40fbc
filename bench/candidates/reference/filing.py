"""How the reference candidate files a document in a record: under its type and its date as the CDA writes them, with
its author shown (SC.CDA/INT.04, SC.DMP/UX.38), and which earlier version a new one replaces (SC.MSS/CDA.03)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bench.fixtures.xds import read_header
from simulators.common.namespaces import HL7
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

NS = {"h": HL7}


@dataclass(frozen=True)
class FilingKeys:
    type_code: str | None
    date: str | None
    author: str | None

    @classmethod
    def of(cls, cda: bytes, *, dated_on_receipt: bool = False) -> FilingKeys:
        """``dated_on_receipt``: the defect that files a document under the day it arrived (CDA-013)."""
        try:
            header = read_header(cda)
        except Exception:  # an unreadable document is still listed, under no key
            return cls(None, None, None)
        family, given = header.author_name
        author = " ".join(part for part in (given, family) if part) or None
        day = dt.date.today().isoformat() if dated_on_receipt else header.effective_day
        return cls(header.type_code[0] or None, day, author)


def replaced_version(cda: bytes) -> str | None:
    """The unique id (root^extension, or root) of the version this document replaces (relatedDocument RPLC)."""
    try:
        root = parse_xml(cda)
    except UnsafeXmlError:
        return None
    parent = root.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS)
    if parent is None or not parent.get("root"):
        return None
    extension = parent.get("extension")
    return f"{parent.get('root')}^{extension}" if extension else str(parent.get("root"))
