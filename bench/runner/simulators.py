"""Start the simulators of every registered domain on loopback, recording into the run's journal, and hand the
candidate its environment. The hub names no domain: each declares how its simulators start."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from bench.candidates.base import Environment
from bench.domains import registry as domains
from bench.domains.base import Endpoint, RunningSimulators, SimulatorSetup
from simulators.common.journal import Journal
from simulators.common.pki import BenchPki

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario, Step

STATE_DIR = "state"
S = TypeVar("S")


class SimulatorHub:
    """The running simulators of one run directory, domain by domain.

    >>> with SimulatorHub(run_dir, pki, ports={"demo": 8443}) as hub:  # doctest: +SKIP
    ...     [e.value for e in hub.endpoints() if e.key == "demo_url"]
    ['https://127.0.0.1:8443/demo']
    """

    def __init__(
        self,
        run_dir: Path,
        pki: BenchPki,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        strict_tls: Iterable[str] = (),
    ) -> None:
        self.journal = Journal(run_dir)
        self.pki = pki
        self._setup = SimulatorSetup(
            self.journal, pki, run_dir / STATE_DIR, host, dict(ports or {}), frozenset(strict_tls)
        )
        self._running: dict[str, RunningSimulators] = {}

    def start(self) -> SimulatorHub:
        try:
            for domain in domains.load().values():
                if domain.start_simulators is not None:
                    self._running[domain.name] = domain.start_simulators(self._setup)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for running in reversed(list(self._running.values())):
            running.stop()
        self._running.clear()
        self.journal.close()

    def of(self, domain: str, kind: type[S]) -> S:
        """The running simulators of ``domain``, as the domain's own class (for its actions and tests)."""
        running = self._running.get(domain)
        if not isinstance(running, kind):
            raise LookupError(f"aucun simulateur {domain!r} de type {kind.__name__} dans ce banc")
        return running

    def endpoints(self) -> list[Endpoint]:
        return [endpoint for running in self._running.values() for endpoint in running.endpoints()]

    def environment(self) -> Environment:
        given = [e for e in self.endpoints() if e.for_candidate]
        return Environment(
            client_tls=self.pki.client_context(),
            ca_file=str(self.pki.ca.cert),
            client_cert_file=str(self.pki.client.cert),
            client_key_file=str(self.pki.client.key),
            endpoints={e.key: e.value for e in given},
            labels={e.key: e.label for e in given},
        )

    # scenario hooks ----------------------------------------------------------------------------------------
    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        for running in self._running.values():
            running.before_scenario(scenario, patients)

    def after_step(self, scenario: Scenario, step: Step) -> None:
        for running in self._running.values():
            running.after_step(scenario, step)

    def after_scenario(self, scenario: Scenario) -> None:
        for running in self._running.values():
            running.after_scenario(scenario)

    def __enter__(self) -> SimulatorHub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
