"""Run an ASGI simulator on a real loopback socket over TLS, in a background thread.

Uvicorn serves the app; three small extensions make it fit a test bench: the TLS context is the bench PKI's
(TLS 1.2 minimum, client certificate required); every request's scope carries what the TLS layer saw of the peer
(protocol version, cipher, client certificate subject) in ``scope["state"]["tls"]``; and a handshake that fails (no
client certificate, a foreign one, an old protocol, a client that refuses the server's certificate) is reported to
``on_refused`` instead of vanishing: the server runs the handshake itself (``loop.start_tls``), since asyncio drops
TLS errors silently (they are OSErrors, logged at debug level only).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.requests import Request
from uvicorn.protocols.http.h11_impl import H11Protocol

STARTUP_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 15.0
RefusalListener = Callable[[dict[str, Any]], None]
# Bound on one request's headers; bodies are bounded by each simulator.
MAX_HEADER_BYTES = 64 * 1024


def describe_tls_peer(ssl_object: ssl.SSLObject | None) -> dict[str, Any]:
    """What the TLS handshake established with the peer, for the evidence journal."""
    if ssl_object is None:
        return {"tls": False}
    cert: dict[str, Any] = dict(ssl_object.getpeercert() or {})
    subject = ", ".join(f"{key}={value}" for rdn in cert.get("subject", ()) for key, value in rdn)
    issuer = ", ".join(f"{key}={value}" for rdn in cert.get("issuer", ()) for key, value in rdn)
    cipher = ssl_object.cipher()
    return {
        "tls": True,
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
        "client_subject": subject or None,
        "client_issuer": issuer or None,
    }


def peer_common_name(ssl_object: ssl.SSLObject | None) -> str | None:
    """The commonName of the client certificate the TLS layer verified (None without one)."""
    cert: dict[str, Any] = dict(ssl_object.getpeercert() or {}) if ssl_object is not None else {}
    return next((value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"), None)


class _Handshaking(asyncio.Protocol):
    """Holds what arrives between the end of the handshake and the HTTP protocol taking the connection over."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.eof = False

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def eof_received(self) -> bool | None:
        self.eof = True
        return None


def describe_refusal(exc: BaseException) -> str:
    """A handshake failure as the journal says it: the OpenSSL reason when there is one."""
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason}" if reason else f"{type(exc).__name__}: {exc}"


class _TlsAwareH11Protocol(H11Protocol):
    """H11 protocol that runs the TLS handshake itself (when the server has a TLS context), reports failed handshakes,
    and puts the TLS peer description in every request's ASGI state."""

    tls_context: ssl.SSLContext | None = None
    on_refused: RefusalListener | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self.tls_context is None:
            self._take_over(transport)
            return
        transport.pause_reading()
        asyncio.get_running_loop().create_task(self._handshake(transport, self.tls_context))

    def _take_over(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self.app_state = {**self.app_state, "tls": describe_tls_peer(transport.get_extra_info("ssl_object"))}

    async def _handshake(self, transport: asyncio.Transport, context: ssl.SSLContext) -> None:
        peer = transport.get_extra_info("peername")
        shim = _Handshaking()
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(
                transport, shim, context, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except (OSError, TimeoutError, ConnectionError) as exc:
            transport.abort()
            if self.on_refused is not None:
                self.on_refused({"address": peer[0] if peer else None, "tls": False, "refused": describe_refusal(exc)})
            return
        if secured is None:  # the peer closed during the handshake
            transport.abort()
            return
        secured.set_protocol(self)
        self._take_over(secured)
        for data in shim.received:
            self.data_received(data)
        if shim.eof:
            self.eof_received()


class _BenchConfig(uvicorn.Config):
    def __init__(self, app: Any, ssl_context: ssl.SSLContext | None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._bench_ssl = ssl_context

    def load(self) -> None:
        super().load()
        self.ssl = self._bench_ssl


class SimulatorServer:
    """A simulator's ASGI app served on ``host:port`` (port 0 picks a free one) until ``stop()``.

    >>> server = SimulatorServer(app, "demo", ssl_context=pki.server_context())  # doctest: +SKIP
    >>> server.start(); server.url  # doctest: +SKIP
    'https://127.0.0.1:40123'
    """

    def __init__(
        self,
        app: Any,
        name: str,
        *,
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        on_refused: RefusalListener | None = None,
    ) -> None:
        self.name = name
        self.host = host
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and
        # without it every response waits on Nagle's algorithm (~40 ms per call).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self.scheme = "https" if ssl_context else "http"
        # The protocol runs the TLS handshake itself (uvicorn gets no TLS context) so that refusals are reported.
        protocol = type(
            "SimulatorProtocol",
            (_TlsAwareH11Protocol,),
            {"tls_context": ssl_context, "on_refused": staticmethod(on_refused) if on_refused else None},
        )
        config = _BenchConfig(
            app,
            None,
            http=protocol,
            lifespan="off",
            log_level="critical",
            access_log=False,
            timeout_keep_alive=15,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"simulator-{name}", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def _serve(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"le simulateur {self.name} n'a pas démarré sur {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def read_bounded(request: Request, limit: int) -> tuple[bytes, bool]:
    """The request body, cut at ``limit`` bytes (the rest is drained, not kept)."""
    declared = request.headers.get("content-length")
    chunks: list[bytes] = []
    size = 0
    truncated = False
    if declared and declared.isdigit() and int(declared) > limit:
        truncated = True
    async for chunk in request.stream():
        if size < limit:
            keep = chunk[: limit - size]
            chunks.append(keep)
            size += len(keep)
            if len(keep) < len(chunk):
                truncated = True
        else:
            truncated = True
    return b"".join(chunks), truncated
