"""The forms real DMP clients send, read as the DMP reads them (issue 14): CX identifiers by component, both spellings
of Authentification_mode, the three authentication modes, subject-id only where the official tokens carry it, TRE_R248
access modes case-insensitive, roles against JDV_J65, SHA-1 accepted and said; faults whose prefixes are declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from bench.fixtures.vihf import build_vihf
from simulators.common.pki import BenchPki
from simulators.common.soap import SOAP12_NS, fault
from simulators.dmp.cx import cx_key, parse_cx, reference_key
from simulators.dmp.vihf import PURPOSE_OF_USE, ROLE, SUBJECT_ID, verify_vihf
from tests.simulators.dmp_requests import VIHF_CONTEXT as CONTEXT

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
HL7 = "urn:hl7-org:v3"


class _AnySigner(XMLSigner):
    def check_deprecated_methods(self) -> None:  # the official tokens are SHA-1 signed
        return None


def _judged(pki: BenchPki, edit: Callable[[Any], None], *, sha1: bool = False) -> tuple[Any, list[str]]:
    """The bench's assertion, edited before being signed again (SHA-256 or SHA-1), then verified."""
    assertion = build_vihf(CONTEXT, pki.client.key.read_bytes(), pki.client.cert.read_bytes())
    assertion.remove(assertion.find(f"{{{DSIG}}}Signature"))
    edit(assertion)
    method, digest = (
        (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1)
        if sha1
        else (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256)
    )
    signer = _AnySigner(
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(
        assertion, key=pki.client.key.read_bytes(), cert=pki.client.cert.read_text(),
        reference_uri=assertion.get("ID"), id_attribute="ID",
    )  # fmt: skip
    ca = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    vihf, problems = verify_vihf(etree.fromstring(etree.tostring(signed)), ca)
    return vihf, [f"{p.field}: {p.message}" for p in problems]


def _attribute(assertion: Any, name: str) -> Any:
    return next(a for a in assertion.iter(f"{{{SAML}}}Attribute") if a.get("Name") == name)


def _set_value(name: str, value: str) -> Callable[[Any], None]:
    def edit(assertion: Any) -> None:
        _attribute(assertion, name).find(f"{{{SAML}}}AttributeValue").text = value

    return edit


def _rename(old: str, new: str) -> Callable[[Any], None]:
    return lambda assertion: _attribute(assertion, old).set("Name", new)


def _drop(name: str) -> Callable[[Any], None]:
    def edit(assertion: Any) -> None:
        attribute = _attribute(assertion, name)
        attribute.getparent().remove(attribute)

    return edit


def _coded(name: str, **values: str) -> Callable[[Any], None]:
    def edit(assertion: Any) -> None:
        code = _attribute(assertion, name).find(f"{{{SAML}}}AttributeValue")[0]
        for key, value in values.items():
            code.set(key, value)

    return edit


def test_cx_identifiers_are_read_by_component() -> None:
    assert parse_cx("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH^^20100907") is not None
    assert cx_key("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH") == cx_key(
        "207058575627097^^^&1.2.250.1.213.1.4.10&ISO"
    )
    assert cx_key("2a7058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH") == "2A7058575627097^^^&1.2.250.1.213.1.4.10&ISO"
    for bad in ("", "207058575627097", "207^^^&1.2.250&XX^NH", "^^^&1.2.250.1&ISO", "207^^^1.2.250.1&ISO^NH"):
        assert parse_cx(bad) is None, bad


def test_cxi_references_are_read_by_component_even_truncated() -> None:
    """referenceIdList values (ITI TF-3 §4.2.3.2.28): id, authority (absent for a study instance UID) and type;
    a truncated or odd value reads as empty components, never as an error."""
    order = "DEM-1^^^&1.2.250.1.999.2.1&ISO^urn:ihe:iti:xds:2013:order"
    assert reference_key(order) == ("DEM-1", "1.2.250.1.999.2.1", "urn:ihe:iti:xds:2013:order")
    assert reference_key(order + "^^x") == reference_key(order)
    study = "2.25.42^^^^urn:ihe:iti:xds:2016:studyInstanceUID"
    assert reference_key(study) == ("2.25.42", "", "urn:ihe:iti:xds:2016:studyInstanceUID")
    for odd in ("", "DEM-1", "DEM-1^^^", "DEM-1^^^&&"):
        assert reference_key(odd)[2] == "", odd


@pytest.mark.parametrize("spelling", ["Authentification_mode", "Authentification_Mode"])
@pytest.mark.parametrize("mode", ["DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE"])
def test_both_spellings_and_every_mode_are_accepted(pki: BenchPki, spelling: str, mode: str) -> None:
    def edit(assertion: Any) -> None:
        _set_value("Authentification_mode", mode)(assertion)
        _rename("Authentification_mode", spelling)(assertion)

    vihf, problems = _judged(pki, edit)
    assert problems == [] and vihf.first("Authentification_mode") == mode


def test_an_unknown_mode_is_refused(pki: BenchPki) -> None:
    _vihf, problems = _judged(pki, _set_value("Authentification_mode", "CPS_SANS_CARTE"))
    assert any("mode d'authentification 'CPS_SANS_CARTE'" in p for p in problems)


def test_subject_id_is_required_only_in_the_indirect_modes(pki: BenchPki) -> None:
    def directe(assertion: Any) -> None:
        _drop(SUBJECT_ID)(assertion)
        _set_value("Authentification_mode", "DIRECTE")(assertion)

    assert _judged(pki, directe)[1] == []
    _vihf, problems = _judged(pki, _drop(SUBJECT_ID))  # INDIRECTE, the bench's default
    assert any("requis en mode INDIRECTE" in p for p in problems)


def test_lps_version_is_optional(pki: BenchPki) -> None:
    assert _judged(pki, _drop("LPS_Version"))[1] == []


def test_access_modes_are_tre_r248_codes_read_without_case(pki: BenchPki) -> None:
    vihf, problems = _judged(pki, _coded(PURPOSE_OF_USE, code="BRIS_DE_GLACE"))
    assert problems == [] and vihf.access_mode == "bris_de_glace"
    assert _judged(pki, _coded(PURPOSE_OF_USE, code="centre_15"))[1] == []
    assert any(
        "'centre_de_regulation'" in p for p in _judged(pki, _coded(PURPOSE_OF_USE, code="CENTRE_DE_REGULATION"))[1]
    )
    assert any("TRE_R248" in p for p in _judged(pki, _coded(PURPOSE_OF_USE, codeSystem="1.2.3.4"))[1])


def test_roles_are_judged_against_jdv_j65(pki: BenchPki) -> None:
    def specialty(assertion: Any) -> None:  # the official tokens add the specialty, SM26
        value = etree.SubElement(_attribute(assertion, ROLE), f"{{{SAML}}}AttributeValue")
        etree.SubElement(value, f"{{{HL7}}}Role", code="SM26", codeSystem="1.2.250.1.71.4.2.5")

    assert _judged(pki, specialty)[1] == []
    _vihf, problems = _judged(pki, _coded(ROLE, code="99"))
    assert any("99/1.2.250.1.71.1.2.7" in p and "JDV_J65" in p for p in problems)


def test_sha1_is_accepted_and_said(pki: BenchPki) -> None:
    vihf, problems = _judged(pki, lambda assertion: None, sha1=True)
    assert problems == [] and any("SHA1" in note for note in vihf.notes)
    assert _judged(pki, lambda assertion: None)[0].notes == []


def test_fault_subcodes_declare_their_prefix() -> None:
    for subcode, namespace in (
        ("wsse:FailedCheck", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"),
        ("dmp:ServiceIndisponible", "urn:example:dmp"),
    ):
        root = etree.fromstring(fault("Sender", "refus", subcode=subcode, prefixes={"dmp": "urn:example:dmp"}))
        value = root.find(f".//{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value")
        prefix = (value.text or "").split(":")[0]
        assert value.nsmap[prefix] == namespace  # a reader can resolve the QName
    with pytest.raises(ValueError):
        fault("Sender", "refus", subcode="nowhere:Code")
