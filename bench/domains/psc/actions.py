"""Pro Santé Connect actions: the professional signs in and out of the software through PSC. Every adapter answers
them (the reference candidate by CIBA; a person in operator mode, confirming on the card or the e-CPS application; a
vendor's hook, API 1.3, or command)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bench.actions.registry import ActionContext, NoParams, Params, action
from simulators.common.journal import Exchange


@action(
    "psc_sign_in",
    domain="psc",
    description=(
        "Connecter le professionnel par Pro Santé Connect (CIBA, navigateur externe ou mode web), "
        "puis valider sur la carte CPS ou l'application e-CPS"
    ),
    needs_patient=False,
    causes=("psc.token",),
)
def psc_sign_in(context: ActionContext, params: NoParams) -> None:
    context.adapter.psc_sign_in()


@action(
    "psc_sign_out",
    domain="psc",
    description="Déconnecter le professionnel depuis le logiciel (fin de la session Pro Santé Connect)",
    needs_patient=False,
    causes=("psc.logout", "psc.revoke"),
)
def psc_sign_out(context: ActionContext, params: NoParams) -> None:
    context.adapter.psc_sign_out()


class FlawParams(Params):
    flaw: Literal["signature", "audience"] = Field(
        "signature", description="signature : clé étrangère au realm ; audience : émis pour un autre client"
    )


@action(
    "psc_end_sessions",
    domain="psc",
    description=(
        "Pro Santé Connect met fin aux sessions ouvertes (fin de vie de la session côté PSC) : les jetons de "
        "rafraîchissement ne sont plus valides"
    ),
    needs_patient=False,
    by="bench",
    focus="psc.bench_control",
)
def psc_end_sessions(context: ActionContext, params: NoParams) -> Exchange | None:
    return _control(context, "/bench/sessions/end", "sessions_ended")


@action(
    "psc_flaw_next_id_token",
    domain="psc",
    description=(
        "Le banc sonde la vérification du jeton d'identité : la prochaine connexion Pro Santé Connect reçoit un jeton "
        "d'identité invalide (signature étrangère ou autre audience), ses autres jetons restant valides"
    ),
    params=FlawParams,
    needs_patient=False,
    by="bench",
    focus="psc.bench_control",
)
def psc_flaw_next_id_token(context: ActionContext, params: FlawParams) -> Exchange | None:
    return _control(context, f"/bench/id-token/{params.flaw}", "id_token_flawed")


def _control(context: ActionContext, path: str, outcome: str) -> Exchange | None:
    """A call to the simulator's own control URL, journaled by the simulator as any exchange of the channel."""
    import httpx

    from bench.domains.psc.simulators import PscSimulators

    psc: PscSimulators = context.simulators.of("psc", PscSimulators)
    recorded = context.journal.exchanges
    before = recorded[-1].seq if recorded else 0
    with httpx.Client(verify=str(context.simulators.pki.ca.cert), timeout=10.0) as http:
        http.post(psc.server.url + path).raise_for_status()
    return context.journal.wait_for(
        lambda x: x.transaction == "psc.bench_control" and x.outcome == outcome, after_seq=before, timeout=5
    )
