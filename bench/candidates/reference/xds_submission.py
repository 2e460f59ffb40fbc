"""The reference candidate's XDS.b metadata: the ITI-41 SubmitObjectsRequest describing a CDA document it feeds to
the DMP, derived from the document's header (IHE ITI TF-3 §4.2.3; CI-SIS "Volet partage de documents de santé").
Written apart from the simulator's reader on purpose (the bench must not judge its own code against itself)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

CDA = "urn:hl7-org:v3"
_NS = {"h": CDA}
_PATIENT_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
# Classes of the documents the reference candidate produces (TRE_A03-ClasseDocument).
_CLASS_BY_TYPE = {"SYNTH": ("11", "Synthèse"), "56445-0": ("11", "Synthèse")}
_FORMAT_BY_TEMPLATE = {
    "1.2.250.1.213.1.1.1.13": ("urn:asip:ci-sis:vsm:2012", "1.2.250.1.213.1.1.4.2.282", "Synthèse médicale"),
    "1.2.250.1.213.1.1.1.46": ("urn:asip:ci-sis:vac-note:2021", "1.2.250.1.213.1.1.4.2.282", "Note de vaccination"),
    "1.3.6.1.4.1.19376.1.2.20": ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Document à corps PDF"),
}
OBJECT_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:"
MASKED_TO_PROFESSIONALS = ("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé")
SCHEME = {
    "class": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentiality": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "format": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "facility": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practice": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "type": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "content": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "entry_author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "set_author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
}


@dataclass(frozen=True)
class CdaHeader:
    """What the metadata takes from the CDA header."""

    unique_id: str
    type_code: tuple[str, str, str]
    confidentiality: tuple[str, str, str]
    creation_time: str
    service_start: str | None
    patient_id: str | None  # INS^^^&OID&ISO
    local_patient_id: str | None  # the practice's own id^^^&OID&ISO
    author_id: str | None
    author_name: tuple[str, str]
    author_role: tuple[str, str, str] | None
    organisation: tuple[str, str] | None  # (id root, name)
    facility: tuple[str, str, str] | None
    templates: tuple[str, ...]
    title: str
    language: str


def _utc(value: str | None) -> str | None:
    """An HL7 TS (YYYYMMDDhhmmss+zzzz) as XDS wants it: UTC, no zone (ITI TF-3 Table 4.2.3.1.7-2)."""
    if not value:
        return None
    try:
        moment = dt.datetime.strptime(value, "%Y%m%d%H%M%S%z")
    except ValueError:
        return value[:14]
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def _coded(element: object) -> tuple[str, str, str]:
    get = getattr(element, "get", lambda _name, _default=None: None)
    return (get("code", "") or "", get("codeSystem", "") or "", get("displayName", "") or "")


def read_header(cda: bytes) -> CdaHeader:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(cda, parser)
    doc_id = root.find("h:id", _NS)
    root_oid, extension = doc_id.get("root", ""), doc_id.get("extension")
    patient_id = local_patient_id = None
    for identifier in root.iterfind("h:recordTarget/h:patientRole/h:id", _NS):
        value = f"{identifier.get('extension')}^^^&{identifier.get('root')}&ISO"
        if identifier.get("root") in _PATIENT_OIDS:
            patient_id = value
        elif local_patient_id is None:
            local_patient_id = value
    author = root.find("h:author/h:assignedAuthor", _NS)
    author_id = author.find("h:id", _NS) if author is not None else None
    organisation = author.find("h:representedOrganization", _NS) if author is not None else None
    return CdaHeader(
        unique_id=f"{root_oid}^{extension}" if extension else root_oid,
        type_code=_coded(root.find("h:code", _NS)),
        confidentiality=_coded(root.find("h:confidentialityCode", _NS)),
        creation_time=_utc(root.find("h:effectiveTime", _NS).get("value")) or "",
        service_start=_utc(_attr(root, "h:documentationOf/h:serviceEvent/h:effectiveTime/h:low", "value")),
        patient_id=patient_id,
        local_patient_id=local_patient_id,
        author_id=author_id.get("extension") if author_id is not None else None,
        author_name=(
            root.findtext("h:author/h:assignedAuthor/h:assignedPerson/h:name/h:family", "", _NS),
            root.findtext("h:author/h:assignedAuthor/h:assignedPerson/h:name/h:given", "", _NS),
        ),
        author_role=_coded(author.find("h:code", _NS))
        if author is not None and author.find("h:code", _NS) is not None
        else None,
        organisation=(
            (_attr(organisation, "h:id", "root") or "", organisation.findtext("h:name", "", _NS))
            if organisation is not None
            else None
        ),
        facility=_coded(root.find("h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code", _NS)),
        templates=tuple(t.get("root", "") for t in root.iterfind("h:templateId", _NS)),
        title=root.findtext("h:title", "", _NS),
        language=_attr(root, "h:languageCode", "code") or "fr-FR",
    )


def _attr(element: Any, path: str, name: str) -> str | None:
    found = element.find(path, _NS)
    return found.get(name) if found is not None else None


@dataclass(frozen=True)
class SubmissionContext:
    """What the software adds to the header: its ids, the practice, the feed's options (and defects)."""

    source_id: str  # the software's submission-set sourceId (OID)
    practice_setting: tuple[str, str, str] = ("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    author_specialty: tuple[str, str, str] = (
        "G15_10/SM54",
        "1.2.250.1.213.1.1.4.5",
        "Médecin - Médecine Générale (SM)",
    )
    content_type: tuple[str, str, str] | None = None  # the submission's activity; by default the document's type
    masked: bool = False
    replaces_entry: str | None = None  # entryUUID of the document this one replaces (RPLC)
    omit: frozenset[str] = field(default_factory=frozenset)  # metadata left out on purpose (defect switches)
    wrong_hash: bool = False  # declare a hash that is not the document's (defect switch)
    local_patient: bool = False  # no INS: name the patient by the local id (MSSanté to a professional; never the DMP)


