"""The MSSanté simulator as the MSSanté domain runs it: SMTP and IMAP over TLS (trusted and untrusted listeners),
the candidate's mailbox, and empty mailboxes at each scenario."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup, installation_secret
from bench.domains.mss import PORTS
from simulators.insi.identities import load_identities
from simulators.mss.addresses import CANDIDATE_MAILBOX
from simulators.mss.app import MssSimulator
from simulators.psc.bearer import bearer_holder
from simulators.psc.provider import signing_key_path

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario


PASSWORD_VARIABLE = "SEGUR_BENCH_MSS_PASSWORD"


def mailbox_password(setup: SimulatorSetup) -> str:
    """The software's mailbox password, the same at every start so that real software is configured once:
    ``$SEGUR_BENCH_MSS_PASSWORD`` when set, otherwise derived from the bench CA's key (one per installation, never
    the same on two machines)."""
    return installation_secret(setup, "mss mailbox password", PASSWORD_VARIABLE)


class MssSimulators(QuietSimulators):
    def __init__(self, setup: SimulatorSetup) -> None:
        ports = {port.name.removeprefix("mss_"): setup.ports.get(port.name, 0) for port in PORTS}
        self.server = MssSimulator(
            setup.journal, setup.pki, host=setup.host, ports=ports, password=mailbox_password(setup)
        )
        # XOAUTH2 with a PSC access token (SC.MSS/CONF.07): checked against the PSC simulator's realm key.
        holder = bearer_holder(signing_key_path(setup.pki.directory))
        self.server.accept_bearer(
            lambda token: (h[0].mailbox, h[0].national_id, h[1]) if (h := holder(token)) else None
        )
        self.server.start()
        self.identities = load_identities()
        endpoints = self.server.endpoints
        assert endpoints is not None
        self.smtp, self.imap = endpoints.smtp, endpoints.imap  # STARTTLS, as SC.MSS/CONF.06 describes MSSanté clients
        self.smtp_untrusted, self.imap_untrusted = endpoints.smtp_untrusted, endpoints.imap_untrusted
        self.smtps, self.imaps = endpoints.smtps, endpoints.imaps
        self.smtp_weak = endpoints.smtp_weak
        # A port bound but never listening: a connection to it is refused, as when the operator's servers are down.
        self._down = socket.socket(socket.AF_INET6 if ":" in setup.host else socket.AF_INET, socket.SOCK_STREAM)
        self._down.bind((setup.host, 0))
        down = self._down.getsockname()[1]
        host = f"[{setup.host}]" if ":" in setup.host else setup.host
        self.smtp_down, self.imap_down = f"smtp://{host}:{down}", f"imap://{host}:{down}"

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("mss_smtp_url", self.smtp, "MSSanté, envoi (SMTP, STARTTLS, AUTH)"),
            Endpoint("mss_smtps_url", self.smtps, "MSSanté, envoi (SMTP, TLS implicite, AUTH)"),
            Endpoint("mss_imap_url", self.imap, "MSSanté, boîte aux lettres (IMAP, STARTTLS)"),
            Endpoint("mss_imaps_url", self.imaps, "MSSanté, boîte aux lettres (IMAP, TLS implicite)"),
            Endpoint("mss_address", CANDIDATE_MAILBOX, "Boîte MSSanté du logiciel"),
            Endpoint("mss_password", self.server.password, "Mot de passe de la boîte MSSanté"),
            Endpoint("mss_smtp_untrusted_url", self.smtp_untrusted, "MSSanté SMTP au certificat non reconnu", False),
            Endpoint("mss_imap_untrusted_url", self.imap_untrusted, "MSSanté IMAP au certificat non reconnu", False),
            Endpoint(
                "mss_smtp_weak_url", self.smtp_weak, "MSSanté SMTP aux suites TLS hors CONF.03 (à refuser)", False
            ),
        ]

    def stop(self) -> None:
        self.server.stop()
        self._down.close()

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        self.server.reset()
