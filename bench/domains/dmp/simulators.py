"""The DMP simulator as the DMP domain runs it: a trusted listener, a listener whose certificate no candidate should
trust (same registry, channel ``dmp-untrusted``), a SQLite registry per run, and per scenario the patients' DMP
states, seeded documents and the outage the fixtures ask for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.domains.base import Endpoint, SimulatorSetup, tls_refusal_recorder
from bench.domains.dmp import PORT, TLS_REFUSED
from bench.domains.dmp.fixtures import DmpPatientFixture, DmpScenarioFixture
from bench.domains.dmp.seed import dmp_traits, seed_patient
from simulators.common.server import SimulatorServer
from simulators.dmp.app import DMP_PATH, create_dmp_app, open_state
from simulators.dmp.tls import dmp_server_context
from simulators.insi.identities import load_identities

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario, Step

UNTRUSTED = "dmp-untrusted"
DOMAIN_NAME = "dmp"


class DmpSimulators:
    def __init__(self, setup: SimulatorSetup) -> None:
        self.state = open_state(setup.state_dir, setup.pki.ca.cert)
        self.identities = load_identities()
        trusted = SimulatorServer(
            create_dmp_app(setup.journal, self.state),
            "dmp",
            ssl_context=dmp_server_context(setup.pki)
            if DOMAIN_NAME in setup.strict_tls
            else setup.pki.server_context(),
            host=setup.host,
            port=setup.ports.get(PORT.name, 0),
            on_refused=tls_refusal_recorder(setup.journal, "dmp", TLS_REFUSED),
        )
        untrusted = SimulatorServer(
            create_dmp_app(setup.journal, self.state, channel=UNTRUSTED),
            UNTRUSTED,
            ssl_context=setup.pki.untrusted_server_context(),
            host=setup.host,
            on_refused=tls_refusal_recorder(setup.journal, UNTRUSTED, TLS_REFUSED),
        )
        self._servers = [trusted, untrusted]
        try:
            for server in self._servers:
                server.start()
        except BaseException:
            self.stop()
            raise
        self.url = trusted.url + DMP_PATH
        self.untrusted_url = untrusted.url + DMP_PATH

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("dmp_url", self.url, "DMP (XDS.b SOAP 1.2 + MTOM, TLS mutuel, VIHF signé)"),
            Endpoint(
                "dmp_untrusted_url", self.untrusted_url, "DMP au certificat non reconnu (doit être refusé)", False
            ),
        ]

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self.state.registry.close()

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        """Each scenario starts from an empty DMP holding only what its fixtures put there."""
        self.state.registry.clear()
        for patient in patients.values():
            fixture = patient.fixture
            dmp = fixture.part(DmpPatientFixture)
            if not fixture.identity:
                continue
            person = self.identities.by_id(fixture.identity)
            traits = dmp_traits(person, divergent=dmp.dmp_traits == "divergents")
            self.state.registry.set_traits(person.matricule, traits)
            if dmp.dmp != "actif" or dmp.dmp_documents:
                seed_patient(self.state, person, dmp.dmp, list(dmp.dmp_documents), dmp.dmp_imaging_order)
        self.state.outage = scenario.fixtures.part(DmpScenarioFixture).dmp_outage_until is not None

    def after_step(self, scenario: Scenario, step: Step) -> None:
        """The DMP comes back once the step the fixtures name is done (its expectations then wait for the candidate)."""
        if scenario.fixtures.part(DmpScenarioFixture).dmp_outage_until == step.id:
            self.state.outage = False

    def after_scenario(self, scenario: Scenario) -> None:
        self.state.outage = False
