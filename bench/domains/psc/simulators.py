"""The PSC simulator as the bench runs it: one realm on a server-side TLS socket (OIDC clients present no
certificate), a confidential client for the software under test whose secret is the same at every start, and CIBA
requests approved on their first poll unless the bench is told otherwise."""

from __future__ import annotations

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup, installation_secret
from bench.domains.psc import PORT
from simulators.common.server import SimulatorServer
from simulators.psc.app import WALLET_PATH, create_psc_app
from simulators.psc.provider import REALM_PATH, Client, Provider, load_signing_key, signing_key_path

CLIENT_ID = "segur-bench-lgc"
SECRET_VARIABLE = "SEGUR_BENCH_PSC_CLIENT_SECRET"


class PscSimulators(QuietSimulators):
    def __init__(self, setup: SimulatorSetup) -> None:
        self.client_secret = installation_secret(setup, "psc client secret", SECRET_VARIABLE)
        self.provider = Provider(
            issuer="",  # known once the socket is bound
            key=load_signing_key(signing_key_path(setup.pki.directory)),
            clients={CLIENT_ID: Client(CLIENT_ID, self.client_secret)},
        )
        self.server = SimulatorServer(
            create_psc_app(setup.journal, self.provider),
            "psc",
            ssl_context=setup.pki.server_only_context(),
            host=setup.host,
            port=setup.ports.get(PORT.name, 0),
        )
        self.server.start()
        self.provider.issuer = self.server.url + REALM_PATH

    @property
    def discovery_url(self) -> str:
        return f"{self.provider.issuer}/.well-known/wallet-openid-configuration"

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("psc_discovery_url", self.discovery_url, "Pro Santé Connect : découverte (chemin wallet de PSC)"),
            Endpoint("psc_issuer", self.provider.issuer, "Pro Santé Connect : émetteur (realm esante-wallet)"),
            Endpoint("psc_authorization_url", self.server.url + WALLET_PATH, "Pro Santé Connect : connexion (wallet)"),
            Endpoint("psc_client_id", CLIENT_ID, "Pro Santé Connect : client_id du logiciel"),
            Endpoint("psc_client_secret", self.client_secret, "Pro Santé Connect : secret du client"),
            Endpoint(
                "psc_ciba_control",
                self.server.url + "/bench/ciba",
                "Pro Santé Connect : demandes CIBA en attente (POST …/{auth_req_id}/approve|deny)",
                for_candidate=False,
            ),
            Endpoint(
                "psc_sessions_control",
                self.server.url + "/bench/sessions/end",
                "Pro Santé Connect : POST met fin à toutes les sessions ouvertes (côté PSC)",
                for_candidate=False,
            ),
            Endpoint(
                "psc_id_token_probe",
                self.server.url + "/bench/id-token/{signature|audience}",
                "Pro Santé Connect : POST rend invalide le jeton d'identité de la prochaine connexion (sonde)",
                for_candidate=False,
            ),
        ]

    def stop(self) -> None:
        self.server.stop()
