"""Simulator ports fixed for a whole campaign: a person (or a vendor's test machine) configures the software once,
and a resumed campaign listens where the interrupted one did."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from bench.domains import registry

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_SPREAD = 10_000  # how far below the ephemeral range the bench looks for its ports
_TRIES = 64


def fixed_ports(host: str, chosen: dict[str, int]) -> dict[str, int]:
    """``chosen`` completed with a free port for every port a registered domain declares and the user left to the
    system (absent or 0). A port taken between this choice and the simulator's start is reported then, as for a port
    the user set."""
    ports = dict(chosen)
    taken = set(ports.values())
    for domain in registry.load().values():
        for port in domain.ports:
            if not ports.get(port.name):
                ports[port.name] = _free_port(host, taken)
                taken.add(ports[port.name])
    return ports


def _free_port(host: str, taken: set[int]) -> int:
    """A port free now, chosen below the system's ephemeral range when it can be: the simulators start a moment
    later, and any program's outgoing connection or bind to port 0 draws from that range, so a port chosen there can
    be gone by then (seen in CI as a campaign that could not start)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    low = _ephemeral_low()
    if low - _SPREAD >= 1024:
        for port in random.sample(range(low - _SPREAD, low), _TRIES):
            if port not in taken and _bindable(family, host, port):
                return port
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _ephemeral_low() -> int:
    """The first port of the system's ephemeral range (Linux), or 0 where it cannot be read."""
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(family: socket.AddressFamily, host: str, port: int) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
