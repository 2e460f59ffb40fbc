"""The Pro Santé Connect simulator over HTTP(S): PSC's Keycloak realm ``esante-wallet`` at its own paths, the wallet's
sign-in page at ``/auth``, and the bench's control of pending CIBA requests under ``/bench``. Every exchange is
journaled (channel ``psc``) before it is answered; tokens stay in the run directory, never on the console."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from simulators.common.journal import Journal
from simulators.common.server import read_bounded
from simulators.psc.provider import (
    CIBA_GRANT,
    ID_TOKEN_FLAWS,
    REALM_PATH,
    TOKEN_EXCHANGE_GRANT,
    OAuthError,
    Provider,
    metadata,
)

OIDC = f"{REALM_PATH}/protocol/openid-connect"
WALLET_PATH = "/auth"  # PSC's sign-in page is on the wallet's host (wallet.bas.psc.esante.gouv.fr/auth)
MAX_BODY_BYTES = 64 * 1024  # a token request is a few hundred bytes
CHANNEL = "psc"
GRANTS = ("authorization_code", "refresh_token")

Handler = Callable[[Request, bytes], Awaitable[tuple[Response, str, dict[str, Any]]]]


def _error(exc: OAuthError) -> JSONResponse:
    headers = {"WWW-Authenticate": f'Bearer error="{exc.error}"'} if exc.status == 401 else None
    return JSONResponse({"error": exc.error, "error_description": exc.description}, exc.status, headers=headers)


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", f"formulaire illisible : {exc}") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise OAuthError("invalid_request", f"paramètre {key!r} répété (RFC 6749 §3.1)")
        form[key] = value
    return form


def _asked(params: dict[str, str]) -> dict[str, Any]:
    """What an authentication request asked for, as the checks judge it (SC.PSC.01, SC.PSC.08): the level, the
    scope, and for the code flow whether PKCE, state and nonce were sent (their values stay in the request bytes)."""
    return {
        "acr_values": params.get("acr_values"),
        "scope": params.get("scope"),
        "code_challenge_method": params.get("code_challenge_method"),
        "state_sent": bool(params.get("state")),
        "nonce_sent": bool(params.get("nonce")),
    }


def _basic(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None, None
    try:
        user, _, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "en-tête Basic illisible", 401) from exc
    return user, secret


def _bearer(request: Request, form: dict[str, str]) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if form.get("access_token"):
        return form["access_token"]
    raise OAuthError("invalid_token", "jeton d'accès absent (Authorization: Bearer)", 401)


def create_psc_app(journal: Journal, provider: Provider) -> Starlette:
    """The PSC simulator app for ``provider``, recording into ``journal``."""

    def client_of(request: Request, form: dict[str, str], *, require_secret: bool = False) -> Any:
        user, secret = _basic(request)
        client_id = user or form.get("client_id")
        return provider.client(client_id, secret if user else form.get("client_secret"), require_secret=require_secret)

    async def discovery(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(metadata(provider.issuer, base + WALLET_PATH)), "ok", {}

    async def certs(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        return JSONResponse(provider.jwks()), "ok", {}

    async def sign_in_page(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        params = dict(request.query_params)
        meta = {"client_id": params.get("client_id"), **_asked(params)}
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        options = "".join(
            f'<option value="{p.national_id}">{html.escape(p.given_name)} {html.escape(p.family_name)} '
            f"({p.national_id})</option>"
            for p in provider.professionals.values()
        )
        page = (
            '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Pro Santé Connect (simulateur)'
            f'</title></head><body><main><h1>Pro Santé Connect — simulateur segur-bench</h1><form method="post">'
            f'{hidden}<label>Professionnel <select name="national_id">{options}</select></label> '
            '<label>Moyen <select name="auth_mode"><option>CARD</option><option>MOBILE</option></select></label> '
            "<button>Se connecter</button></form></main></body></html>"
        )
        return HTMLResponse(page), "sign_in_page", meta

    async def sign_in(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        form = _form(body)
        params = {**dict(request.query_params), **form}
        target = provider.authorize(params, params.get("national_id", ""), params.get("auth_mode", "CARD"))
        return RedirectResponse(target, 302), "code_issued", {"client_id": params.get("client_id")}

    async def token(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        form = _form(body)
        grant = form.get("grant_type", "")
        meta: dict[str, Any] = request.state.meta  # journaled even when the request is refused
        meta["grant_type"] = grant
        if grant == "refresh_token":
            meta["sid"] = provider.session_of(form.get("refresh_token", ""))  # a refusal says which session is over
        if grant not in (*GRANTS, CIBA_GRANT, TOKEN_EXCHANGE_GRANT):
            raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} non pris en charge")
        client = client_of(request, form, require_secret=grant in (CIBA_GRANT, TOKEN_EXCHANGE_GRANT))
        meta["client_id"] = client.client_id
        if grant == "authorization_code":
            answer = provider.exchange_code(client, form)
        elif grant == "refresh_token":
            answer = provider.refresh(client, form)
        elif grant == CIBA_GRANT:
            answer = provider.poll(client, form)
        else:
            answer = provider.exchange_token(client, form)
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        meta |= provider.session_facts(str(answer.get("session_state", "")))
        return JSONResponse(answer, headers=headers), "tokens", meta

    async def userinfo(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        token = _bearer(request, _form(body) if body else {})
        request.state.meta["sid"] = provider.session_of(token)  # whose session asked, even when refused
        claims = provider.userinfo(token)
        return JSONResponse(claims), "ok", {}

    async def introspect(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        form = _form(body)
        client = client_of(request, form, require_secret=True)
        answer = provider.introspect(form.get("token", ""))
        return JSONResponse(answer), "active" if answer["active"] else "inactive", {"client_id": client.client_id}

    async def ciba(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        form = _form(body)
        client = client_of(request, form, require_secret=True)
        answer = provider.backchannel(client, form)
        meta = {
            "client_id": client.client_id,
            "channel": form.get("channel"),
            "binding_message": form.get("binding_message"),
            "login_hint": form.get("login_hint"),
            **_asked(form),
        }
        return JSONResponse(answer), "pending", meta

    async def logout(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        params = {**dict(request.query_params), **(_form(body) if body else {})}
        if params.get("id_token_hint"):
            claims = provider.verify(params["id_token_hint"], "ID")
        elif params.get("refresh_token"):
            claims = provider.verify(params["refresh_token"], "Refresh")
        else:
            raise OAuthError("invalid_request", "id_token_hint (ou refresh_token) attendu")
        target = params.get("post_logout_redirect_uri")
        if target and not provider.allows_redirect(str(claims.get("azp")), target):
            raise OAuthError("invalid_request", "post_logout_redirect_uri non enregistrée pour ce client")
        provider.end_session(str(claims["sid"]))
        ended = {"sid": claims["sid"]}
        if target:
            state = f"?{urlencode({'state': params['state']})}" if params.get("state") else ""
            return RedirectResponse(target + state, 302), "session_ended", ended
        return Response(status_code=204), "session_ended", ended

    async def revoke(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        form = _form(body)
        client_of(request, form)
        try:
            claims = provider.verify(form.get("token", ""), "Refresh")
            provider.end_session(str(claims["sid"]))
        except OAuthError:
            return Response(status_code=200), "revoked", {}  # RFC 7009 §2.2: an invalid token is not an error
        return Response(status_code=200), "revoked", {"sid": claims["sid"]}

    async def bench_pending(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        listed = [
            {"auth_req_id": i, "national_id": r.professional.national_id, "binding_message": r.binding_message}
            for i, r in provider.pending()
        ]
        return JSONResponse(listed), "ok", {}

    async def bench_decide(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        decision = request.path_params["decision"]
        if decision not in ("approve", "deny"):
            return JSONResponse({"error": "approve ou deny"}, 404), "unknown", {}
        done = provider.decide(request.path_params["auth_req_id"], "approved" if decision == "approve" else "denied")
        return Response(status_code=204 if done else 404), decision if done else "unknown", {}

    async def bench_flaw_id_token(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        flaw = request.path_params["flaw"]
        if flaw not in ID_TOKEN_FLAWS:
            return JSONResponse({"error": f"{' ou '.join(ID_TOKEN_FLAWS)} attendu"}, 404), "unknown", {}
        provider.flaw_next_sign_in(flaw)
        return Response(status_code=204), "id_token_flawed", {"flaw": flaw}

    async def bench_end_sessions(request: Request, body: bytes) -> tuple[Response, str, dict[str, Any]]:
        ended = provider.end_open_sessions()
        return JSONResponse({"ended": len(ended)}), "sessions_ended", {"sids": ended}

    def route(path: str, handler: Handler, methods: list[str], transaction: str) -> Route:
        async def endpoint(request: Request) -> Response:
            body, truncated = await read_bounded(request, MAX_BODY_BYTES)
            meta: dict[str, Any] = {"path": request.url.path, "method": request.method}
            request.state.meta = {}  # what a handler learns before it may refuse
            try:
                if truncated:
                    raise OAuthError("invalid_request", f"requête de plus de {MAX_BODY_BYTES} octets", 413)
                response, outcome, more = await handler(request, body)
                meta |= more
            except OAuthError as exc:
                response, outcome = _error(exc), f"error:{exc.error}"
            meta |= request.state.meta
            meta["http_status"] = response.status_code
            sent = request.url.query.encode() if request.method == "GET" else body
            content_type = request.headers.get("content-type", "application/x-www-form-urlencoded")
            answered = bytes(response.body) if hasattr(response, "body") else b""
            if response.status_code in (301, 302, 303):
                answered = json.dumps({"location": response.headers.get("location")}).encode()
            peer = {"address": request.client.host if request.client else None, **request.state.tls}
            journal.record(
                CHANNEL,
                transaction,
                {
                    "request": (sent, content_type if request.method != "GET" else "text/plain"),
                    "response": (answered, response.headers.get("content-type", "application/json")),
                },
                outcome=outcome,
                peer=peer,
                meta=meta,
            )
            return response

        return Route(path, endpoint, methods=methods)

    routes = [
        route(f"{REALM_PATH}/.well-known/wallet-openid-configuration", discovery, ["GET"], "psc.discovery"),
        route(f"{REALM_PATH}/.well-known/openid-configuration", discovery, ["GET"], "psc.discovery"),
        route(f"{OIDC}/certs", certs, ["GET"], "psc.jwks"),
        route(WALLET_PATH, sign_in_page, ["GET"], "psc.authorize"),
        route(WALLET_PATH, sign_in, ["POST"], "psc.authorize"),
        route(f"{OIDC}/auth", sign_in_page, ["GET"], "psc.authorize"),
        route(f"{OIDC}/auth", sign_in, ["POST"], "psc.authorize"),
        route(f"{OIDC}/token", token, ["POST"], "psc.token"),
        route(f"{OIDC}/userinfo", userinfo, ["GET", "POST"], "psc.userinfo"),
        route(f"{OIDC}/token/introspect", introspect, ["POST"], "psc.introspect"),
        route(f"{OIDC}/ext/ciba/auth", ciba, ["POST"], "psc.ciba_auth"),
        route(f"{OIDC}/logout", logout, ["GET", "POST"], "psc.logout"),
        route(f"{OIDC}/revoke", revoke, ["POST"], "psc.revoke"),
        route("/bench/ciba", bench_pending, ["GET"], "psc.bench_control"),
        route("/bench/ciba/{auth_req_id}/{decision}", bench_decide, ["POST"], "psc.bench_control"),
        route("/bench/sessions/end", bench_end_sessions, ["POST"], "psc.bench_control"),
        route("/bench/id-token/{flaw}", bench_flaw_id_token, ["POST"], "psc.bench_control"),
    ]
    return Starlette(routes=routes)
