"""The reference candidate's VIHF: a SAML 2.0 assertion describing who accesses the DMP, for which patient, with
which software and access mode, signed with the software's certificate (enveloped XML signature, RSA-SHA256,
exclusive canonicalisation, reference to the assertion's ID), as the GI DMP asks. Written apart from the
simulator's verifier on purpose."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
HL7 = "urn:hl7-org:v3"


@dataclass(frozen=True)
class VihfContext:
    """Everything the assertion says: professional, structure, software, patient and access mode."""

    professional_id: str  # national id ("8" + RPPS)
    professional_name: str
    profession: tuple[str, str, str]  # (code, code system, display name), e.g. ("10", "1.2.250.1.71.1.2.7", "Médecin")
    structure_id: str
    activity_sector: str  # code^coding scheme
    patient_ins: str
    patient_oid: str
    software_name: str
    software_version: str
    approval_number: str  # LPS_ID_HOMOLOGATION_DMP
    access_mode: str = "normal"  # normal | BRIS_DE_GLACE | CENTRE_DE_REGULATION
    authentication_mode: str = "INDIRECTE"
    validity: dt.timedelta = dt.timedelta(minutes=15)


def build_vihf(
    context: VihfContext, key_pem: bytes, cert_pem: bytes, now: dt.datetime | None = None, omit: tuple[str, ...] = ()
) -> Any:
    """The signed assertion as an lxml element. ``omit`` leaves attributes out (defect switches and tests)."""
    moment = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    nsmap = {"saml2": SAML, "xsi": XSI, "hl7": HL7}
    assertion = etree.Element(
        f"{{{SAML}}}Assertion", nsmap=nsmap, ID=f"_{uuid.uuid4()}", IssueInstant=stamp, Version="2.0"
    )
    etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = context.structure_id
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    etree.SubElement(subject, f"{{{SAML}}}NameID").text = context.professional_id
    etree.SubElement(
        assertion,
        f"{{{SAML}}}Conditions",
        NotBefore=stamp,
        NotOnOrAfter=(moment + context.validity).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    authn = etree.SubElement(assertion, f"{{{SAML}}}AuthnStatement", AuthnInstant=stamp)
    etree.SubElement(
        etree.SubElement(authn, f"{{{SAML}}}AuthnContext"), f"{{{SAML}}}AuthnContextClassRef"
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
    statement = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")

    def simple(name: str, value: str) -> None:
        if name in omit:
            return
        attribute = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
        etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value

    def coded(name: str, element: str, code: str, system: str, display: str) -> None:
        if name in omit:
            return
        attribute = etree.SubElement(statement, f"{{{SAML}}}Attribute", Name=name)
        value = etree.SubElement(attribute, f"{{{SAML}}}AttributeValue")
        etree.SubElement(
            value, f"{{{HL7}}}{element}", {f"{{{XSI}}}type": "CE"}, code=code, codeSystem=system, displayName=display
        )

    simple("Identifiant_Structure", context.structure_id)
    simple("Secteur_Activite", context.activity_sector)
    simple("urn:oasis:names:tc:xspa:1.0:subject:subject-id", context.professional_name)
    coded("urn:oasis:names:tc:xacml:2.0:subject:role", "Role", *context.profession)
    simple("VIHF_Version", "3.0")
    simple("Authentification_mode", context.authentication_mode)
    simple(
        "urn:oasis:names:tc:xacml:2.0:resource:resource-id", f"{context.patient_ins}^^^&{context.patient_oid}&ISO^NH"
    )
    simple("Ressource_URN", "urn:dmp")
    coded(
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
        "PurposeOfUse",
        context.access_mode,
        "1.2.250.1.213.1.1.4.248",
        context.access_mode,
    )
    simple("LPS_Nom", context.software_name)
    simple("LPS_Version", context.software_version)
    simple("LPS_ID_HOMOLOGATION_DMP", context.approval_number)
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(
        assertion, key=key_pem, cert=cert_pem.decode(), reference_uri=assertion.get("ID"), id_attribute="ID"
    )
    # SAML places the signature right after the Issuer.
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return signed
