"""Simulator ports fixed for a whole campaign: a person (or a vendor's test machine) configures the software once,
and a resumed campaign listens where the interrupted one did."""

from __future__ import annotations

import socket

from bench.domains import registry


def fixed_ports(host: str, chosen: dict[str, int]) -> dict[str, int]:
    """``chosen`` completed with a free port for every port a registered domain declares and the user left to the
    system (absent or 0). A port taken between this choice and the simulator's start is reported then, as for a port
    the user set."""
    ports = dict(chosen)
    for domain in registry.load().values():
        for port in domain.ports:
            if not ports.get(port.name):
                ports[port.name] = _free_port(host)
    return ports


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
