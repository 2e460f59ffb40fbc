"""The INSi simulator as the INS domain runs it: one TLS listener, and each patient's INSi misbehaviour (fault,
unavailability) from the scenario's fixtures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup, tls_refusal_recorder
from bench.domains.ins import PORT, TLS_REFUSED
from bench.domains.ins.fixtures import InsiPatientFixture
from simulators.common.server import SimulatorServer
from simulators.insi.app import INSI_PATH, InsiState, create_insi_app

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
        self.server.start()
        self.url = self.server.url + INSI_PATH

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint("insi_url", self.url, "Téléservice INSi (SOAP 1.2, TLS mutuel)")]

    def stop(self) -> None:
        self.server.stop()

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
