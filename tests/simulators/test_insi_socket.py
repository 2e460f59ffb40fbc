"""The INSi simulator over its real socket: mutual TLS, results 00/01/02, faults for bad input, evidence."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bench.domains.ins.simulators import InsiSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.pki import BenchPki
from simulators.insi.messages import read_result
from tests.simulators.insi_requests import HEADERS, search_traits

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def client(pki: BenchPki) -> Iterator[httpx.Client]:
    with httpx.Client(verify=pki.client_context(), timeout=10) as http:
        yield http


def _insi(hub: SimulatorHub) -> InsiSimulators:
    return hub.of("ins", InsiSimulators)


def _post(
    client: httpx.Client, hub: SimulatorHub, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(_insi(hub).url, content=body, headers=headers or HEADERS)


def test_search_results_00_01_02(hub: SimulatorHub, client: httpx.Client) -> None:
    found = read_result(_post(client, hub, search_traits("d'Almeida", "Anaïs", "F", "1991-11-02")).content)
    assert found.cr == "00" and found.identity is not None
    assert found.identity.birth_name == "D'ALMEIDA" and found.identity.first_names == "ANAIS ELOISE"
    assert found.identity.oid == "1.2.250.1.213.1.4.10"
    assert read_result(_post(client, hub, search_traits("Personne", "Paul", "M", "2000-01-01")).content).cr == "01"
    assert read_result(_post(client, hub, search_traits("MARTIN", "PIERRE", "M", "1980-01-01")).content).cr == "02"
    outcomes = [x.outcome for x in hub.journal.exchanges]
    assert outcomes == ["CR00", "CR01", "CR02"]
    first = hub.journal.exchanges[0]
    assert first.peer["tls"] and first.peer["client_subject"].endswith("commonName=segur-bench candidate")
    assert set(first.files) == {"request", "response"} and len(first.files["request"].sha256) == 64


def test_client_without_certificate_is_refused(hub: SimulatorHub, pki: BenchPki) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    with httpx.Client(verify=context) as anonymous, pytest.raises(httpx.HTTPError):
        anonymous.post(_insi(hub).url, content=search_traits("X", "Y", "M", "2000-01-01"), headers=HEADERS)
    deadline = time.monotonic() + 5  # the refusal is journaled by the server's event loop
    while not hub.journal.exchanges and time.monotonic() < deadline:
        time.sleep(0.02)
    [refused] = hub.journal.exchanges  # nothing reached the application; the refused handshake is evidence
    assert refused.transaction == "insi.tls_refused" and refused.outcome == "refused" and refused.meta["error"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (search_traits("X", "Y", "M", "2000-01-01", envelope_ns=SOAP11), HEADERS, 500, "soap:VersionMismatch"),
        (search_traits("X", "Y", "M", "2000-01-01", action=None), HEADERS, 500, "soap:Sender"),
        (search_traits("X", "Y", "M", "2000-01-01", context=False), HEADERS, 500, "soap:Sender"),
        (search_traits("X", "Y", "M", "2000-01-01"), {"Content-Type": "text/plain"}, 415, "soap:Sender"),
        (b"<not-closed", HEADERS, 500, "soap:Sender"),
        (b"", HEADERS, 500, "soap:Sender"),
    ],
    ids=["soap11", "no-action", "no-lps-context", "content-type", "malformed", "empty"],
)
def test_bad_requests_get_soap_faults(
    hub: SimulatorHub, client: httpx.Client, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = _post(client, hub, body, headers)
    assert response.status_code == status
    result = read_result(response.content)
    assert result.cr is None and result.fault_code == code
    assert hub.journal.exchanges[-1].files["request"].size == len(body)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&lol3;</soap:Body></soap:Envelope>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&xxe;</soap:Body></soap:Envelope>"""
XXE_UTF16 = XXE.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, XXE_UTF16], ids=["billion-laughs", "xxe", "xxe-utf16"])
def test_entity_attacks_get_a_fault_and_leak_nothing(hub: SimulatorHub, client: httpx.Client, body: bytes) -> None:
    response = _post(client, hub, body)
    assert response.status_code == 500  # the teleservice answers its faults with HTTP 500
    assert b"root:" not in response.content and b"lollol" not in response.content
    assert read_result(response.content).fault_code == "soap:Sender"
    healthy = _post(client, hub, search_traits("LEFEVRE", "HELENE", "F", "1985-06-30"))
    assert read_result(healthy.content).cr == "00"


