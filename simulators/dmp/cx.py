"""HL7 v2 CX identifiers as XDS carries them (IHE ITI TF-3 §4.2.3.1.7, "CX" data type): ``id^^^&OID&ISO^type``.

The DMP and every official example write the patient's INS as ``<INS>^^^&1.2.250.1.213.1.4.10&ISO^NH``, sometimes
with later components (``^NH^^20100907``, GIE SESAM-Vitale TD2.1/TD3.3d examples). Identifiers are therefore read
component by component: the id (CX.1), the assigning authority's universal id and its type (CX.4.2, CX.4.3) and the
identifier type code (CX.5); later components are ignored, as a registry must (ITI TF-3 Table 4.2.3.1.7-2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OID = re.compile(r"^[0-2](?:\.(?:0|[1-9][0-9]*))+$")


@dataclass(frozen=True)
class Cx:
    id: str
    authority: str  # the assigning authority's OID (CX.4.2)
    type_code: str  # CX.5, "NH" for the INS as the DMP writes it; may be empty

    @property
    def key(self) -> str:
        """The form two identifiers of the same patient share whatever their optional components:
        ``ID^^^&OID&ISO`` (the id upper-cased: an INS NIR may carry A/B for Corsica)."""
        return f"{self.id.upper()}^^^&{self.authority}&ISO"


def parse_cx(value: str | None) -> Cx | None:
    """The CX identifier in ``value``, or None when it has no id or no ISO-typed OID as assigning authority."""
    components = (value or "").strip().split("^")
    if len(components) < 4 or not components[0]:
        return None
    authority = components[3].split("&")
    if len(authority) != 3 or authority[2] != "ISO" or not _OID.match(authority[1]):
        return None
    type_code = components[4] if len(components) > 4 else ""
    return Cx(components[0], authority[1], type_code)


def cx_key(value: str | None) -> str | None:
    """``parse_cx(value).key``, or None."""
    parsed = parse_cx(value)
    return parsed.key if parsed else None


def reference_key(value: str) -> tuple[str, str, str]:
    """(id, assigning authority OID or "", type) of a CXi reference as XDS referenceIdList carries it (IHE ITI TF-3
    §4.2.3.2.28: ``id^^^&OID&ISO^type``). Unlike a patient's CX its authority may be absent (a study instance UID is
    written ``uid^^^^urn:ihe:iti:xds:2016:studyInstanceUID``); later components do not tell two references apart."""
    components = value.split("^")
    authority = components[3].split("&") if len(components) > 3 else []
    return components[0], authority[1] if len(authority) > 1 else "", components[4] if len(components) > 4 else ""
