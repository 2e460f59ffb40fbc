"""Security of exchanges (SEC-001): every exchange that carried data did so over TLS 1.2 or higher, and nothing but a
TLS handshake ever reached a server whose certificate does not verify (PGSSI-S; SC.MSS/CONF.01 for MSSanté). Judged
from what the simulators recorded of each connection's TLS layer."""

from __future__ import annotations

from typing import Any

from bench.checks.base import CheckContext, Evidence, Finding
from bench.checks.registry import check
from simulators.common.journal import Exchange

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
UNTRUSTED = ("dmp-untrusted", "mss-untrusted")
# What a client may say before TLS on a STARTTLS port (RFC 3207, RFC 3501): nothing that carries data.
BEFORE_TLS = ("mss.smtp.session", "mss.imap.capability", "mss.imap.starttls", "mss.imap.noop", "mss.imap.logout")


def _tls(exchange: Exchange) -> dict[str, Any] | None:
    """What the simulator saw of the TLS layer: HTTP simulators keep it flat in ``peer``, MSSanté under ``tls``."""
    peer = exchange.peer or {}
    tls = peer.get("tls")
    if isinstance(tls, dict):
        return tls
    return peer if isinstance(tls, bool) else None


def _data_bearing_without_tls(exchange: Exchange) -> str | None:
    tls = _tls(exchange)
    if tls is None or exchange.transaction in BEFORE_TLS:
        return None  # no TLS record (candidate artefacts, bench deliveries) or nothing carried yet
    if not tls.get("tls"):
        return f"{exchange.transaction} sans TLS"
    if tls.get("version") not in TLS_VERSIONS:
        return f"{exchange.transaction} en {tls.get('version')} : TLS 1.2 au minimum"
    return None


def _untrusted_use(exchange: Exchange) -> str | None:
    if exchange.channel not in UNTRUSTED:
        return None
    if exchange.transaction == "mss.smtp.session":
        if not (exchange.meta.get("auth") or {}).get("mechanism"):
            return None  # a STARTTLS attempt cut at the handshake: the refusal itself
    elif exchange.transaction in BEFORE_TLS:
        return None
    return f"{exchange.transaction} accepté par un serveur au certificat non reconnu ({exchange.channel})"


@check("sec.tls_everywhere", requirements=("SEC-001",), title="TLS 1.2+ sur chaque échange, serveur vérifié")
def tls_everywhere(evidence: Evidence, context: CheckContext) -> list[Finding]:
    findings = []
    judged = 0
    for exchange in evidence.exchanges:
        if _tls(exchange) is None:
            continue
        judged += 1
        for problem in (_data_bearing_without_tls(exchange), _untrusted_use(exchange)):
            if problem:
                findings.append(Finding("sec.tls_everywhere", ("SEC-001",), "fail", problem, exchange.id))
    if findings:
        return findings
    if not judged:
        return [Finding("sec.tls_everywhere", ("SEC-001",), "omit", "aucun échange réseau à juger")]
    message = f"{judged} échange(s) réseau en TLS 1.2 ou plus ; aucun usage d'un serveur au certificat non reconnu"
    return [Finding("sec.tls_everywhere", ("SEC-001",), "pass", message)]
