"""Pro Santé Connect actions: the professional signs in and out of the software through PSC. Every adapter answers
them (the reference candidate by CIBA; a person in operator mode, confirming on the card or the e-CPS application; a
vendor's hook, API 1.3, or command)."""

from __future__ import annotations

from bench.actions.registry import ActionContext, NoParams, action
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
    """Through the simulator's own control URL (journaled by the simulator, as any exchange of the channel)."""
    import httpx

    from bench.domains.psc.simulators import PscSimulators

    psc: PscSimulators = context.simulators.of("psc", PscSimulators)
    recorded = context.journal.exchanges
    before = recorded[-1].seq if recorded else 0
    with httpx.Client(verify=str(context.simulators.pki.ca.cert), timeout=10.0) as http:
        http.post(f"{psc.server.url}/bench/sessions/end").raise_for_status()
    return context.journal.wait_for(
        lambda x: x.transaction == "psc.bench_control" and x.outcome == "sessions_ended", after_seq=before, timeout=5
    )
