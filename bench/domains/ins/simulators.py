"""The INSi simulator as the INS domain runs it: one TLS listener, and each patient's INSi misbehaviour (fault,
unavailability) from the scenario's fixtures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup, tls_refusal_recorder
from bench.domains.ins import CPS_PORT, PORT, TLS_REFUSED
from bench.domains.ins.fixtures import InsiPatientFixture
from simulators.common.pki import load_certificate
from simulators.common.server import SimulatorServer
from simulators.insi.app import INSI_PATH, LPS_PATH, InsiState, create_insi_app

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario


class InsiSimulators(QuietSimulators):
    def __init__(self, setup: SimulatorSetup) -> None:
        self.state = InsiState()
        self.server = SimulatorServer(
            create_insi_app(setup.journal, self.state),
            "insi",
            ssl_context=setup.pki.server_context(),
            host=setup.host,
            port=setup.ports.get(PORT.name, 0),
            on_refused=tls_refusal_recorder(setup.journal, "insi", TLS_REFUSED),
        )
        # The CPS-assertion mode: server-side TLS only (no client certificate asked for), the professional's CPS
        # card signing a SAML assertion instead (simulators/insi/cps.py).
        self.cps_server = SimulatorServer(
            create_insi_app(setup.journal, self.state, cps_ca=load_certificate(setup.pki.ca.cert)),
            "insi-cps",
            ssl_context=setup.pki.server_only_context(),
            host=setup.host,
            port=setup.ports.get(CPS_PORT.name, 0),
            on_refused=tls_refusal_recorder(setup.journal, "insi", TLS_REFUSED),
        )
        self.server.start()
        try:
            self.cps_server.start()
        except BaseException:
            self.server.stop()
            raise
        self.url = self.server.url + INSI_PATH
        self.cps_url = self.cps_server.url + LPS_PATH

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("insi_url", self.url, "Téléservice INSi (SOAP 1.2, TLS mutuel)"),
            Endpoint(
                "insi_cps_url", self.cps_url, "Téléservice INSi, mode assertion CPS (TLS serveur, assertion signée)"
            ),
        ]

    def stop(self) -> None:
        self.server.stop()
        self.cps_server.stop()

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        self.state.set_behaviours(
            {
                p.fixture.identity: behaviour
                for p in patients.values()
                if p.fixture.identity and (behaviour := p.fixture.part(InsiPatientFixture).insi_behaviour)
            }
        )

    def after_scenario(self, scenario: Scenario) -> None:
        self.state.set_behaviours({})
