"""Hand-built DMP requests for the simulator's socket tests: written here from IHE ITI TF-2b/TF-3, not with the
reference candidate's builders, so that the simulator is proven against a client that is not ours. Only the VIHF
signature reuses a signer (signxml) through the candidate's helper."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

from lxml import etree

from bench.fixtures.vihf import VihfContext, build_vihf
from simulators.common.pki import BenchPki

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
INS = "248092A203145"  # any well-formed NIR; the DMP simulator plays an open DMP for unknown patients
PATIENT = ("285063306307712", "1.2.250.1.213.1.4.10")
# What the VIHF unit tests sign, changing one field at a time.
VIHF_CONTEXT = VihfContext(
    professional_id="810002345678",
    professional_name="MEDECIN REFERENCE",
    profession=("10", "1.2.250.1.71.1.2.7", "Médecin"),
    structure_id="1.2.250.1.999.1.3",
    activity_sector="SA07^1.2.250.1.71.4.2.4",
    patient_ins="178037511502783",
    patient_oid="1.2.250.1.213.1.4.10",
    software_name="segur-bench-reference",
    software_version="0.1.0",
    approval_number="SB-TEST-0001",
)


def vihf(
    pki: BenchPki,
    patient: tuple[str, str] = PATIENT,
    *,
    professional: str = "810002345678",
    now: dt.datetime | None = None,
    key: Path | None = None,
    cert: Path | None = None,
    omit: tuple[str, ...] = (),
    access_mode: str = "normal",
) -> bytes:
    context = VihfContext(
        professional_id=professional,
        professional_name="TEST CLIENT",
        profession=("10", "1.2.250.1.71.1.2.7", "Médecin"),
        structure_id="1.2.250.1.999.7.7",
        activity_sector="SA07^1.2.250.1.71.4.2.4",
        patient_ins=patient[0],
        patient_oid=patient[1],
        software_name="client-de-test",
        software_version="1",
        approval_number="TEST-1",
        access_mode=access_mode,
    )
    assertion = build_vihf(
        context, (key or pki.client.key).read_bytes(), (cert or pki.client.cert).read_bytes(), now=now, omit=omit
    )
    return bytes(etree.tostring(assertion))


def envelope(action: str, body: str, assertion: bytes | None) -> bytes:
    security = (
        f'<wsse:Security xmlns:wsse="{WSSE}">{assertion.decode()}</wsse:Security>' if assertion is not None else ""
    )
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header>'
        f"<wsa:Action>{action}</wsa:Action><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>{security}"
        f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def mtom(envelope_bytes: bytes, parts: dict[str, bytes], boundary: str = "MIME_boundary_test") -> tuple[bytes, str]:
    chunks = [
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        "Content-ID: <root@test>\r\n\r\n".encode()
        + envelope_bytes
        + b"\r\n"
    ]
    for cid, data in parts.items():
        chunks.append(
            f"--{boundary}\r\nContent-Type: text/xml\r\nContent-ID: <{cid}>\r\n\r\n".encode() + data + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<root@test>"; '
        'start-info="application/soap+xml"'
    )
    return b"".join(chunks), content_type


def _classification(scheme: str, target: str, code: str, system: str) -> str:
    return (
        f'<rim:Classification classificationScheme="{scheme}" classifiedObject="{target}" id="urn:uuid:{uuid.uuid4()}"'
        f' nodeRepresentation="{code}"><rim:Slot name="codingScheme"><rim:ValueList><rim:Value>{system}</rim:Value>'
        "</rim:ValueList></rim:Slot></rim:Classification>"
    )


def provide_and_register(
    document: bytes,
    *,
    patient: tuple[str, str] = PATIENT,
    unique_id: str | None = None,
    replaces: str | None = None,
    masked: bool = False,
    cid: str = "doc1@test",
    declared_hash: str | None = None,
    references: tuple[str, ...] = (),
    event_codes: tuple[tuple[str, str], ...] = (),
) -> tuple[str, str, str]:
    """(ITI-41 body, entryUUID, uniqueId)."""
    entry, package = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    unique = unique_id or f"2.25.{uuid.uuid4().int}"
    patient_id = f"{patient[0]}^^^&amp;{patient[1]}&amp;ISO"
    confidentiality = _classification(
        "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", entry, "N", "2.16.840.1.113883.5.25"
    )
    if masked:
        confidentiality += _classification(
            "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", entry, "MASQUE_PS", "1.2.250.1.213.1.1.4.13"
        )
    for scheme, code, system in (
        ("urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", "10", "1.2.250.1.213.1.1.4.1"),  # classCode
        ("urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", "urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3"),
        ("urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", "SA07", "1.2.250.1.71.4.2.4"),  # healthcareFacilityType
        ("urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", "AMBULATOIRE", "1.2.250.1.213.1.1.4.9"),  # practiceSetting
        ("urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", "11488-4", "2.16.840.1.113883.6.1"),  # typeCode
        *(("urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4", code, system) for code, system in event_codes),
    ):
        confidentiality += _classification(scheme, entry, code, system)
    digest = declared_hash or hashlib.sha1(document).hexdigest()
    association = (
        f'<rim:Association associationType="urn:ihe:iti:2007:AssociationType:RPLC" id="urn:uuid:{uuid.uuid4()}" '
        f'sourceObject="{entry}" targetObject="{replaces}"/>'
        if replaces
        else ""
    )
    slots = "".join(
        f'<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>'
        for name, value in (
            ("creationTime", "20261124080000"),
            ("languageCode", "fr-FR"),
            ("sourcePatientId", patient_id),
        )
    )
    if references:
        values = "".join(f"<rim:Value>{v.replace('&', '&amp;')}</rim:Value>" for v in references)
        slots += (
            f'<rim:Slot name="urn:ihe:iti:xds:2013:referenceIdList"><rim:ValueList>{values}</rim:ValueList></rim:Slot>'
        )
    body = (
        '<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        f'xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="{RIM}"><lcm:SubmitObjectsRequest>'
        f'<rim:RegistryObjectList><rim:ExtrinsicObject id="{entry}" mimeType="text/xml" '
        'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
        f'<rim:Slot name="hash"><rim:ValueList><rim:Value>{digest}</rim:Value></rim:ValueList></rim:Slot>'
        f"{slots}{confidentiality}"
        f'<rim:ExternalIdentifier id="urn:uuid:{uuid.uuid4()}" registryObject="{entry}" '
        f'identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="{patient_id}"/>'
        f'<rim:ExternalIdentifier id="urn:uuid:{uuid.uuid4()}" registryObject="{entry}" '
        f'identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="{unique}"/>'
        f'</rim:ExtrinsicObject><rim:RegistryPackage id="{package}">'
        f'<rim:ExternalIdentifier id="urn:uuid:{uuid.uuid4()}" registryObject="{package}" '
        f'identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="2.25.{uuid.uuid4().int}"/>'
        f'<rim:ExternalIdentifier id="urn:uuid:{uuid.uuid4()}" registryObject="{package}" '
        f'identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="{patient_id}"/>'
        "</rim:RegistryPackage>"
        f'<rim:Association associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
        f'id="urn:uuid:{uuid.uuid4()}" sourceObject="{package}" targetObject="{entry}"/>{association}'
        "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
        f'<xdsb:Document id="{entry}"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
        f'href="cid:{cid}"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>'
    )
    return body, entry, unique


def find_documents(
    patient: tuple[str, str] = PATIENT,
    statuses: tuple[str, ...] = ("Approved",),
    criteria: dict[str, str] | None = None,
) -> str:
    values = ",".join(f"'urn:oasis:names:tc:ebxml-regrep:StatusType:{s}'" for s in statuses)
    more = "".join(
        f'<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>'
        for name, value in (criteria or {}).items()
    )
    return (
        f'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="{RIM}">'
        '<query:ResponseOption returnType="LeafClass"/>'
        '<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">'
        f'<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>\'{patient[0]}^^^&amp;{patient[1]}'
        "&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>"
        f'<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>({values})</rim:Value></rim:ValueList>'
        f"</rim:Slot>{more}</rim:AdhocQuery></query:AdhocQueryRequest>"
    )


def retrieve(repository: str, unique_id: str) -> str:
    return (
        '<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>'
        f"<xdsb:RepositoryUniqueId>{repository}</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{unique_id}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>"
        "</xdsb:RetrieveDocumentSetRequest>"
    )


def parse(data: bytes) -> Any:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
