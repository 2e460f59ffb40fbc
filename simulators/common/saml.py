"""Signed SAML 2.0 assertions as health services receive them (the DMP's VIHF, INSi's CPS assertion): an enveloped XML
signature over the assertion's ID, checked with the certificate in KeyInfo, whose issuer must be the authority the
service trusts. What the assertion says is read from the element the signature covers (signxml's verified result),
never from the caller's tree, and anything XML signature wrapping needs is refused before it is read."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput
from signxml.exceptions import InvalidSignature as InvalidXmlSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from simulators.common.soap import WSSE_NS

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
CLOCK_SKEW = dt.timedelta(minutes=2)  # tolerated between the client's clock and the service's


def find_assertion(envelope_root: Any) -> Any | None:
    """The SAML assertion in a SOAP envelope's WS-Security header, or None."""
    return envelope_root.find(f".//{{{WSSE_NS}}}Security/{{{SAML}}}Assertion")


def read_instant(value: str | None) -> dt.datetime | None:
    """An xs:dateTime of an assertion (IssueInstant, NotBefore...), UTC when it says no zone; None when unreadable."""
    try:
        parsed = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class AssertionProblem:
    """What is wrong with an assertion, with the attribute or element concerned."""

    field: str
    message: str


# Algorithms a health service accepts on an assertion. RSA-SHA1 / SHA-1 sign every official DMP example token and
# ANS's DRIMbox's: accepted, and said (``algorithm_notes``); HMAC is never accepted (a shared secret proves nothing
# about the signer).
SIGNATURE_CONFIGURATION = SignatureConfiguration(
    signature_methods=frozenset(
        {
            SignatureMethod.RSA_SHA1,
            SignatureMethod.RSA_SHA256,
            SignatureMethod.RSA_SHA384,
            SignatureMethod.RSA_SHA512,
            SignatureMethod.ECDSA_SHA256,
            SignatureMethod.ECDSA_SHA384,
            SignatureMethod.ECDSA_SHA512,
        }
    ),
    digest_algorithms=frozenset(
        {DigestAlgorithm.SHA1, DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
    ),
)
_SHA1 = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")


def structure_problems(assertion: Any) -> list[AssertionProblem]:
    """What XML signature wrapping needs, refused before anything is read: a second assertion or signature, a signature
    that is not the assertion's own child, the assertion's ID carried twice, attributes outside the assertion's
    AttributeStatement, comments or processing instructions (a value read up to a comment is not the value signed)."""
    problems = []
    root = assertion.getroottree().getroot()
    if len(list(root.iter(f"{{{SAML}}}Assertion"))) > 1:
        problems.append(AssertionProblem("Signature", "plusieurs assertions SAML dans le message : une seule attendue"))
    signatures = list(assertion.iter(f"{{{DSIG}}}Signature"))
    if len(signatures) > 1:
        problems.append(AssertionProblem("Signature", "plusieurs signatures dans l'assertion : une seule attendue"))
    elif signatures and signatures[0].getparent() is not assertion:
        problems.append(AssertionProblem("Signature", "signature placée hors de l'assertion qu'elle doit couvrir"))
    identifier = assertion.get("ID")
    if (
        identifier
        and len(root.xpath("//@*[local-name()='ID' or local-name()='Id' or local-name()='id'][.=$v]", v=identifier)) > 1
    ):
        problems.append(
            AssertionProblem("Signature", f"identifiant {identifier!r} porté par plusieurs éléments du message")
        )
    statements = set(assertion.findall(f"{{{SAML}}}AttributeStatement"))
    if any(a.getparent() not in statements for a in assertion.iter(f"{{{SAML}}}Attribute")):
        problems.append(AssertionProblem("Signature", "attribut SAML hors de l'AttributeStatement de l'assertion"))
    if next(assertion.iter(etree.Comment, etree.ProcessingInstruction), None) is not None:
        problems.append(AssertionProblem("Signature", "commentaire ou instruction dans l'assertion : valeurs ambiguës"))
    return problems


def signature_problems(
    assertion: Any, ca: x509.Certificate | None, at: dt.datetime | None = None
) -> tuple[list[AssertionProblem], Any | None, str | None]:
    """(problems, the element the signature covers as signxml verified it, the signer's name)."""
    signature = assertion.find(f"{{{DSIG}}}Signature")
    if signature is None:
        return (
            [
                AssertionProblem(
                    "Signature", "assertion non signée : le VIHF doit être signé par le certificat du logiciel"
                )
            ],
            None,
            None,
        )
    pem = signature.findtext(f".//{{{DSIG}}}X509Certificate")
    if not pem:
        return (
            [AssertionProblem("Signature", "KeyInfo sans certificat X509 : le signataire ne peut être vérifié")],
            None,
            None,
        )
    try:
        certificate = x509.load_der_x509_certificate(_b64(pem))
    except ValueError as exc:
        return [AssertionProblem("Signature", f"certificat du signataire illisible : {exc}")], None, None
    signer = certificate.subject.rfc4514_string()
    problems = []
    if ca is not None and not issued_by(certificate, ca):
        problems.append(
            AssertionProblem(
                "Signature", f"certificat signataire {signer} non émis par l'autorité de confiance du service"
            )
        )
    now = at or dt.datetime.now(dt.UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        problems.append(AssertionProblem("Signature", "certificat signataire hors de sa période de validité"))
    try:
        verified = XMLVerifier().verify(assertion, x509_cert=certificate, expect_config=SIGNATURE_CONFIGURATION)
    except (InvalidXmlSignature, InvalidInput, ValueError) as exc:
        problems.append(AssertionProblem("Signature", f"signature invalide : {exc}"))
        return problems, None, signer
    except Exception as exc:  # hostile input: a signature signxml cannot even read is not verified
        problems.append(AssertionProblem("Signature", f"signature illisible ({type(exc).__name__}) : {exc}"))
        return problems, None, signer
    signed = verified.signed_xml if not isinstance(verified, list) else verified[0].signed_xml
    if signed is None or signed.tag != assertion.tag or signed.get("ID") != assertion.get("ID"):
        problems.append(AssertionProblem("Signature", "la signature ne couvre pas l'assertion entière"))
        return problems, None, signer
    return problems, signed, signer


def algorithm_notes(assertion: Any) -> list[str]:
    """SHA-1 in the assertion's own signature: accepted as the real services accept it, and said."""
    signature = assertion.find(f"{{{DSIG}}}Signature")
    if signature is None:
        return []
    used = {
        element.get("Algorithm")
        for element in signature.iterfind(f"{{{DSIG}}}SignedInfo//*[@Algorithm]")
        if element.tag in (f"{{{DSIG}}}SignatureMethod", f"{{{DSIG}}}DigestMethod")
    }
    if used & set(_SHA1):
        return [
            "signature RSA-SHA1/SHA-1 : acceptée comme par le service réel, algorithme obsolète (SHA-256 conseillé)"
        ]
    return []


def _b64(text: str) -> bytes:
    return base64.b64decode("".join(text.split()))


def issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    if certificate.issuer != ca.subject:
        return False
    public_key = ca.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey) or certificate.signature_hash_algorithm is None:
        return False
    try:
        public_key.verify(
            certificate.signature,
            certificate.tbs_certificate_bytes,
            padding.PKCS1v15(),
            certificate.signature_hash_algorithm,
        )
    except InvalidSignature:
        return False
    return True
