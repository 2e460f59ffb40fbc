"""Real clients' view of the INSi simulator: zeep built from CNAM's official WSDL (DESIR_ICIR_EXP_1.5.0, from
padoa/tlsi-ins, in ``../shared/data/insi``), over the real socket at the teleservice's own path. Its three result
codes come back as zeep reads them, each answer validates against the official ``INSi_RESULTAT_INS.xsd``, and a
fault reaches zeep as a fault (HTTP 500, ``soap:siram_NN``); answers have the structure and labels of the CNDA fixture
answers padoa/tlsi-ins keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

from bench.domains.ins.simulators import InsiSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.pki import BenchPki
from simulators.insi.messages import read_result
from tests.conftest import REPO
from tests.simulators.insi_requests import HEADERS, search_traits

WSDL = REPO.parent / "shared" / "data" / "insi" / "padoa-tlsi-ins" / "wsdl"
pytestmark = pytest.mark.skipif(not WSDL.is_dir(), reason="CNAM WSDL absent (../shared/data/insi)")
ADDRESSING_XSD = "http://www.w3.org/2006/03/addressing/ws-addr.xsd"
CTX = "urn:siram:lps:ctxlps"
RESULT = "http://www.cnamts.fr/INSiResultat"


class _OfflineTransport(Transport):
    """The WSDL imports W3C's WS-Addressing schema from the internet: a local stand-in instead (PROVENANCE.md)."""

    def load(self, url: str) -> bytes:
        if url.startswith(ADDRESSING_XSD):
            return (WSDL / "ws-addr-standin.xsd").read_bytes()
        return bytes(super().load(url))


@pytest.fixture
def service(hub: SimulatorHub, pki: BenchPki) -> Iterator[tuple[Any, list[bytes]]]:
    session = requests.Session()
    session.trust_env = False  # the machine's CA bundle variables must not replace the bench CA
    session.cert = (str(pki.client.cert), str(pki.client.key))
    session.verify = str(pki.ca.cert)
    answers: list[bytes] = []

    class Keep:  # zeep plugin: keeps each answer's bytes for the XSD
        def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
            answers.append(etree.tostring(envelope))
            return envelope, http_headers

        def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> tuple[Any, Any]:
            return envelope, http_headers

    client = Client(
        str(WSDL / "DESIR_ICIR_EXP_1.5.0.wsdl"),
        transport=_OfflineTransport(session=session),
        plugins=[WsAddressingPlugin(), Keep()],
    )
    url = hub.of("ins", InsiSimulators).url.rsplit("/", 1)[0] + "/lps"
    yield client.create_service("{http://www.cnamts.fr/webservice}ICIRServiceBinding", url), answers
    session.close()


def _context() -> Any:
    return etree.fromstring(
        f'<ctx:ContexteLPS xmlns:ctx="{CTX}" Nature="CTXLPS" Version="01_00"><ctx:Id>1</ctx:Id>'
        "<ctx:Temps>2026-11-29T10:00:00Z</ctx:Temps><ctx:Emetteur>zeep</ctx:Emetteur><ctx:LPS><ctx:IDAM>R0001</ctx:IDAM>"
        "<ctx:Version>1</ctx:Version><ctx:Instance>1</ctx:Instance><ctx:Nom>zeep</ctx:Nom></ctx:LPS></ctx:ContexteLPS>"
    )


def _valid_result(answer: bytes) -> None:
    schema = etree.XMLSchema(etree.parse(str(WSDL / "xsd" / "ServiceIdentiteCertifiee" / "INSi_RESULTAT_INS.xsd")))
    result = etree.fromstring(answer).find(f".//{{{RESULT}}}RESULTAT")
    assert result is not None
    schema.assertValid(etree.ElementTree(result))


def test_zeep_from_the_official_wsdl_reads_the_three_result_codes(service: tuple[Any, list[bytes]]) -> None:
    proxy, answers = service
    search = proxy.rechercherInsAvecTraitsIdentite
    one = search(
        NomNaissance="SANTONI", Prenom="MARIE-PAULE", Sexe="F", DateNaissance="1955-02-10", _soapheaders=[_context()]
    )
    assert one.CR.CodeCR == "00" and one.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant
    none = search(
        NomNaissance="PERSONNE", Prenom="INCONNUE", Sexe="F", DateNaissance="1901-01-01", _soapheaders=[_context()]
    )
    assert none.CR.CodeCR == "01" and none.INDIVIDU is None
    several = search(
        NomNaissance="MARTIN", Prenom="PIERRE", Sexe="M", DateNaissance="1980-01-01", _soapheaders=[_context()]
    )
    assert several.CR.CodeCR == "02"
    for answer in answers:
        _valid_result(answer)


def test_zeep_receives_a_fault_as_a_fault(hub: SimulatorHub, service: tuple[Any, list[bytes]]) -> None:
    proxy, _answers = service
    hub.of("ins", InsiSimulators).state.set_behaviours({"santoni": "unavailable"})
    with pytest.raises(Fault) as raised:
        proxy.rechercherInsAvecTraitsIdentite(
            NomNaissance="SANTONI",
            Prenom="MARIE-PAULE",
            Sexe="F",
            DateNaissance="1955-02-10",
            _soapheaders=[_context()],
        )
    assert "inaccessible" in raised.value.message
    assert [q.localname for q in raised.value.subcodes] == ["siram_40"]


FIXTURES = WSDL.parent / "fixtures"


def _paths(element: Any, prefix: str = "") -> set[str]:
    here = f"{prefix}/{etree.QName(element).localname}"
    return {here}.union(*(_paths(child, here) for child in element if isinstance(child.tag, str)))


@pytest.mark.parametrize(
    ("fixture", "traits"),
    [
        ("TEST_2.05.xml", ("SANTONI", "MARIE-PAULE", "F", "1955-02-10")),
        ("REP_CR01.xml", ("PERSONNE", "INCONNUE", "F", "1901-01-01")),
    ],
)
def test_answers_have_the_structure_and_labels_of_the_cnda_fixture_answers(
    hub: SimulatorHub, pki: BenchPki, fixture: str, traits: tuple[str, str, str, str]
) -> None:
    """padoa/tlsi-ins's CNDA fixture answers (CR 00 with a NIA, CR 01): same elements, same LibelleCR; our reader and
    the official XSD take both."""
    official = (FIXTURES / fixture).read_bytes()
    with requests.Session() as session:
        session.trust_env = False
        response = session.post(
            hub.of("ins", InsiSimulators).url.rsplit("/", 1)[0] + "/lps",
            data=search_traits(*traits),
            headers=HEADERS,
            cert=(str(pki.client.cert), str(pki.client.key)),
            verify=str(pki.ca.cert),
        )
    ours = etree.fromstring(response.content).find(f".//{{{RESULT}}}RESULTAT")
    theirs = etree.fromstring(official).find(f".//{{{RESULT}}}RESULTAT")
    assert ours is not None and theirs is not None
    assert _paths(ours) == _paths(theirs)
    assert ours.findtext(f".//{{{RESULT}}}LibelleCR") == theirs.findtext(f".//{{{RESULT}}}LibelleCR")
    assert read_result(official).cr == read_result(response.content).cr
    _valid_result(official)
