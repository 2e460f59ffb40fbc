"""MTOM/XOP packaging of SOAP messages: round trip, references, hostile packages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.common.mtom import MtomError, build_mtom, parse_mtom
from simulators.common.xmlsafe import UnsafeXmlError

ENVELOPE = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:x="urn:ihe:iti:xds-b:2007" '
    b'xmlns:xop="http://www.w3.org/2004/08/xop/include"><s:Body><x:Document id="Doc1">'
    b'<xop:Include href="cid:doc1@test"/></x:Document><x:Document id="Doc2">SGVsbG8=</x:Document>'
    b"</s:Body></s:Envelope>"
)
CDA = b'<ClinicalDocument xmlns="urn:hl7-org:v3">\x00 binary-safe \xff</ClinicalDocument>'


def test_round_trip_resolves_includes_and_inline_base64() -> None:
    body, content_type = build_mtom(ENVELOPE, {"doc1@test": (CDA, "text/xml")})
    message = parse_mtom(body, content_type, max_bytes=1_000_000)
    documents = message.envelope.findall(".//{urn:ihe:iti:xds-b:2007}Document")
    assert message.content(documents[0]) == CDA
    assert message.content(documents[1]) == b"Hello"


def test_plain_soap_is_accepted() -> None:
    message = parse_mtom(ENVELOPE, "application/soap+xml", max_bytes=1_000_000)
    assert message.attachments == {}


def test_missing_part_and_bad_reference_are_named() -> None:
    body, content_type = build_mtom(ENVELOPE, {})
    message = parse_mtom(body, content_type, max_bytes=1_000_000)
    document = message.envelope.find(".//{urn:ihe:iti:xds-b:2007}Document")
    with pytest.raises(MtomError, match="doc1@test"):
        message.content(document)


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"no boundary here", 'multipart/related; boundary="nope"', MtomError),
        (
            b"--b\r\nContent-Type: application/xop+xml\r\n\r\n<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>\r\n--b--\r\n",
            'multipart/related; boundary="b"',
            UnsafeXmlError,
        ),
        (b"x" * 2000, 'multipart/related; boundary="b"', MtomError),
    ],
    ids=["no-parts", "dtd-in-root", "oversized"],
)
def test_hostile_packages_are_refused(body: bytes, content_type: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_mtom(body, content_type, max_bytes=1000)


@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=5))
def test_any_binary_attachment_survives_the_round_trip(contents: list[bytes]) -> None:
    envelope = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>'
    attachments = {f"part{n}@test": (data, "application/octet-stream") for n, data in enumerate(contents)}
    body, content_type = build_mtom(envelope, attachments)
    parsed = parse_mtom(body, content_type, max_bytes=1 << 20)
    assert parsed.attachments == {cid: data for cid, (data, _type) in attachments.items()}


def test_truncated_package_and_missing_boundary_are_errors() -> None:
    envelope = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>'
    body, content_type = build_mtom(envelope, {"a@test": (b"data", "text/plain")})
    with pytest.raises(MtomError, match="tronqué"):
        parse_mtom(body[: len(body) // 2], content_type, max_bytes=1 << 20)
    with pytest.raises(MtomError, match="boundary"):
        parse_mtom(body, "multipart/related", max_bytes=1 << 20)
