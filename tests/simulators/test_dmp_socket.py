"""The DMP simulator over its real socket: a client that is not ours feeds with MTOM and retrieves byte for byte;
states, masking and replacement; faults for bad input and bad assertions; a fuzz that never crashes it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import ssl
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bench.domains.dmp.simulators import DmpSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.pki import BenchPki, ensure_pki
from simulators.dmp.tls import DMP_CIPHERS
from simulators.dmp.transactions import REPOSITORY_ID
from tests.simulators import dmp_requests as req

ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
SOAP_XML = {"Content-Type": "application/soap+xml; charset=utf-8"}
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
DOCUMENT = b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>T</title></ClinicalDocument>'


@pytest.fixture
def client(pki: BenchPki) -> Iterator[httpx.Client]:
    with httpx.Client(verify=pki.client_context(), timeout=20) as http:
        yield http


def _dmp(hub: SimulatorHub) -> DmpSimulators:
    return hub.of("dmp", DmpSimulators)


def _feed(
    client: httpx.Client, hub: SimulatorHub, pki: BenchPki, document: bytes = DOCUMENT, **options: object
) -> tuple[httpx.Response, str, str]:
    body, entry, unique_id = req.provide_and_register(document, **options)  # type: ignore[arg-type]
    data, content_type = req.mtom(req.envelope(ITI41, body, req.vihf(pki)), {"doc1@test": document})
    return client.post(_dmp(hub).url, content=data, headers={"Content-Type": content_type}), entry, unique_id


def _status(response: httpx.Response) -> str:
    found = req.parse(response.content).find(f".//{{{RS}}}RegistryResponse")
    root = req.parse(response.content)
    status = found.get("status") if found is not None else root.find(".//*[@status]").get("status")
    return str(status).rsplit(":", 1)[-1]


def _errors(response: httpx.Response) -> list[str]:
    return [e.get("errorCode") for e in req.parse(response.content).iter(f"{{{RS}}}RegistryError")]


def _fault(response: httpx.Response) -> tuple[str, str]:
    root = req.parse(response.content)
    ns = {"s": req.SOAP}
    return (
        root.findtext(".//s:Fault/s:Code/s:Value", namespaces=ns) or "",
        root.findtext(".//s:Fault/s:Code/s:Subcode/s:Value", namespaces=ns) or "",
    )


def _find(
    client: httpx.Client, hub: SimulatorHub, pki: BenchPki, criteria: dict[str, str] | None = None, **vihf: object
) -> list[str]:
    query = req.find_documents(criteria=criteria)
    envelope = req.envelope(ITI18, query, req.vihf(pki, **vihf))  # type: ignore[arg-type]
    response = client.post(_dmp(hub).url, content=envelope, headers=SOAP_XML)
    assert response.status_code == 200
    return [
        e.find(
            f"{{{RIM}}}ExternalIdentifier[@identificationScheme='urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab']"
        ).get("value")
        for e in req.parse(response.content).iter(f"{{{RIM}}}ExtrinsicObject")
    ]


def test_a_foreign_client_feeds_with_mtom_and_retrieves_byte_for_byte(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki
) -> None:
    document = DOCUMENT + bytes(range(256)) * 10  # binary tail: MTOM carries it untouched
    response, _entry, unique_id = _feed(client, hub, pki, document)
    assert response.status_code == 200 and _status(response) == "Success", response.text
    assert _find(client, hub, pki) == [unique_id]
    envelope = req.envelope(ITI43, req.retrieve(REPOSITORY_ID, unique_id), req.vihf(pki))
    answer = client.post(_dmp(hub).url, content=envelope, headers=SOAP_XML)
    assert answer.headers["content-type"].startswith("multipart/related")
    message = email.message_from_bytes(
        f"Content-Type: {answer.headers['content-type']}\r\n\r\n".encode() + answer.content, policy=email.policy.default
    )
    parts = list(message.iter_parts())
    assert parts[1].get_payload(decode=True) == document
    transactions = [x.transaction for x in hub.journal.exchanges]
    assert transactions == ["dmp.iti41", "dmp.iti18", "dmp.iti43"]
    assert all(x.meta["vihf"]["problems"] == [] for x in hub.journal.exchanges)


@pytest.mark.parametrize(
    ("criteria", "found"),
    [
        ({}, True),
        ({"$XDSDocumentEntryTypeCode": "('11488-4^^2.16.840.1.113883.6.1')"}, True),
        ({"$XDSDocumentEntryTypeCode": "('87273-9^^2.16.840.1.113883.6.1','11488-4^^2.16.840.1.113883.6.1')"}, True),
        ({"$XDSDocumentEntryTypeCode": "('87273-9^^2.16.840.1.113883.6.1')"}, False),
        ({"$XDSDocumentEntryCreationTimeFrom": "20261124"}, True),  # inclusive
        ({"$XDSDocumentEntryCreationTimeFrom": "20261125"}, False),
        ({"$XDSDocumentEntryCreationTimeTo": "20261124080000"}, False),  # exclusive
        ({"$XDSDocumentEntryCreationTimeTo": "2027"}, True),
    ],
)
def test_find_documents_applies_the_multicriteria_search(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki, criteria: dict[str, str], found: bool
) -> None:
    """IHE ITI TF-2a §3.18.4.1.2.3.7.1: type codes and the creation time bounds select what FindDocuments returns
    (the fed entry: typeCode 11488-4, creationTime 20261124080000)."""
    response, _entry, unique_id = _feed(client, hub, pki)
    assert _status(response) == "Success", response.text
    assert _find(client, hub, pki, criteria) == ([unique_id] if found else [])


ORDER = "984375862^^^&1.2.250.1.999.2.1&ISO^urn:ihe:iti:xds:2013:order"


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        (f"('{ORDER}')", True),
        ("('111^^^&1.2.250.1.999.2.1&ISO^urn:ihe:iti:xds:2013:order','" + ORDER + "')", True),  # any of them
        ("('984375862^^^&1.2.250.1.999.2.2&ISO^urn:ihe:iti:xds:2013:order')", False),  # another authority
        ("('984375862^^^&1.2.250.1.999.2.1&ISO^urn:ihe:iti:xds:2013:accession')", False),  # another type
    ],
)
def test_find_documents_selects_by_reference_id(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki, asked: str, found: bool
) -> None:
    """ITI TF-2a §3.18.4.1.2.3.7.1: $XDSDocumentEntryReferenceIdList finds the entries holding one of the references
    (id, assigning authority and type), as a RIS or a hospital record finds the reports of an imaging order."""
    response, _entry, unique_id = _feed(client, hub, pki, references=(ORDER,))
    assert _status(response) == "Success", response.text
    criteria = {"$XDSDocumentEntryReferenceIdList": asked.replace("&", "&amp;")}
    assert _find(client, hub, pki, criteria) == ([unique_id] if found else [])


@pytest.mark.parametrize(
    ("asked", "found"), [("('CR^^1.2.840.10008.2.16.4')", True), ("('CT^^1.2.840.10008.2.16.4')", False)]
)
def test_find_documents_selects_by_event_code(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki, asked: str, found: bool
) -> None:
    """$XDSDocumentEntryEventCodeList: an imaging report found by its acquisition modality."""
    response, _entry, unique_id = _feed(client, hub, pki, event_codes=(("CR", "1.2.840.10008.2.16.4"),))
    assert _status(response) == "Success", response.text
    assert _find(client, hub, pki, {"$XDSDocumentEntryEventCodeList": asked}) == ([unique_id] if found else [])


def test_replacement_deprecates_and_masking_hides_from_other_professionals(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki
) -> None:
    _r, entry, _first = _feed(client, hub, pki)
    response, _e, second = _feed(client, hub, pki, replaces=entry)
    assert _status(response) == "Success"
    assert _find(client, hub, pki) == [second]
    response, _e, masked = _feed(client, hub, pki, masked=True)
    assert _status(response) == "Success"
    assert masked in _find(client, hub, pki)  # its author sees it
    assert masked not in _find(client, hub, pki, professional="810009999999")  # another professional does not
    again, _e, _u = _feed(client, hub, pki, replaces=entry)
    assert _errors(again) == ["XDSRegistryDeprecatedDocumentError"]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("absent", "XDSUnknownPatientId"),
        ("ferme", "XDSRegistryError"),
        ("opposition", "XDSRegistryError"),
        ("non_autorise", "XDSRegistryError"),
    ],
)
def test_business_states_are_refused_as_the_dmp_would(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki, state: str, code: str
) -> None:
    _dmp(hub).state.registry.set_patient_state(req.PATIENT[0], state)  # type: ignore[arg-type]
    response, _e, _u = _feed(client, hub, pki)
    assert _status(response) == "Failure" and _errors(response) == [code]
    assert hub.journal.exchanges[-1].outcome == "failure"


def test_hash_size_patient_and_missing_part_are_checked(hub: SimulatorHub, client: httpx.Client, pki: BenchPki) -> None:
    response, _e, _u = _feed(client, hub, pki, declared_hash="0" * 40)
    assert _errors(response) == ["XDSNonIdenticalHash"]
    response, _e, _u = _feed(client, hub, pki, patient=("178037511502783", "1.2.250.1.213.1.4.10"))
    assert _errors(response) == ["XDSPatientIdDoesNotMatch"]  # the VIHF names another patient
    response, _e, _u = _feed(client, hub, pki, cid="elsewhere@test")
    assert _errors(response) == ["XDSMissingDocument"]


def _rogue_signer(tmp_path: Path) -> tuple[Path, Path]:
    other = ensure_pki(tmp_path / "other-pki")  # a PKI the DMP does not trust
    return other.client.key, other.client.cert


@pytest.mark.parametrize(
    ("variant", "subcode"),
    [
        ("missing", "wsse:InvalidSecurity"),
        ("expired", "wsse:MessageExpired"),
        ("forged", "wsse:FailedCheck"),
        ("foreign_signer", "wsse:FailedCheck"),
        ("incomplete", "wsse:InvalidSecurityToken"),
        ("wrapped", "wsse:FailedCheck"),
        ("malformed_signature", "wsse:FailedCheck"),
        ("not_yet_valid", "wsse:InvalidSecurityToken"),
        ("unsigned", "wsse:FailedCheck"),
    ],
)
def test_bad_assertions_get_ws_security_faults(
    hub: SimulatorHub, client: httpx.Client, pki: BenchPki, tmp_path: Path, variant: str, subcode: str
) -> None:
    assertion: bytes | None
    if variant == "missing":
        assertion = None
    elif variant == "expired":
        assertion = req.vihf(pki, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    elif variant == "forged":
        assertion = req.vihf(pki).replace(b"client-de-test", b"client-pirate!")
    elif variant == "foreign_signer":
        key, cert = _rogue_signer(tmp_path)
        assertion = req.vihf(pki, key=key, cert=cert)
    elif variant == "wrapped":
        assertion = _wrapped_for_another_patient(req.vihf(pki))
    elif variant == "not_yet_valid":
        assertion = req.vihf(pki, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    elif variant == "unsigned":
        assertion = re.sub(rb"<ds:Signature\b.*</ds:Signature>", b"", req.vihf(pki), flags=re.S)
    elif variant == "malformed_signature":  # was an HTTP 500 with no journal line
        assertion = re.sub(rb"<ds:SignedInfo>.*</ds:SignedInfo>", b"", req.vihf(pki), flags=re.S)
    else:
        assertion = req.vihf(pki, omit=("LPS_ID_HOMOLOGATION_DMP",))
    response = client.post(
        _dmp(hub).url, content=req.envelope(ITI18, req.find_documents(), assertion), headers=SOAP_XML
    )
    assert response.status_code == 400
    assert _fault(response) == ("soap:Sender", subcode)
    recorded = hub.journal.exchanges[-1]
    assert recorded.transaction == "dmp.iti18" and recorded.outcome == f"fault:{subcode}"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"<not-closed", "application/soap+xml", 400),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>',
            "application/soap+xml",
            400,
        ),
        (b"--x\r\nContent-Type: text/plain\r\n\r\nno end", 'multipart/related; boundary="other"', 400),
        (b"{}", "application/json", 415),
    ],
)
def test_malformed_requests_get_faults_and_are_recorded(
    hub: SimulatorHub, client: httpx.Client, body: bytes, content_type: str, status: int
) -> None:
    response = client.post(_dmp(hub).url, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert _fault(response)[0] == "soap:Sender"
    assert hub.journal.exchanges[-1].outcome == "fault:Sender"


def test_unknown_action_and_oversized_body(hub: SimulatorHub, client: httpx.Client, pki: BenchPki) -> None:
    envelope = req.envelope("urn:example:Unknown", "<x/>", req.vihf(pki))
    response = client.post(_dmp(hub).url, content=envelope, headers=SOAP_XML)
    assert _fault(response) == ("soap:Sender", "wsa:ActionNotSupported")
    huge = b"<a>" + b"x" * (21 * 1024 * 1024) + b"</a>"
    response = client.post(_dmp(hub).url, content=huge, headers=SOAP_XML)
    assert response.status_code == 413
    assert hub.journal.exchanges[-1].meta["truncated_at"] == 20 * 1024 * 1024


def test_client_without_certificate_and_untrusted_server(hub: SimulatorHub, pki: BenchPki) -> None:
    anonymous_context = ssl.create_default_context(cafile=str(pki.ca.cert))
    with httpx.Client(verify=anonymous_context) as anonymous, pytest.raises(httpx.HTTPError):
        anonymous.post(_dmp(hub).url, content=b"<x/>", headers=SOAP_XML)
    with httpx.Client(verify=pki.client_context()) as careful, pytest.raises(httpx.ConnectError):
        careful.post(_dmp(hub).untrusted_url, content=b"<x/>", headers=SOAP_XML)
    foreign = ssl.create_default_context(cafile=str(pki.ca.cert))
    foreign.load_cert_chain(str(pki.untrusted_server.cert), str(pki.untrusted_server.key))  # not from the bench CA
    with httpx.Client(verify=foreign) as impostor, pytest.raises(httpx.HTTPError):
        impostor.post(_dmp(hub).url, content=b"<x/>", headers=SOAP_XML)
    old = pki.client_context()
    with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is what is being tried
        warnings.simplefilter("ignore", DeprecationWarning)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with httpx.Client(verify=old) as outdated, pytest.raises(httpx.HTTPError):
        outdated.post(_dmp(hub).url, content=b"<x/>", headers=SOAP_XML)
    # Nothing reached either application; each refused handshake is journaled with what the TLS layer said.
    deadline = time.monotonic() + 5
    while len(hub.journal.exchanges) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    refused = hub.journal.exchanges
    assert [x.transaction for x in refused] == ["dmp.tls_refused"] * 4
    assert sorted(x.channel for x in refused) == ["dmp", "dmp", "dmp", "dmp-untrusted"]
    assert all(x.outcome == "refused" and x.peer["tls"] is False and x.meta["error"] for x in refused)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)),
    content_type=st.sampled_from(
        ["application/soap+xml", 'multipart/related; boundary="b"; type="application/xop+xml"', "text/xml", ""]
    ),
)
def test_fuzz_never_crashes_the_simulator(
    hub: SimulatorHub, client: httpx.Client, body: bytes, content_type: str
) -> None:
    before = len(hub.journal.exchanges)
    response = client.post(_dmp(hub).url, content=body, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    assert _fault(response)[0] == "soap:Sender"
    assert len(hub.journal.exchanges) == before + 1


def test_incomplete_metadata_is_refused(hub: SimulatorHub, client: httpx.Client, pki: BenchPki) -> None:
    body, _entry, _unique = req.provide_and_register(DOCUMENT)
    without_class = body.replace("urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", "urn:uuid:00000000-0000-0000-0000-0")
    data, content_type = req.mtom(req.envelope(ITI41, without_class, req.vihf(pki)), {"doc1@test": DOCUMENT})
    response = client.post(_dmp(hub).url, content=data, headers={"Content-Type": content_type})
    assert _errors(response) == ["XDSRegistryMetadataError"]
    assert "classCode absent" in response.text


def test_an_outage_answers_503_and_is_recorded(hub: SimulatorHub, client: httpx.Client, pki: BenchPki) -> None:
    _dmp(hub).state.outage = True
    response = client.post(
        _dmp(hub).url, content=req.envelope(ITI18, req.find_documents(), req.vihf(pki)), headers=SOAP_XML
    )
    assert response.status_code == 503 and _fault(response) == ("soap:Receiver", "dmp:ServiceIndisponible")
    assert hub.journal.exchanges[-1].outcome == "fault:dmp:ServiceIndisponible"
    _dmp(hub).state.outage = False
    assert _find(client, hub, pki) == []  # back: answered again


def _wrapped_for_another_patient(signed: bytes) -> bytes:
    """Signature wrapping: the signature moved last, an unsigned resource-id for another patient in a ds:Object."""
    saml, dsig = "urn:oasis:names:tc:SAML:2.0:assertion", "http://www.w3.org/2000/09/xmldsig#"
    assertion = etree.fromstring(signed)
    signature = assertion.find(f"{{{dsig}}}Signature")
    assertion.remove(signature)
    assertion.append(signature)
    attribute = etree.SubElement(
        etree.SubElement(signature, f"{{{dsig}}}Object"),
        f"{{{saml}}}Attribute",
        Name="urn:oasis:names:tc:xacml:2.0:resource:resource-id",
    )
    etree.SubElement(attribute, f"{{{saml}}}AttributeValue").text = "255022B03301118^^^&1.2.250.1.213.1.4.10&ISO^NH"
    return bytes(etree.tostring(assertion))


def test_the_dmp_tls_profile_keeps_to_tls_12_and_the_dmp_suites(tmp_path: Path, pki: BenchPki) -> None:
    with SimulatorHub(tmp_path / "run", pki, strict_tls={"dmp"}) as strict:
        url = _dmp(strict).url
        with httpx.Client(verify=pki.client_context(), timeout=20) as client:
            envelope = req.envelope(ITI18, req.find_documents(), req.vihf(pki))
            assert client.post(url, content=envelope, headers=SOAP_XML).status_code == 200
        tls = strict.journal.exchanges[-1].peer
        assert tls["version"] == "TLSv1.2" and tls["cipher"] in DMP_CIPHERS.split(":")
        modern = pki.client_context()
        modern.minimum_version = ssl.TLSVersion.TLSv1_3
        weak = pki.client_context()
        weak.maximum_version = ssl.TLSVersion.TLSv1_2
        weak.set_ciphers("AES128-SHA")  # no forward secrecy: not one of the DMP's suites
        for context in (modern, weak):
            with httpx.Client(verify=context) as refused, pytest.raises(httpx.HTTPError):
                refused.post(url, content=envelope, headers=SOAP_XML)
        deadline = time.monotonic() + 5
        while len(strict.journal.exchanges) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [x.transaction for x in strict.journal.exchanges] == ["dmp.iti18", "dmp.tls_refused", "dmp.tls_refused"]
