"""DMP: the shared medical record (simulator ``simulators/dmp``: IHE XDS.b with VIHF), feeding and consultation."""

from __future__ import annotations

from bench.domains.base import (
    CandidateView,
    Channel,
    DashboardCounter,
    Domain,
    Port,
    RunningSimulators,
    SimulatorSetup,
)
from bench.domains.dmp.fixtures import DmpPatientFixture, DmpScenarioFixture, scenario_problems


def _identify_http(body: bytes, content_type: str) -> str | None:
    """A DMP call is recognised by its WS-Addressing action, in plain SOAP or MTOM."""
    from simulators.common.mtom import MtomError, parse_mtom
    from simulators.common.soap import SoapError, read_envelope
    from simulators.common.xmlsafe import UnsafeXmlError
    from simulators.dmp.messages import ACTIONS

    try:
        parsed = read_envelope(parse_mtom(body, content_type, max_bytes=len(body) + 1).envelope, accept_soap11=True)
    except (MtomError, UnsafeXmlError, SoapError):
        return None
    return ACTIONS.get(parsed.action or "")


PORT = Port("dmp", "Port du simulateur DMP")
# A colleague's feed the bench makes in the DMP simulator (a new version of their document): never the candidate's.
# Journaled with this path, by which an export's replay knows it again: the body (a bare ProvideAndRegister request,
# no SOAP envelope) is no DMP call, and bytes that are one are always identified as such first.
COLLEAGUE_FEED = "dmp.colleague_feed"
COLLEAGUE_FEED_PATH = "/segur-bench/colleague-feed"


def _identify_path(path: str) -> str | None:
    return COLLEAGUE_FEED if path == COLLEAGUE_FEED_PATH else None


# The DMP document the bench asked the software to pick in the list and integrate (DMP-032).
INTEGRATION_VIEW = CandidateView(
    "candidate.dmp_integration", "integration", "application/json", "integrations/", ".json", subject_field="ref"
)
# The imaging request whose reports the bench asked the software to find (DMP-039: the ITI-18 must select it).
ORDER_SEARCH_VIEW = CandidateView(
    "candidate.dmp_order_search", "search", "application/json", "order-searches/", ".json", subject_field="ref"
)
TLS_REFUSED = "dmp.tls_refused"


def _start_simulators(setup: SimulatorSetup) -> RunningSimulators:
    from bench.domains.dmp.simulators import DmpSimulators

    return DmpSimulators(setup)


DOMAIN = Domain(
    name="dmp",
    outcomes=(
        ("ACTIF:*", "test d'existence (TD0.2) : DMP actif ; après « : », l'autorisation d'accès du professionnel"),
        ("FERME:*", "test d'existence (TD0.2) : DMP fermé ; après « : », l'autorisation d'accès"),
        ("NF*", "test d'existence (TD0.2) : pas de DMP pour cette INS"),
        ("DMPOk:*", "autorisation d'accès enregistrée (TD0.3)"),
        ("success:*", "recherche réussie ; après « : », le nombre de documents trouvés"),
        ("success", "transaction acceptée par le DMP"),
        ("fault:*", "refus SOAP du DMP, code après « fault: »"),
        ("refused", "connexion TLS refusée à la négociation"),
    ),
    label="Dossier médical partagé (DMP)",
    label_en="Shared medical record (DMP)",
    requirement_prefixes=("DMP",),
    modules=("bench.domains.dmp.checks", "bench.domains.dmp.actions"),
    # A refused TLS handshake (simulators/common/server.py) is journaled and carries nothing: the refusal itself.
    channels=(
        Channel("dmp", "http", before_tls=(TLS_REFUSED,)),
        Channel("dmp-untrusted", "http", untrusted=True, before_tls=(TLS_REFUSED,)),
    ),
    transaction_prefixes=("dmp.",),
    identify_http=_identify_http,
    identify_path=_identify_path,
    start_simulators=_start_simulators,
    ports=(PORT,),
    published_tls=True,  # TLS 1.2 and the DMP's suites (simulators/dmp/tls.py)
    patient_fixture=DmpPatientFixture,
    scenario_fixture=DmpScenarioFixture,
    validate_scenario=scenario_problems,
    # The criteria the bench asked the software to search the DMP with (the ITI-18 must carry them).
    dashboard_counters=(DashboardCounter("dmp_feeds", "Alimentations du DMP (documents envoyés, ITI-41)"),),
    candidate_views=(
        CandidateView("candidate.dmp_search", "search", "application/json", "searches/", ".json", subject_field="ref"),
        ORDER_SEARCH_VIEW,
        INTEGRATION_VIEW,
    ),
)
