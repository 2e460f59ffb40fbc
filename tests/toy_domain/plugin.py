"""The toy domain's action and check, registered when the domain loads."""

from __future__ import annotations

from typing import Literal

from bench.actions.registry import ActionContext, Params, action
from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import Verdict, check, failed, omitted, passed


class PingParams(Params):
    word: Literal["ping", "pong"] = "ping"


@action(
    "ping_toy",
    domain="toy",
    description="Saluer le service jouet",
    params=PingParams,
    needs_patient=False,
    causes=("toy.ping",),
)
def ping_toy(context: ActionContext, params: PingParams) -> None:
    context.adapter.perform("ping_toy", None, params.model_dump())


@check("toy.said_ping", requirements=("TOY-001",), title="Le logiciel dit ping", applies_to=("toy.ping",))
def said_ping(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    calls = [context.focus] if context.focus else evidence.select(channel="toy")
    if not calls:
        return [omitted("aucun appel au service jouet")]
    verdicts = []
    for call in calls:
        said = evidence.part(call, "request") or b""
        if said == b"ping":
            verdicts.append(passed("ping reçu", call))
        else:
            verdicts.append(failed(f"{said[:20]!r} reçu : ping attendu", call))
    return verdicts