def test_oversized_body_is_refused_and_recorded_truncated(hub: SimulatorHub, client: httpx.Client) -> None:
    response = _post(client, hub, b"<a>" + b"x" * 400_000 + b"</a>")
    assert response.status_code == 413
    exchange = hub.journal.exchanges[-1]
    assert exchange.meta["truncated_at"] == 256 * 1024 and exchange.files["request"].size == 256 * 1024


GARBAGE = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(str.encode),
    st.builds(
        lambda tag, inner: (
            f'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
            f"<soap:Body><{tag}>{inner}</{tag}></soap:Body></soap:Envelope>".encode()
        ),
        st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,10}", fullmatch=True),
        st.text(alphabet="<>&;'\"abc/ ", max_size=50),
    ),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(GARBAGE)
def test_malformed_requests_get_a_soap_fault_and_the_server_goes_on(
    hub: SimulatorHub, client: httpx.Client, body: bytes
) -> None:
    response = _post(client, hub, body)
    assert response.status_code == 500
    assert read_result(response.content).fault_code in ("soap:Sender", "soap:VersionMismatch")
    healthy = _post(client, hub, search_traits("CASANOVA", "ANTOINE", "M", "1969-08-21"))
    assert read_result(healthy.content).cr == "00"


@FUZZ
@given(st.text(max_size=30), st.text(max_size=30))
def test_arbitrary_traits_get_a_result_or_a_fault(
    hub: SimulatorHub, client: httpx.Client, name: str, first: str
) -> None:
    response = _post(client, hub, search_traits(name, first, "M", "2000-01-01"))
    result = read_result(response.content)
    if response.status_code == 200:
        assert result.cr in ("00", "01", "02")
    else:
        assert response.status_code == 500 and result.fault_code == "soap:Sender"


def test_scenario_behaviours_answer_faults(hub: SimulatorHub, client: httpx.Client) -> None:
    _insi(hub).state.set_behaviours({"lefevre": "fault", "d-almeida": "unavailable"})
    fault = read_result(_post(client, hub, search_traits("LEFEVRE", "HELENE", "F", "1985-06-30")).content)
    assert fault.fault_subcode == "siram_10"
    down = read_result(_post(client, hub, search_traits("D'ALMEIDA", "ANAIS", "F", "1991-11-02")).content)
    assert down.fault_subcode == "siram_40" and down.fault_detail == "insi_102"


def test_faults_are_written_as_the_teleservice_writes_them_at_its_own_path(
    hub: SimulatorHub, client: httpx.Client
) -> None:
    """padoa/tlsi-ins fixture siram_100-desir_500: HTTP 500, subcode soap:siram_NN, siram:Erreur severite=erreur."""
    _insi(hub).state.set_behaviours({"d-almeida": "unavailable"})
    url = _insi(hub).url.rsplit("/", 1)[0] + "/lps"
    body = search_traits("D'ALMEIDA", "ANAIS", "F", "1991-11-02")
    response = client.post(url, content=body, headers=HEADERS)
    assert response.status_code == 500
    root = etree.fromstring(response.content)
    ns = {"s": "http://www.w3.org/2003/05/soap-envelope", "siram": "urn:siram"}
    assert root.findtext(".//s:Subcode/s:Value", namespaces=ns) == "soap:siram_40"
    error = root.find(".//s:Detail/siram:Erreur", ns)
    assert error.get("severite") == "erreur" and error.get("code") == "insi_102"
    assert (error.get("messageID") or "").startswith("uuid:")
    assert (
        b"None"
        not in client.post(
            url, content=search_traits("X", "Y", "M", "2000-01-01", action=None), headers=HEADERS
        ).content
    )


def test_the_identity_base_can_return_production_oids_as_the_qualification_platform(
    hub: SimulatorHub, client: httpx.Client
) -> None:
    state = _insi(hub).state
    first = read_result(_post(client, hub, search_traits("SANTONI", "MARIE-PAULE", "F", "1955-02-10")).content)
    assert first.identity is not None and first.identity.oid == "1.2.250.1.213.1.4.10"  # test OIDs by default
    state.identities = state.identities.model_copy(update={"returned_oids": "production"})
    answer = read_result(_post(client, hub, search_traits("SANTONI", "MARIE-PAULE", "F", "1955-02-10")).content)
    assert answer.identity is not None and answer.identity.oid == "1.2.250.1.213.1.4.8"
