"""The toy service: HTTPS with a client certificate, answers ``pong`` to anything and journals each exchange."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.domains.base import Endpoint, QuietSimulators, SimulatorSetup
from simulators.common.journal import Journal
from simulators.common.server import SimulatorServer


def create_toy_app(journal: Journal) -> Starlette:
    async def ping(request: Request) -> Response:
        body = await request.body()
        peer = {"address": request.client.host if request.client else None, **request.state.tls}
        journal.record(
            "toy",
            "toy.ping",
            {"request": (body[:1024], "text/plain"), "response": (b"pong", "text/plain")},
            outcome="pong",
            peer=peer,
            meta={"path": "/toy"},
        )
        return Response(b"pong", media_type="text/plain")

    return Starlette(routes=[Route("/toy", ping, methods=["POST"])])


class ToySimulators(QuietSimulators):
    def __init__(self, setup: SimulatorSetup) -> None:
        self.server = SimulatorServer(
            create_toy_app(setup.journal),
            "toy",
            ssl_context=setup.pki.server_context(),
            host=setup.host,
            port=setup.ports.get("toy", 0),
        )
        self.server.start()
        self.url = self.server.url + "/toy"

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint("toy_url", self.url, "Service jouet (HTTPS, TLS mutuel)")]

    def stop(self) -> None:
        self.server.stop()
