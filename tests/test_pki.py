"""The test PKI: made once and reused; mutual TLS enforced; a server outside the bench CA is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.candidates.reference.insi_client import InsiClient, InsiUnavailable
from simulators.common.journal import Journal
from simulators.common.pki import BenchPki, ensure_pki
from simulators.common.server import SimulatorServer
from simulators.insi.app import INSI_PATH, create_insi_app


def test_pki_is_reused_across_runs(pki: BenchPki) -> None:
    again = ensure_pki(pki.directory)
    assert again.ca.cert.read_bytes() == pki.ca.cert.read_bytes()
    assert again.client.key.read_bytes() == pki.client.key.read_bytes()
    assert oct(pki.client.key.stat().st_mode & 0o777) == "0o600"


def test_candidate_refuses_a_server_outside_the_bench_ca(pki: BenchPki, tmp_path: Path) -> None:
    rogue = pki.server_context()
    rogue.load_cert_chain(pki.untrusted_server.cert, pki.untrusted_server.key)
    journal = Journal(tmp_path)
    with SimulatorServer(create_insi_app(journal), "rogue", ssl_context=rogue) as server:
        client = InsiClient(server.url + INSI_PATH, pki.client_context())
        with pytest.raises(InsiUnavailable):
            client.call(
                "traits",
                [("NomNaissance", "LEFEVRE"), ("Prenom", "HELENE"), ("Sexe", "F"), ("DateNaissance", "1985-06-30")],
            )
        client.close()
    assert journal.exchanges == []  # nothing reached the application layer
