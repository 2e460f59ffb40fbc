"""Ports fixed for a campaign run by a person or a vendor's machine: free, distinct, and out of the range the
system hands to other programs' connections meanwhile."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from bench.runner import ports


def test_ports_left_to_the_system_are_free_distinct_and_below_the_ephemeral_range() -> None:
    chosen = ports.fixed_ports("127.0.0.1", {"insi": 0})
    low = ports._ephemeral_low()
    picked = list(chosen.values())
    assert len(set(picked)) == len(picked) and chosen["insi"] != 0
    if low - ports._SPREAD >= 1024:
        assert all(low - ports._SPREAD <= p < low for p in picked), picked


def test_a_port_the_user_set_is_kept() -> None:
    assert ports.fixed_ports("127.0.0.1", {"insi": 40123})["insi"] == 40123


def test_a_port_in_use_is_not_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setattr(random, "sample", lambda _range, _n: [port, port + 1 if port < 65535 else port - 1])
        monkeypatch.setattr(ports, "_ephemeral_low", lambda: 65535)
        assert ports._free_port("127.0.0.1", set()) != port


def test_without_the_systems_range_the_system_chooses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", tmp_path / "absent")
    assert ports._ephemeral_low() == 0
    assert 0 < ports._free_port("127.0.0.1", set()) < 65536
