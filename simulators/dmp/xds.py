"""IHE XDS.b metadata (IHE ITI TF-3 §4: ebRIM 3.0 SubmitObjectsRequest) as the DMP receives it in ITI-41 and returns
it in ITI-18: DocumentEntry (ExtrinsicObject), SubmissionSet (RegistryPackage), associations (HasMember, RPLC).
Parsing only reads; judging the metadata is the checks' job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"

# IHE ITI TF-3 Table 4.2.5-1 (classification schemes and identification schemes of XDS metadata).
DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SCHEMES = {
    "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a": "classCode",
    "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f": "confidentialityCode",
    "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4": "eventCodeList",
    "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d": "formatCode",
    "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1": "healthcareFacilityTypeCode",
    "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead": "practiceSettingCode",
    "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983": "typeCode",
    "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500": "contentTypeCode",
}
AUTHOR_SCHEMES = ("urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d", "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d")
ENTRY_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ENTRY_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SET_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SET_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SET_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
REPLACE = "urn:ihe:iti:2007:AssociationType:RPLC"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"  # IHE DSG: a signature entry signs the submission set
STATUS_APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
STATUS_DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
ACTIONS = {
    "iti41": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    "iti18": "urn:ihe:iti:2007:RegistryStoredQuery",
    "iti43": "urn:ihe:iti:2007:RetrieveDocumentSet",
    "iti57": "urn:ihe:iti:2010:UpdateDocumentSet",
}


@dataclass(frozen=True)
class Code:
    code: str
    scheme: str
    display: str


@dataclass
class Author:
    person: str | None = None
    institutions: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)


@dataclass
class RegistryObject:
    """What DocumentEntry and SubmissionSet share: id, slots, coded classifications, external identifiers."""

    id: str
    slots: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[Code]] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)
    authors: list[Author] = field(default_factory=list)
    title: str | None = None
    mime_type: str | None = None
    status: str | None = None

    def slot(self, name: str) -> str | None:
        values = self.slots.get(name) or []
        return values[0] if values else None

    def code(self, name: str) -> Code | None:
        values = self.codes.get(name) or []
        return values[0] if values else None


@dataclass
class Association:
    type: str
    source: str
    target: str


@dataclass
class Submission:
    entries: list[RegistryObject]
    submission_set: RegistryObject | None
    associations: list[Association]


def _slots(element: Any) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for slot in element.findall(f"{{{RIM}}}Slot"):
        values = [(v.text or "").strip() for v in slot.findall(f"{{{RIM}}}ValueList/{{{RIM}}}Value")]
        slots[slot.get("name") or ""] = values
    return slots


def _localized(element: Any, tag: str) -> str | None:
    found = element.find(f"{{{RIM}}}{tag}/{{{RIM}}}LocalizedString")
    return found.get("value") if found is not None else None


def _read_object(element: Any, identifier_schemes: dict[str, str]) -> RegistryObject:
    obj = RegistryObject(
        id=element.get("id") or "",
        slots=_slots(element),
        title=_localized(element, "Name"),
        mime_type=element.get("mimeType"),
        status=element.get("status"),
    )
    for classification in element.findall(f"{{{RIM}}}Classification"):
        scheme = classification.get("classificationScheme") or ""
        slots = _slots(classification)
        if scheme in AUTHOR_SCHEMES:
            obj.authors.append(
                Author(
                    person=(slots.get("authorPerson") or [""])[0] or None,
                    institutions=slots.get("authorInstitution", []),
                    roles=slots.get("authorRole", []),
                    specialties=slots.get("authorSpecialty", []),
                )
            )
        elif scheme in SCHEMES:
            coding = (slots.get("codingScheme") or [""])[0]
            code = Code(
                classification.get("nodeRepresentation") or "", coding, _localized(classification, "Name") or ""
            )
            obj.codes.setdefault(SCHEMES[scheme], []).append(code)
    for external in element.findall(f"{{{RIM}}}ExternalIdentifier"):
        name = identifier_schemes.get(external.get("identificationScheme") or "")
        if name:
            obj.identifiers[name] = external.get("value") or ""
    return obj


def read_entry(element: Any) -> RegistryObject:
    """One stored DocumentEntry (an ExtrinsicObject): its slots and codes."""
    return _read_object(element, {})


def read_submission(request: Any) -> Submission:
    """The metadata of an ITI-41 ``ProvideAndRegisterDocumentSetRequest`` (or an ITI-42/XDM SubmitObjectsRequest)."""
    submit = (
        request if request.tag == f"{{{LCM}}}SubmitObjectsRequest" else request.find(f"{{{LCM}}}SubmitObjectsRequest")
    )
    if submit is None:
        return Submission([], None, [])
    entry_ids = {ENTRY_PATIENT_ID: "patientId", ENTRY_UNIQUE_ID: "uniqueId"}
    set_ids = {SET_PATIENT_ID: "patientId", SET_UNIQUE_ID: "uniqueId", SET_SOURCE_ID: "sourceId"}
    entries = [
        _read_object(e, entry_ids)
        for e in submit.iter(f"{{{RIM}}}ExtrinsicObject")
        if e.get("objectType") == DOCUMENT_ENTRY
    ]
    submission_set = None
    for package in submit.iter(f"{{{RIM}}}RegistryPackage"):
        classified = any(
            c.get("classificationNode") == SUBMISSION_SET
            for c in submit.iter(f"{{{RIM}}}Classification")
            if c.get("classifiedObject") == package.get("id")
        )
        if (
            classified
            or package.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{SET_UNIQUE_ID}']") is not None
        ):
            submission_set = _read_object(package, set_ids)
    associations = [
        Association(a.get("associationType") or "", a.get("sourceObject") or "", a.get("targetObject") or "")
        for a in submit.iter(f"{{{RIM}}}Association")
    ]
    return Submission(entries, submission_set, associations)
