"""SEC-001 on evidence the simulators could not produce themselves (they refuse TLS below 1.2 at the handshake): a
capture or an older simulator's journal showing TLS 1.1, a clear-text data exchange, a rogue server used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.checks.base import CheckContext, Evidence
from bench.domains.sec.checks import tls_everywhere
from simulators.common.journal import Journal


def _evidence(tmp_path: Path, *exchanges: tuple[str, str, dict[str, Any], dict[str, Any]]) -> Evidence:
    journal = Journal(tmp_path)
    for channel, transaction, peer, meta in exchanges:
        journal.record(channel, transaction, {"request": (b"x", "text/plain")}, peer=peer, meta=meta)
    journal.close()
    return Evidence(tmp_path, journal.exchanges)


def test_tls_13_everywhere_and_a_refused_starttls_pass(tmp_path: Path) -> None:
    evidence = _evidence(
        tmp_path,
        ("insi", "insi.search_traits", {"tls": True, "version": "TLSv1.3"}, {}),
        ("mss", "mss.smtp.message", {"tls": {"tls": True, "version": "TLSv1.2"}}, {}),
        ("mss-untrusted", "mss.smtp.session", {"tls": {"tls": False}}, {"auth": {}}),
        ("mss-untrusted", "mss.imap.starttls", {"tls": {"tls": False}}, {}),
    )
    [finding] = tls_everywhere(evidence, CheckContext())
    assert finding.outcome == "pass" and finding.requirements == ("SEC-001",)


def test_old_tls_clear_text_and_rogue_servers_fail_with_the_exchange(tmp_path: Path) -> None:
    evidence = _evidence(
        tmp_path,
        ("dmp", "dmp.iti41", {"tls": True, "version": "TLSv1.1"}, {}),
        ("mss", "mss.imap.fetch", {"tls": {"tls": False}}, {}),
        (
            "mss-untrusted",
            "mss.smtp.session",
            {"tls": {"tls": True, "version": "TLSv1.3"}},
            {"auth": {"mechanism": "PLAIN"}},
        ),
    )
    messages = [f.message for f in tls_everywhere(evidence, CheckContext())]
    assert any("TLSv1.1" in m for m in messages)
    assert any("mss.imap.fetch sans TLS" in m for m in messages)
    assert any("certificat non reconnu" in m for m in messages)
