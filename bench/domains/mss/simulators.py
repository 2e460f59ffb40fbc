"""The MSSanté simulator as the MSSanté domain runs it: SMTP and IMAP over TLS (trusted and untrusted listeners),
the candidate's mailbox, and empty mailboxes at each scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup
from simulators.insi.identities import load_identities
from simulators.mss.app import CANDIDATE_MAILBOX, MssSimulator

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario


class MssSimulators(QuietSimulators):
    def __init__(self, setup: SimulatorSetup) -> None:
        self.server = MssSimulator(setup.journal, setup.pki, host=setup.host)
        self.server.start()
        self.identities = load_identities()
        endpoints = self.server.endpoints
        assert endpoints is not None
        self.smtp, self.imap = endpoints.smtp, endpoints.imap  # STARTTLS, as SC.MSS/CONF.06 describes MSSanté clients
        self.smtp_untrusted, self.imap_untrusted = endpoints.smtp_untrusted, endpoints.imap_untrusted

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("mss_smtp_url", self.smtp, "MSSanté, envoi (SMTP, STARTTLS ou TLS, AUTH)"),
            Endpoint("mss_imap_url", self.imap, "MSSanté, boîte aux lettres (IMAP sur TLS)"),
            Endpoint("mss_address", CANDIDATE_MAILBOX, "Boîte MSSanté du logiciel"),
            Endpoint("mss_password", self.server.password, "Mot de passe de la boîte MSSanté"),
            Endpoint("mss_smtp_untrusted_url", self.smtp_untrusted, "MSSanté SMTP au certificat non reconnu", False),
            Endpoint("mss_imap_untrusted_url", self.imap_untrusted, "MSSanté IMAP au certificat non reconnu", False),
        ]

    def stop(self) -> None:
        self.server.stop()

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        self.server.reset()