@dataclass(frozen=True)
class Submission:
    body: str  # the ProvideAndRegisterDocumentSetRequest, serialised, with an xop:Include for the document
    entry_uuid: str
    unique_id: str
    document_cid: str


def _slot(name: str, *values: str) -> str:
    items = "".join(f"<rim:Value>{_text(v)}</rim:Value>" for v in values)
    return f"<rim:Slot name={quoteattr(name)}><rim:ValueList>{items}</rim:ValueList></rim:Slot>"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _classification(scheme: str, target: str, code: tuple[str, str, str]) -> str:
    return (
        f'<rim:Classification classificationScheme="{scheme}" classifiedObject="{target}" id="urn:uuid:{uuid.uuid4()}" '
        f'objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification" '
        f"nodeRepresentation={quoteattr(code[0])}>{_slot('codingScheme', code[1])}"
        f"<rim:Name><rim:LocalizedString value={quoteattr(code[2])}/></rim:Name></rim:Classification>"
    )


def _identifier(scheme: str, target: str, value: str, name: str) -> str:
    return (
        f'<rim:ExternalIdentifier id="urn:uuid:{uuid.uuid4()}" identificationScheme="{scheme}" '
        f'objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier" '
        f'registryObject="{target}" value={quoteattr(value)}><rim:Name><rim:LocalizedString value="{name}"/>'
        "</rim:Name></rim:ExternalIdentifier>"
    )


