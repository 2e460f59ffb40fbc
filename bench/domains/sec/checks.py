"""Security of exchanges (SEC-001): every exchange that carried data did so over TLS 1.2 or higher, and nothing but a
TLS handshake ever reached a server whose certificate does not verify (PGSSI-S; SC.MSS/CONF.01 for MSSanté). Judged
from what the simulators recorded of each connection's TLS layer."""

from __future__ import annotations

from typing import Any

from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import Verdict, check, failed, omitted, passed
from bench.domains import registry
from bench.domains.base import Channel
from simulators.common.journal import Exchange

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def _tls(exchange: Exchange) -> dict[str, Any] | None:
    """What the simulator saw of the TLS layer: HTTP simulators keep it flat in ``peer``, MSSanté under ``tls``."""
    peer = exchange.peer or {}
    tls = peer.get("tls")
    if isinstance(tls, dict):
        return tls
    return peer if isinstance(tls, bool) else None


def _before_tls(exchange: Exchange, channel: Channel | None) -> bool:
    """Said before TLS and carrying nothing: what the channel's domain declares as such, unless the session records
    an authentication (an SMTP session transcript that went as far as AUTH carried credentials)."""
    if channel is None or exchange.transaction not in channel.before_tls:
        return False
    return not (exchange.meta.get("auth") or {}).get("mechanism")


def _data_bearing_without_tls(exchange: Exchange, channel: Channel | None) -> str | None:
    tls = _tls(exchange)
    if tls is None or (channel is not None and exchange.transaction in channel.before_tls):
        return None  # no TLS record (candidate artefacts, bench deliveries) or nothing carried yet
    if not tls.get("tls"):
        return f"{exchange.transaction} sans TLS"
    if tls.get("version") not in TLS_VERSIONS:
        return f"{exchange.transaction} en {tls.get('version')} : TLS 1.2 au minimum"
    return None


def _untrusted_use(exchange: Exchange, channel: Channel | None) -> str | None:
    if channel is None or not channel.untrusted or _before_tls(exchange, channel):
        return None  # a trusted server, or a connection cut at the handshake: the refusal itself
    return f"{exchange.transaction} accepté par un serveur au certificat non reconnu ({exchange.channel})"


@check("sec.tls_everywhere", requirements=("SEC-001",), title="TLS 1.2+ sur chaque échange, serveur vérifié")
def tls_everywhere(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    findings = []
    judged = 0
    channels = registry.channels()
    for exchange in evidence.exchanges:
        if _tls(exchange) is None:
            continue
        judged += 1
        channel = channels.get(exchange.channel)
        for problem in (_data_bearing_without_tls(exchange, channel), _untrusted_use(exchange, channel)):
            if problem:
                findings.append(failed(problem, exchange.id))
    if findings:
        return findings
    if not judged:
        return [omitted("aucun échange réseau à juger")]
    message = f"{judged} échange(s) réseau en TLS 1.2 ou plus ; aucun usage d'un serveur au certificat non reconnu"
    return [passed(message)]
