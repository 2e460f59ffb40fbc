"""INSi's CPS-assertion mode over its real socket: server-side TLS only, the professional's CPS card signing a SAML
assertion shaped as the official example (``WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml``). A valid
assertion is answered and recorded with the professional; forged, expired, unsigned ones, a card that is not the
professional's and a card from another authority are refused, each with its reason."""

from __future__ import annotations

import datetime as dt
import re
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from bench.domains.ins.simulators import InsiSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.pki import BenchPki, ensure_pki, issue_cps_card
from simulators.insi.messages import read_result
from tests.conftest import REPO
from tests.simulators.insi_requests import HEADERS

EXAMPLE = REPO.parent / "shared" / "data" / "insi" / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml"
pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="official INSi example absent (../shared/data/insi)")
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
PROFESSIONAL = "899900063480"  # the official example's
_ASSERTION = re.compile(r"<saml2:Assertion\b.*?</saml2:Assertion>", re.S)
_BODY = re.compile(r"<ins:RECSANSVITALE>.*?</ins:RECSANSVITALE>", re.S)
SANTONI = (
    "<ins:RECSANSVITALE><ins:NomNaissance>SANTONI</ins:NomNaissance><ins:Prenom>MARIE-PAULE</ins:Prenom>"
    "<ins:Sexe>F</ins:Sexe><ins:DateNaissance>1955-02-10</ins:DateNaissance></ins:RECSANSVITALE>"
)


def _assertion(
    card: tuple[bytes, bytes], *, issued: dt.datetime | None = None, professional: str = PROFESSIONAL
) -> str:
    """The official example's assertion, stamped and signed again with ``card`` (RSA-SHA256, as the example)."""
    moment = (issued or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    unsigned = (
        f'<saml2:Assertion xmlns:saml2="{SAML}" ID="_{uuid.uuid4()}" IssueInstant="{moment}" Version="2.0">'
        '<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">'
        f"CN={professional}, OID.2.5.4.12=Médecin, C=FR</saml2:Issuer>"
        f'<saml2:Subject><saml2:NameID NameQualifier="CPS">{professional}</saml2:NameID></saml2:Subject>'
        '<saml2:AttributeStatement><saml2:Attribute Name="identifiantFacturation"><saml2:AttributeValue>991130972'
        "</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion>"
    )
    element = etree.fromstring(unsigned.encode())
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    cert, key = card
    signed = signer.sign(element, key=key, cert=cert.decode(), reference_uri=element.get("ID"), id_attribute="ID")
    signature = signed.find(f"{{{DSIG}}}Signature")
    signed.remove(signature)
    signed.insert(1, signature)  # after the Issuer, as in the example
    return str(etree.tostring(signed, encoding="unicode"))


def _request(assertion: str) -> bytes:
    text = EXAMPLE.read_text("utf-8")
    found = _ASSERTION.search(text)
    assert found
    text = text[: found.start()] + assertion + text[found.end() :]
    return _BODY.sub(SANTONI, text).encode()


@pytest.fixture
def server_only(pki: BenchPki) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(pki.ca.cert))  # trusts the server, presents no certificate
    with httpx.Client(verify=context, timeout=20) as client:
        yield client


def _post(hub: SimulatorHub, client: httpx.Client, assertion: str) -> httpx.Response:
    return client.post(hub.of("ins", InsiSimulators).cps_url, content=_request(assertion), headers=HEADERS)


def test_a_valid_cps_assertion_is_answered_and_the_professional_recorded(
    hub: SimulatorHub, pki: BenchPki, server_only: httpx.Client
) -> None:
    response = _post(hub, server_only, _assertion(issue_cps_card(pki, PROFESSIONAL)))
    assert response.status_code == 200, response.text
    assert read_result(response.content).cr == "00"
    recorded = hub.journal.exchanges[-1]
    assert recorded.meta["mode"] == "cps" and recorded.meta["cps"]["professional"] == PROFESSIONAL
    assert recorded.meta["cps"]["billing_id"] == "991130972" and recorded.meta["cps"]["problems"] == []
    assert recorded.peer.get("client_subject") is None  # no client certificate in this mode


def _forged(pki: BenchPki) -> str:
    return _assertion(issue_cps_card(pki, PROFESSIONAL)).replace("991130972", "123456789")


def _foreign(pki: BenchPki, tmp_path: Path) -> str:
    return _assertion(issue_cps_card(ensure_pki(tmp_path / "other-igc"), PROFESSIONAL))


@pytest.mark.parametrize(
    ("variant", "said"),
    [
        ("forged", "signature invalide"),
        ("expired", "assertion expirée"),
        ("unsigned", "assertion non signée"),
        ("someone_elses_card", "pas par celle du professionnel"),
        ("foreign_authority", "non émis par l'autorité de confiance"),
        ("expired_card", "hors de sa période de validité"),
    ],
)
def test_bad_cps_assertions_are_refused_with_their_reason(
    hub: SimulatorHub, pki: BenchPki, server_only: httpx.Client, tmp_path: Path, variant: str, said: str
) -> None:
    card = issue_cps_card(pki, PROFESSIONAL)
    assertion = {
        "forged": lambda: _forged(pki),
        "expired": lambda: _assertion(card, issued=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)),
        "unsigned": lambda: re.sub(r"<ds:Signature\b.*</ds:Signature>", "", _assertion(card), flags=re.S),
        "someone_elses_card": lambda: _assertion(issue_cps_card(pki, "810000000001")),
        "foreign_authority": lambda: _foreign(pki, tmp_path),
        "expired_card": lambda: _assertion(issue_cps_card(pki, PROFESSIONAL, days=-1)),
    }[variant]()
    response = _post(hub, server_only, assertion)
    assert response.status_code == 500 and said in response.text, response.text
    recorded = hub.journal.exchanges[-1]
    assert recorded.outcome == "fault:wsse:FailedCheck" and any(said in p for p in recorded.meta["cps"]["problems"])
