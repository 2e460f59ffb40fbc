"""INSi's CPS-assertion mode: the teleservice reached with server-side TLS only, the professional authenticated by a
SAML 2.0 assertion in ``wsse:Security``, signed with the key of their CPS card (official example
``WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml``, GIE SESAM-Vitale v02.05.00: ``NameID NameQualifier="CPS"``
= the professional's national id, attribute ``identifiantFacturation``, enveloped RSA-SHA256 signature whose KeyInfo
certificate is the CPS card's, CN = the national id).

What is verified: the structure (no signature wrapping), the signature and its signer (a card issued by the bench CA,
which plays the IGC-Santé), that the card is the professional's (CN = NameID), the validity (``Conditions`` when
present; the official example has none, so an assertion older than ``MAX_AGE`` is refused: **bench assumption**, the
teleservice's own limit is not public) and the attributes. Everything is read from the element the signature covers.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from simulators.common.saml import (
    CLOCK_SKEW,
    DSIG,
    SAML,
    AssertionProblem,
    find_assertion,
    read_instant,
    signature_problems,
    structure_problems,
)

BILLING_ID = "identifiantFacturation"
MAX_AGE = dt.timedelta(hours=24)  # bench assumption (see the module's docstring)


@dataclass
class CpsAssertion:
    """Who the assertion says is calling, as the signature covers it."""

    professional: str | None = None
    billing_id: str | None = None
    signer: str | None = None
    problems: list[AssertionProblem] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "professional": self.professional,
            "billing_id": self.billing_id,
            "signer": self.signer,
            "problems": [f"{p.field} : {p.message}" for p in self.problems],
        }


def verify_cps_assertion(envelope_root: Any, ca: x509.Certificate, now: dt.datetime | None = None) -> CpsAssertion:
    """The CPS assertion of an INSi request, and everything wrong with it."""
    moment = now or dt.datetime.now(dt.UTC)
    assertion = find_assertion(envelope_root)
    if assertion is None:
        problem = AssertionProblem("Security", "en-tête WS-Security sans assertion SAML signée par la carte CPS")
        return CpsAssertion(problems=[problem])
    found = CpsAssertion(problems=structure_problems(assertion))
    unsigned, signed, found.signer = signature_problems(assertion, ca, moment)
    found.problems += unsigned
    if signed is None or unsigned:
        return found
    name_id = signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    if name_id is None or not (name_id.text or "").strip():
        found.problems.append(AssertionProblem("NameID", "Subject/NameID absent : l'identifiant national est requis"))
    else:
        found.professional = (name_id.text or "").strip()
        if name_id.get("NameQualifier") != "CPS":
            found.problems.append(AssertionProblem("NameID", 'NameQualifier="CPS" attendu'))
    for attribute in signed.iter(f"{{{SAML}}}Attribute"):
        if attribute.get("Name") == BILLING_ID:
            found.billing_id = (attribute.findtext(f"{{{SAML}}}AttributeValue") or "").strip() or None
    if not found.billing_id:
        found.problems.append(AssertionProblem(BILLING_ID, f"attribut {BILLING_ID} absent ou vide"))
    # The certificate the signature was verified with (the assertion's only Signature, checked above): the card.
    card = _card_holder(assertion)
    if found.professional and card != found.professional:
        message = f"assertion signée par la carte de {card!r}, pas par celle du professionnel {found.professional!r}"
        found.problems.append(AssertionProblem("Signature", message))
    found.problems += _validity_problems(signed, moment)
    return found


def _card_holder(assertion: Any) -> str | None:
    """The commonName of the signing card (the national id on a CPS card)."""
    pem = assertion.findtext(f"{{{DSIG}}}Signature/{{{DSIG}}}KeyInfo/{{{DSIG}}}X509Data/{{{DSIG}}}X509Certificate")
    if not pem:
        return None
    certificate = x509.load_der_x509_certificate(base64.b64decode("".join(pem.split())))
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _validity_problems(signed: Any, now: dt.datetime) -> list[AssertionProblem]:
    problems = []
    issued = read_instant(signed.get("IssueInstant"))
    if issued is None:
        return [AssertionProblem("IssueInstant", "IssueInstant absent ou illisible")]
    if issued > now + CLOCK_SKEW:
        problems.append(AssertionProblem("IssueInstant", "assertion émise dans le futur"))
    conditions = signed.find(f"{{{SAML}}}Conditions")
    not_after = read_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None
    not_before = read_instant(conditions.get("NotBefore")) if conditions is not None else None
    if not_before is not None and not_before > now + CLOCK_SKEW:
        problems.append(AssertionProblem("Conditions", "assertion pas encore valide"))
    if (not_after is not None and not_after <= now - CLOCK_SKEW) or (not_after is None and now - issued > MAX_AGE):
        problems.append(AssertionProblem("Conditions", "assertion expirée"))
    return problems
