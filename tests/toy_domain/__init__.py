"""A toy domain, added from this test folder only, the way a contributor adds a real one (docs/architecture.md):
a simulator on a real TLS socket, one action, one check, one requirement, one scenario. Registered for a test with
``bench.domains.registry.added(DOMAIN)``; nothing in the project names it."""

from __future__ import annotations

from pathlib import Path

from bench.domains.base import Channel, Domain, Port, RunningSimulators, SimulatorSetup


def _start(setup: SimulatorSetup) -> RunningSimulators:
    from tests.toy_domain.simulator import ToySimulators

    return ToySimulators(setup)


def _identify(body: bytes, content_type: str) -> str | None:
    """A toy call is any plain-text body (replay identifies exchanges from their bytes, never from a bundle's label)."""
    return "toy.ping" if content_type.startswith("text/plain") else None


DOMAIN = Domain(
    name="toy",
    label="Domaine jouet",
    label_en="Toy domain",
    requirement_prefixes=("TOY",),
    modules=("tests.toy_domain.plugin",),
    channels=(Channel("toy", "http"),),
    transaction_prefixes=("toy.",),
    identify_http=_identify,
    start_simulators=_start,
    ports=(Port("toy", "Port du simulateur jouet"),),
    content=Path(__file__).parent / "content",
)
