"""VIHF assertions: the reference candidate's signed assertion verifies; every defect is named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from lxml import etree

from bench.fixtures.vihf import VihfContext, build_vihf
from simulators.common.pki import BenchPki
from simulators.dmp.vihf import RESOURCE_ID, RESOURCE_URN, ROLE, verify_vihf
from tests.simulators.dmp_requests import VIHF_CONTEXT as CONTEXT


def _ca(pki: BenchPki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())


def _sign(pki: BenchPki, **changes: Any) -> Any:
    omit = changes.pop("omit", ())
    context = VihfContext(**{**CONTEXT.__dict__, **changes})
    return build_vihf(context, pki.client.key.read_bytes(), pki.client.cert.read_bytes(), omit=omit)


def _problems(pki: BenchPki, assertion: Any, now: dt.datetime | None = None) -> list[str]:
    # Round-trip through bytes: what the simulator receives.
    parsed = etree.fromstring(etree.tostring(assertion))
    _vihf, problems = verify_vihf(parsed, _ca(pki), now)
    return [f"{p.field}: {p.message}" for p in problems]


def test_reference_vihf_verifies(pki: BenchPki) -> None:
    assertion = _sign(pki)
    parsed = etree.fromstring(etree.tostring(assertion))
    vihf, problems = verify_vihf(parsed, _ca(pki))
    assert problems == []
    assert (vihf.patient_ins, vihf.patient_oid, vihf.access_mode) == (
        "178037511502783",
        "1.2.250.1.213.1.4.10",
        "normal",
    )
    assert vihf.subject == "810002345678" and "segur-bench candidate" in (vihf.signer or "")


def test_tampered_assertion_fails_its_signature(pki: BenchPki) -> None:
    text = etree.tostring(_sign(pki)).replace(b"178037511502783", b"255022B03301118")
    problems = _problems(pki, etree.fromstring(text))
    assert any(p.startswith("Signature: signature invalide") for p in problems), problems


def test_signer_outside_the_trusted_ca_is_refused(pki: BenchPki) -> None:
    assertion = build_vihf(CONTEXT, pki.untrusted_server.key.read_bytes(), pki.untrusted_server.cert.read_bytes())
    problems = _problems(pki, assertion)
    assert any("non émis par l'autorité de confiance" in p for p in problems), problems


def test_unsigned_assertion_is_refused(pki: BenchPki) -> None:
    assertion = _sign(pki)
    assertion.remove(assertion.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    assert _problems(pki, assertion)[0].startswith("Signature: assertion non signée")


@pytest.mark.parametrize("missing", [ROLE, RESOURCE_URN, "LPS_ID_HOMOLOGATION_DMP"])
def test_missing_attributes_are_named(pki: BenchPki, missing: str) -> None:
    assert f"{missing}: attribut {missing} absent ou vide" in _problems(pki, _sign(pki, omit=(missing,)))


def test_expired_and_wrong_values(pki: BenchPki) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert any("assertion expirée" in p for p in _problems(pki, _sign(pki), now=later))
    problems = _problems(pki, _sign(pki, access_mode="PAR_HASARD", patient_ins="12345"))
    assert any("mode d'accès 'par_hasard'" in p for p in problems)
    assert any("INS^^^&OID&ISO^NH attendu" in p for p in problems)


def test_a_reused_assertion_is_judged_the_same_and_a_tampered_copy_still_fails(pki: BenchPki) -> None:
    original = etree.tostring(_sign(pki))
    assert _problems(pki, etree.fromstring(original)) == []
    assert _problems(pki, etree.fromstring(original)) == []  # the cached signature: same verdict, same signer
    vihf, _problems_again = verify_vihf(etree.fromstring(original), _ca(pki))
    assert "segur-bench candidate" in (vihf.signer or "")
    tampered = original.replace(b"178037511502783", b"255022B03301118")
    assert any(p.startswith("Signature: signature invalide") for p in _problems(pki, etree.fromstring(tampered)))
    expired = _problems(pki, etree.fromstring(original), dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert any("expirée" in p for p in expired)  # validity is judged on every call, cached or not


# --- XML signature wrapping: only what the signature covers is read, and wrapping structures are refused -----------
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
OTHER_PATIENT = "255022B03301118^^^&1.2.250.1.213.1.4.10&ISO^NH"


def _forged_resource(value: str) -> Any:
    attribute = etree.Element(f"{{{SAML_NS}}}Attribute", Name=RESOURCE_ID)
    etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = value
    return attribute


def _wrapped(pki: BenchPki, variant: str) -> Any:
    """A VIHF signed for one patient, rearranged the way signature-wrapping attacks do, as the simulator receives it
    (inside a WS-Security header)."""
    assertion = etree.fromstring(etree.tostring(_sign(pki)))
    signature = assertion.find(f"{{{DSIG_NS}}}Signature")
    if variant == "object":  # signature moved last, an unsigned resource-id for another patient in a ds:Object
        assertion.remove(signature)
        assertion.append(signature)
        etree.SubElement(signature, f"{{{DSIG_NS}}}Object").append(_forged_resource(OTHER_PATIENT))
    elif variant == "comment":  # a comment cuts the signed value: .text would read its first half only
        value = next(
            a.find(f"{{{SAML_NS}}}AttributeValue")
            for a in assertion.iter(f"{{{SAML_NS}}}Attribute")
            if a.get("Name") == RESOURCE_ID
        )
        head, tail = value.text[:7], value.text[7:]
        value.text = head
        comment = etree.Comment("x")
        comment.tail = tail
        value.append(comment)
    elif variant == "second_signature":
        assertion.append(etree.fromstring(etree.tostring(signature)))
    security = etree.Element(
        "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
    )
    security.append(assertion)
    if variant in ("duplicate_id", "second_assertion"):
        forged = etree.fromstring(etree.tostring(_sign(pki, patient_ins="255022B03301118")))
        forged.remove(forged.find(f"{{{DSIG_NS}}}Signature"))
        if variant == "duplicate_id":
            forged.set("ID", assertion.get("ID"))
        holder = etree.SubElement(security, "Extension")
        holder.append(forged)
    root = etree.fromstring(etree.tostring(security))
    return root.find(f"{{{SAML_NS}}}Assertion")


@pytest.mark.parametrize(
    ("variant", "said"),
    [
        ("object", "attribut SAML hors de l'AttributeStatement"),
        ("comment", "commentaire ou instruction dans l'assertion"),
        ("second_signature", "plusieurs signatures"),
        ("duplicate_id", "porté par plusieurs éléments"),
        ("second_assertion", "plusieurs assertions SAML"),
    ],
)
def test_signature_wrapping_is_refused_and_never_changes_the_patient(pki: BenchPki, variant: str, said: str) -> None:
    from simulators.dmp.vihf import judge_captured_vihf

    assertion = _wrapped(pki, variant)
    for vihf, problems in (verify_vihf(assertion, _ca(pki)), judge_captured_vihf(assertion, None)):
        assert any(said in p.message for p in problems), problems
        # Whatever else the message carries, what is read is what was signed: the signed patient, whole.
        assert vihf.patient_ins == "178037511502783", vihf.patient_ins


def test_the_untouched_vihf_in_a_security_header_still_verifies(pki: BenchPki) -> None:
    vihf, problems = verify_vihf(_wrapped(pki, "none"), _ca(pki))
    assert problems == [] and vihf.patient_ins == "178037511502783"


@pytest.mark.parametrize("damage", ["no_signed_info", "empty_signature_value", "no_reference"])
def test_a_malformed_signature_is_refused_never_a_crash(pki: BenchPki, damage: str) -> None:
    from simulators.dmp.vihf import judge_captured_vihf

    assertion = etree.fromstring(etree.tostring(_sign(pki)))
    signature = assertion.find(f"{{{DSIG_NS}}}Signature")
    signed_info = signature.find(f"{{{DSIG_NS}}}SignedInfo")
    if damage == "no_signed_info":
        signature.remove(signed_info)
    elif damage == "empty_signature_value":
        signature.find(f"{{{DSIG_NS}}}SignatureValue").text = None
    else:
        signed_info.remove(signed_info.find(f"{{{DSIG_NS}}}Reference"))
    for _vihf, problems in (verify_vihf(assertion, _ca(pki)), judge_captured_vihf(assertion, None)):
        assert any(p.field == "Signature" and "signature" in p.message for p in problems), problems