def provide_and_register(cda: bytes, context: SubmissionContext) -> Submission:
    """The ITI-41 request body feeding ``cda`` with metadata taken from its header."""
    header = read_header(cda)
    entry, package = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    cid = f"document.{uuid.uuid4().hex}@reference.segur-bench"
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    patient = header.patient_id or (header.local_patient_id if context.local_patient else None) or ""
    digest = hashlib.sha1(cda).hexdigest()  # XDS hash is SHA-1 (ITI TF-3 Table 4.3.1-3)
    if context.wrong_hash:
        digest = hashlib.sha1(cda + b" ").hexdigest()
    person = f"{header.author_id}^{header.author_name[0]}^{header.author_name[1]}^^^^^^&1.2.250.1.71.4.2.1&ISO"
    institution = (
        f"{header.organisation[1]}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{header.organisation[0]}"
        if header.organisation
        else ""
    )
    author_slots = _slot("authorPerson", person)
    if institution:
        author_slots += _slot("authorInstitution", institution)
    if header.author_role:
        author_slots += _slot("authorRole", f"{header.author_role[0]}^{header.author_role[2]}^{header.author_role[1]}")
    author_slots += _slot(
        "authorSpecialty",
        "^".join((context.author_specialty[0], context.author_specialty[2], context.author_specialty[1])),
    )
    author = (
        f'<rim:Classification classificationScheme="{SCHEME["entry_author"]}" classifiedObject="{entry}" '
        f'id="urn:uuid:{uuid.uuid4()}" nodeRepresentation="">{author_slots}</rim:Classification>'
    )
    set_author = author.replace(SCHEME["entry_author"], SCHEME["set_author"]).replace(entry, package)
    class_code = _CLASS_BY_TYPE.get(header.type_code[0], ("10", "Compte rendu"))
    format_code = next((_FORMAT_BY_TEMPLATE[t] for t in header.templates if t in _FORMAT_BY_TEMPLATE), None)
    entry_slots = _slot("creationTime", header.creation_time) + _slot("languageCode", header.language)
    if header.service_start:
        entry_slots += _slot("serviceStartTime", header.service_start)
    entry_slots += _slot("sourcePatientId", patient) + _slot("hash", digest) + _slot("size", str(len(cda)))
    classifications = author
    if "classCode" not in context.omit:
        classifications += _classification(
            SCHEME["class"], entry, (class_code[0], "1.2.250.1.213.1.1.4.1", class_code[1])
        )
    classifications += _classification(SCHEME["confidentiality"], entry, header.confidentiality)
    if context.masked:
        classifications += _classification(SCHEME["confidentiality"], entry, MASKED_TO_PROFESSIONALS)
    if format_code and "formatCode" not in context.omit:
        classifications += _classification(SCHEME["format"], entry, format_code)
    if header.facility and header.facility[0]:
        classifications += _classification(SCHEME["facility"], entry, header.facility)
    classifications += _classification(SCHEME["practice"], entry, context.practice_setting)
    if "typeCode" not in context.omit:
        classifications += _classification(SCHEME["type"], entry, header.type_code)
    extrinsic = (
        f'<rim:ExtrinsicObject id="{entry}" mimeType="text/xml" '
        f'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">{entry_slots}'
        f"<rim:Name><rim:LocalizedString value={quoteattr(header.title)}/></rim:Name>{classifications}"
        + _identifier("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", entry, patient, "XDSDocumentEntry.patientId")
        + _identifier(
            "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", entry, header.unique_id, "XDSDocumentEntry.uniqueId"
        )
        + "</rim:ExtrinsicObject>"
    )
    registry_package = (
        f'<rim:RegistryPackage id="{package}" objectType="{OBJECT_TYPE}RegistryPackage">'
        f"{_slot('submissionTime', now)}{set_author}"
        + _classification(SCHEME["content"], package, context.content_type or header.type_code)
        + _identifier(
            "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
            package,
            f"2.25.{uuid.uuid4().int}",
            "XDSSubmissionSet.uniqueId",
        )
        + _identifier(
            "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", package, context.source_id, "XDSSubmissionSet.sourceId"
        )
        + _identifier("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", package, patient, "XDSSubmissionSet.patientId")
        + "</rim:RegistryPackage>"
        f'<rim:Classification classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" '
        f'classifiedObject="{package}" id="urn:uuid:{uuid.uuid4()}" objectType="{OBJECT_TYPE}Classification"/>'
    )
    associations = (
        f'<rim:Association associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
        f'id="urn:uuid:{uuid.uuid4()}" sourceObject="{package}" targetObject="{entry}" '
        f'objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association">'
        f"{_slot('SubmissionSetStatus', 'Original')}</rim:Association>"
    )
    if context.replaces_entry:
        associations += (
            f'<rim:Association associationType="urn:ihe:iti:2007:AssociationType:RPLC" id="urn:uuid:{uuid.uuid4()}" '
            f'sourceObject="{entry}" targetObject="{context.replaces_entry}" '
            f'objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"/>'
        )
    body = (
        '<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        'xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
        'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        f"<lcm:SubmitObjectsRequest><rim:RegistryObjectList>{extrinsic}{registry_package}{associations}"
        "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
        f'<xdsb:Document id="{entry}"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
        f'href="cid:{cid}"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>'
    )
    return Submission(body, entry, header.unique_id, cid)
