"""Pro Santé Connect actions: the professional signs in and out of the software through PSC. Every adapter answers
them (the reference candidate by CIBA; a person in operator mode, confirming on the card or the e-CPS application; a
vendor's hook, API 1.3, or command)."""

from __future__ import annotations

from bench.actions.registry import ActionContext, NoParams, action


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
