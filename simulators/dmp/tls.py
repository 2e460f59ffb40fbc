"""The DMP's published TLS profile (GIE SESAM-Vitale information sheet PDT-INF-579, DMP cipher suites, 10/07/2025):
TLS 1.2 only, ECDHE-RSA key exchange with AES-GCM, AES-256-CBC-SHA384 or ChaCha20-Poly1305. Used when
``simulators.strict_tls`` names the DMP; the bench's default profile is wider (TLS 1.2 or 1.3)."""

from __future__ import annotations

import ssl

from simulators.common.pki import BenchPki

DMP_CIPHERS = ":".join(
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def dmp_server_context(pki: BenchPki) -> ssl.SSLContext:
    """The bench's mutual-TLS server context, kept to the DMP's published profile."""
    context = pki.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(DMP_CIPHERS)
    return context
