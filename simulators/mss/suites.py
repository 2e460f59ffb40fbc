"""TLS suites toward an MSSanté operator: SC.MSS/CONF.03 (référentiel socle MSSanté, draft wave 2) lists the only
TLS 1.2 suites a client may offer, 0xC030 0xC02F 0xC028 0xC027 0x009F 0x009E; the simulator's ``smtp_weak`` listener
offers none of them, so that a client keeping to the list cannot complete its handshake there."""

from __future__ import annotations

import ssl

from simulators.common.pki import BenchPki

# The listed suites, by their OpenSSL names.
MSS_CIPHERS = (
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES128-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
)
# Suites outside the list (RSA key exchange: no forward secrecy).
WEAK_CIPHERS = "AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256"


def weak_server_context(pki: BenchPki) -> ssl.SSLContext:
    """A trusted certificate, but only suites outside SC.MSS/CONF.03."""
    context = pki.server_context(require_client_cert=False)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(WEAK_CIPHERS)
    return context
