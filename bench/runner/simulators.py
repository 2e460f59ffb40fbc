"""Start the simulators a campaign needs on loopback, recording into the run's journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.candidates.base import Environment
from simulators.common.journal import Journal
from simulators.common.pki import BenchPki
from simulators.common.server import SimulatorServer
from simulators.insi.app import INSI_PATH, InsiState, create_insi_app


@dataclass
class Endpoints:
    insi: str


class SimulatorHub:
    """The running simulators of one run directory.

    >>> with SimulatorHub(run_dir, pki) as hub:  # doctest: +SKIP
    ...     hub.endpoints.insi
    'https://127.0.0.1:40123/insi'
    """

    def __init__(self, run_dir: Path, pki: BenchPki, *, host: str = "127.0.0.1", insi_port: int = 0) -> None:
        self.journal = Journal(run_dir)
        self.pki = pki
        self.insi_state = InsiState()
        self._insi = SimulatorServer(
            create_insi_app(self.journal, self.insi_state),
            "insi",
            ssl_context=pki.server_context(),
            host=host,
            port=insi_port,
        )
        self.endpoints = Endpoints(insi=self._insi.url + INSI_PATH)

    def start(self) -> SimulatorHub:
        self._insi.start()
        return self

    def stop(self) -> None:
        self._insi.stop()
        self.journal.close()

    def environment(self) -> Environment:
        return Environment(
            insi_url=self.endpoints.insi,
            client_tls=self.pki.client_context(),
            ca_file=str(self.pki.ca.cert),
            client_cert_file=str(self.pki.client.cert),
            client_key_file=str(self.pki.client.key),
        )

    def __enter__(self) -> SimulatorHub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
