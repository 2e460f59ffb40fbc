"""INS: the INSi identity teleservice (simulator ``simulators/insi``), qualification and use of the INS."""

from __future__ import annotations

from bench.domains.base import Channel, Domain, Port, RunningSimulators, SimulatorSetup


def _identify_http(body: bytes, content_type: str) -> str | None:
    """An INSi call is recognised by the operation in its SOAP body."""
    from simulators.common.soap import SoapError
    from simulators.insi.messages import request_from_envelope

    if content_type.lower().startswith("multipart/related"):
        return None
    try:
        return request_from_envelope(body, max_bytes=len(body) + 1).transaction
    except (SoapError, ValueError):
        return None


PORT = Port("insi", "Port du simulateur INSi")


def _start_simulators(setup: SimulatorSetup) -> RunningSimulators:
    from bench.domains.ins.simulators import InsiSimulators

    return InsiSimulators(setup)


DOMAIN = Domain(
    name="ins",
    label="Identité nationale de santé (INSi)",
    label_en="National health identity (INSi)",
    requirement_prefixes=("INS",),
    modules=("bench.domains.ins.checks", "bench.domains.ins.actions"),
    channels=(Channel("insi", "http"),),
    transaction_prefixes=("insi.",),
    identify_http=_identify_http,
    start_simulators=_start_simulators,
    ports=(PORT,),
)
