"""Start the simulators a campaign needs on loopback, recording into the run's journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.candidates.base import Environment
from simulators.common.journal import Journal
from simulators.common.pki import BenchPki
from simulators.common.server import SimulatorServer
from simulators.dmp.app import DMP_PATH, create_dmp_app, open_state
from simulators.insi.app import INSI_PATH, InsiState, create_insi_app
from simulators.mss.app import CANDIDATE_MAILBOX, MssSimulator

STATE_DIR = "state"


@dataclass
class Endpoints:
    insi: str
    dmp: str
    dmp_untrusted: str
    mss_smtp: str
    mss_imap: str
    mss_smtp_untrusted: str
    mss_imap_untrusted: str


class SimulatorHub:
    """The running simulators of one run directory: INSi, the DMP, and a DMP whose certificate no candidate should
    trust (same registry, its own journal channel ``dmp-untrusted``).

    >>> with SimulatorHub(run_dir, pki) as hub:  # doctest: +SKIP
    ...     hub.endpoints.insi
    'https://127.0.0.1:40123/insi'
    """

    def __init__(
        self, run_dir: Path, pki: BenchPki, *, host: str = "127.0.0.1", insi_port: int = 0, dmp_port: int = 0
    ) -> None:
        self.journal = Journal(run_dir)
        self.pki = pki
        self.insi_state = InsiState()
        self.dmp_state = open_state(run_dir / STATE_DIR, pki.ca.cert)
        self._servers = [
            SimulatorServer(
                create_insi_app(self.journal, self.insi_state),
                "insi",
                ssl_context=pki.server_context(),
                host=host,
                port=insi_port,
            ),
            SimulatorServer(
                create_dmp_app(self.journal, self.dmp_state),
                "dmp",
                ssl_context=pki.server_context(),
                host=host,
                port=dmp_port,
            ),
            SimulatorServer(
                create_dmp_app(self.journal, self.dmp_state, channel="dmp-untrusted"),
                "dmp-untrusted",
                ssl_context=pki.untrusted_server_context(),
                host=host,
            ),
        ]
        self.mss = MssSimulator(self.journal, pki, host=host)
        self.endpoints: Endpoints  # known once started (the MSSanté ports are picked at start)

    def start(self) -> SimulatorHub:
        for server in self._servers:
            server.start()
        self.mss.start()
        insi, dmp, untrusted = self._servers
        mss = self.mss.endpoints
        assert mss is not None
        self.endpoints = Endpoints(
            insi=insi.url + INSI_PATH,
            dmp=dmp.url + DMP_PATH,
            dmp_untrusted=untrusted.url + DMP_PATH,
            mss_smtp=mss.smtp,
            mss_imap=mss.imap,  # STARTTLS, as SC.MSS/CONF.06 describes MSSanté clients
            mss_smtp_untrusted=mss.smtp_untrusted,
            mss_imap_untrusted=mss.imap_untrusted,
        )
        return self

    def stop(self) -> None:
        self.mss.stop()
        for server in self._servers:
            server.stop()
        self.dmp_state.registry.close()
        self.journal.close()

    def environment(self) -> Environment:
        return Environment(
            insi_url=self.endpoints.insi,
            client_tls=self.pki.client_context(),
            ca_file=str(self.pki.ca.cert),
            client_cert_file=str(self.pki.client.cert),
            client_key_file=str(self.pki.client.key),
            dmp_url=self.endpoints.dmp,
            dmp_untrusted_url=self.endpoints.dmp_untrusted,
            mss_smtp_url=self.endpoints.mss_smtp,
            mss_imap_url=self.endpoints.mss_imap,
            mss_address=CANDIDATE_MAILBOX,
            mss_password=self.mss.password,
        )

    def __enter__(self) -> SimulatorHub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
