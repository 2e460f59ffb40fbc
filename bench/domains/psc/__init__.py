"""PSC: Pro Santé Connect, ANS's OpenID Connect provider for health professionals (simulator ``simulators/psc``):
authorization code with PKCE, CIBA in poll mode, token exchange, UserInfo and introspection, as PSC's Keycloak realm
``esante-wallet`` publishes them."""

from __future__ import annotations

from bench.domains.base import Channel, Domain, Port, RunningSimulators, SimulatorSetup

PORT = Port("psc", "Port du simulateur Pro Santé Connect")


def _identify_http(body: bytes, content_type: str) -> str | None:
    """A PSC call with a form body: a token request names its grant, a CIBA request its login_hint and binding
    message. Calls without a body (discovery, JWKS, UserInfo by GET) are told apart by their URL, which the bytes of a
    HAR entry's body do not carry: they stay unidentified in a field capture."""
    from urllib.parse import parse_qs

    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return None
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        return None
    if "grant_type" in form:
        return "psc.token"
    if "login_hint" in form and "binding_message" in form:
        return "psc.ciba_auth"
    return None


# PSC's own paths (the realm, the wallet page, the bench's control), as the simulator serves them.
_PATHS = (
    ("/.well-known/", "psc.discovery"),
    ("/protocol/openid-connect/certs", "psc.jwks"),
    ("/protocol/openid-connect/userinfo", "psc.userinfo"),
    ("/protocol/openid-connect/token/introspect", "psc.introspect"),
    ("/protocol/openid-connect/ext/ciba/auth", "psc.ciba_auth"),
    ("/protocol/openid-connect/token", "psc.token"),
    ("/protocol/openid-connect/logout", "psc.logout"),
    ("/protocol/openid-connect/revoke", "psc.revoke"),
    ("/protocol/openid-connect/auth", "psc.authorize"),
    ("/bench/ciba", "psc.bench_control"),
    ("/bench/sessions", "psc.bench_control"),
    ("/bench/id-token", "psc.bench_control"),
)


def _identify_path(path: str) -> str | None:
    """A PSC call by its URL path, for the calls whose body says nothing (discovery, JWKS, UserInfo by GET...)."""
    if path == "/auth":
        return "psc.authorize"
    if not path.startswith(("/auth/realms/esante-wallet", "/bench/")):
        return None
    return next((transaction for fragment, transaction in _PATHS if fragment in path), None)


def _start_simulators(setup: SimulatorSetup) -> RunningSimulators:
    from bench.domains.psc.simulators import PscSimulators

    return PscSimulators(setup)


DOMAIN = Domain(
    name="psc",
    outcomes=(
        ("tokens", "jetons émis (accès, rafraîchissement, identité)"),
        ("pending", "demande CIBA enregistrée, en attente de validation sur la carte ou le téléphone"),
        ("ok", "réponse donnée"),
        ("session_ended", "session Pro Santé Connect terminée (déconnexion)"),
        ("sessions_ended", "sessions terminées côté Pro Santé Connect (contrôle du banc)"),
        ("id_token_flawed", "le prochain jeton d'identité sera invalide (sonde du banc)"),
        ("error:*", "erreur OAuth renvoyée, code après « error: »"),
    ),
    label="Pro Santé Connect (PSC)",
    label_en="Pro Santé Connect (PSC)",
    requirement_prefixes=("PSC",),
    modules=("bench.domains.psc.actions", "bench.domains.psc.checks"),
    channels=(Channel("psc", "http"),),
    transaction_prefixes=("psc.",),
    identify_http=_identify_http,
    identify_path=_identify_path,
    start_simulators=_start_simulators,
    ports=(PORT,),
)
