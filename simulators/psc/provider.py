"""The state and the rules of the Pro Santé Connect simulator, apart from HTTP: clients, sessions, authorization codes
with PKCE, CIBA requests, and RS256 tokens shaped as PSC issues them.

What real PSC tokens carry (a PSC BAS access token and its introspection, February 2023, in ANS's psc remote cache
tests, class ``fr.ans.psc.remote.cache.api.utils.TmpTest``): ``sub`` ``f:<uuid>:<national id>``, ``typ`` Bearer,
``azp``, ``nonce``, ``session_state`` and ``sid``, ``acr``, ``scope``, ``authMode`` (CARD, MOBILE...), ``otherIds``,
``preferred_username``. Keycloak's token responses add ``refresh_expires_in``, ``session_state``, ``not-before-policy``.
JWTs are signed with joserfc; PKCE (RFC 7636) S256 is checked with Authlib's helper; the CIBA poll mode (OpenID CIBA
Core 1.0) and the token exchange (RFC 8693) are the thin parts no library provides.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from simulators.common.private_files import create_private_once
from simulators.psc.professionals import Professional, load_professionals

REALM_PATH = "/auth/realms/esante-wallet"
ACR = "eidas1"  # what wave-2 clients ask for (acr_values=eidas1) and must find in the ID token (SC.PSC.08)
ACCESS_TTL_S = 120  # PSC BAS access tokens live two minutes (exp - iat of the captured token)
REFRESH_TTL_S = 1800
CODE_TTL_S = 60
CIBA_TTL_S = 120
CIBA_INTERVAL_S = 5
MAX_SESSIONS = 10_000  # the oldest (ended first) are forgotten beyond this
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


class OAuthError(Exception):
    """An OAuth / OIDC error answer: ``error`` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None  # None: a public client (PKCE only)
    redirect_uris: tuple[str, ...] = ()
    loopback_redirects: bool = True  # RFC 8252 §7.3: a native app's http://127.0.0.1:<any port>/ redirect

    def allows(self, redirect_uri: str) -> bool:
        if redirect_uri in self.redirect_uris:
            return True
        parsed = urlsplit(redirect_uri)
        return (
            self.loopback_redirects
            and parsed.scheme == "http"
            and parsed.hostname in ("127.0.0.1", "::1", "localhost")
            and not parsed.fragment
        )


@dataclass
class Session:
    sid: str
    professional: Professional
    client_id: str
    auth_mode: str
    auth_time: int
    ended: bool = False
    flaw: IdTokenFlaw | None = None  # the bench's probe: this session's ID token must be refused by the client


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str
    session: Session
    expires: float
    used: bool = False


Decision = Literal["pending", "approved", "denied"]
# The bench's probes of a client's ID token verification (OIDC Core §3.1.3.7): signed with a key that is not the realm's
# (the kid still names the realm's key), or issued for another client.
IdTokenFlaw = Literal["signature", "audience"]
ID_TOKEN_FLAWS: tuple[IdTokenFlaw, ...] = ("signature", "audience")


@dataclass
class CibaRequest:
    client_id: str
    professional: Professional
    binding_message: str
    channel: str
    scope: str
    expires: float
    decision: Decision = "pending"
    last_poll: float = 0.0
    redeemed: bool = False


@dataclass
class Provider:
    """One PSC realm. ``issuer`` is the public URL of the realm; ``approve`` decides pending CIBA requests on their
    first poll when set (the bench approves for the reference candidate; in operator mode a person does, through the
    bench's control URL)."""

    issuer: str
    key: RSAKey
    clients: dict[str, Client]
    approve: Decision | None = "approved"
    professionals: dict[str, Professional] = field(default_factory=load_professionals)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sessions: dict[str, Session] = field(default_factory=dict)
    _codes: dict[str, Code] = field(default_factory=dict)
    _ciba: dict[str, CibaRequest] = field(default_factory=dict)
    _revoked: dict[str, float] = field(default_factory=dict)  # jti of refresh tokens no longer valid -> their exp
    _next_flaw: IdTokenFlaw | None = None
    _foreign_key: RSAKey | None = None

    # keys and tokens -----------------------------------------------------------------------------------------------
    @property
    def kid(self) -> str:
        return str(self.key.thumbprint())

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def _sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": self.kid}, claims, key or self.key)

    def flaw_next_sign_in(self, flaw: IdTokenFlaw) -> None:
        """The next sign-in (CIBA or code) gets an ID token with ``flaw``; its access and refresh tokens stay valid,
        so a client that does not verify the ID token goes on with the session."""
        with self._lock:
            self._next_flaw = flaw

    def _flawed_session(self, session: Session) -> Session:
        with self._lock:
            session.flaw, self._next_flaw = self._next_flaw, None
        return session

    def _id_token_key(self, session: Session) -> RSAKey:
        if session.flaw != "signature":
            return self.key
        if self._foreign_key is None:
            self._foreign_key = RSAKey.generate_key(2048)
        return self._foreign_key

    def verify(self, token: str, expected_type: str) -> dict[str, Any]:
        """The claims of a token this realm issued, of ``typ`` ``expected_type``, not expired, of a session still open;
        else OAuthError (``invalid_grant`` at the token endpoint for a refresh token, ``invalid_token`` elsewhere).
        Only RS256 with this realm's key: ``alg: none``, HMAC with the public key, or a foreign key are refused."""
        error, status = ("invalid_grant", 400) if expected_type == "Refresh" else ("invalid_token", 401)
        try:
            decoded = jwt.decode(token, self.key, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise OAuthError(error, f"jeton illisible ou signature invalide : {exc}", status) from exc
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer or claims.get("typ") != expected_type:
            raise OAuthError(error, "jeton d'un autre émetteur ou d'un autre type", status)
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            raise OAuthError(error, "jeton expiré", status)
        if expected_type == "Refresh" and claims.get("jti") in self._revoked:
            raise OAuthError(error, "jeton de rafraîchissement déjà utilisé ou révoqué", status)
        if (session := self._sessions.get(str(claims.get("sid")))) is None or session.ended:
            raise OAuthError(error, "session terminée", status)
        return claims

    def _tokens(self, session: Session, client_id: str, scope: str, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        professional = session.professional
        subject = f"f:{uuid.uuid5(uuid.NAMESPACE_URL, professional.national_id)}:{professional.national_id}"
        common: dict[str, Any] = {"iss": self.issuer, "sub": subject, "azp": client_id, "sid": session.sid}
        common |= {"session_state": session.sid, "auth_time": session.auth_time, "iat": now}
        access = {
            **common,
            "exp": now + ACCESS_TTL_S,
            "jti": str(uuid.uuid4()),
            "typ": "Bearer",
            "aud": ["account", client_id],
            "nonce": nonce or "",
            "acr": ACR,
            "scope": scope,
            "authMode": session.auth_mode,
            "otherIds": professional.other_ids(),
            "preferred_username": professional.national_id,
        }
        refresh = {**common, "exp": now + REFRESH_TTL_S, "jti": str(uuid.uuid4()), "typ": "Refresh", "aud": self.issuer}
        refresh |= {"scope": scope, "nonce": nonce or ""}
        answer: dict[str, Any] = {
            "access_token": self._sign(access),
            "expires_in": ACCESS_TTL_S,
            "refresh_expires_in": REFRESH_TTL_S,
            "refresh_token": self._sign(refresh),
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": session.sid,
            "scope": scope,
        }
        if "openid" in scope.split():
            identity = {**common, "exp": now + ACCESS_TTL_S, "jti": str(uuid.uuid4()), "typ": "ID", "aud": client_id}
            identity |= {"acr": ACR, "preferred_username": professional.national_id}
            if session.flaw == "audience":
                identity["aud"] = "un-autre-client"
            if nonce:
                identity["nonce"] = nonce
            answer["id_token"] = self._sign(identity, self._id_token_key(session))
        return answer

    # clients -------------------------------------------------------------------------------------------------------
    def client(self, client_id: str | None, secret: str | None, *, require_secret: bool) -> Client:
        """The authenticated client; a confidential client must give its secret (RFC 6749 §2.3)."""
        client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthError("invalid_client", "client inconnu", 401)
        if client.secret is not None and (
            secret is None or not hmac.compare_digest(client.secret.encode(), secret.encode())
        ):
            raise OAuthError("invalid_client", "authentification du client refusée", 401)
        if require_secret and client.secret is None:
            raise OAuthError("unauthorized_client", "ce client public ne peut pas utiliser ce flux", 401)
        return client

    # authorization code flow ---------------------------------------------------------------------------------------
    def authorize(self, params: dict[str, str], national_id: str, auth_mode: str = "CARD") -> str:
        """The redirect URL (with ``code`` and ``state``) once ``national_id`` has signed in, or OAuthError."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None or not client.allows(params.get("redirect_uri", "")):
            raise OAuthError("invalid_request", "client inconnu ou redirect_uri non enregistrée")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "seul response_type=code est accepté")
        if "openid" not in params.get("scope", "").split():
            raise OAuthError("invalid_scope", "scope openid attendu")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise OAuthError("invalid_request", "PKCE S256 attendu (code_challenge, code_challenge_method=S256)")
        professional = self._professional(national_id)
        session = self._open_session(professional, client.client_id, auth_mode)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._codes[code] = Code(
                client.client_id,
                params["redirect_uri"],
                params["code_challenge"],
                params.get("nonce"),
                params["scope"],
                session,
                time.time() + CODE_TTL_S,
            )
        answer = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        answer["session_state"] = session.sid
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return f"{params['redirect_uri']}{separator}{urlencode(answer)}"  # a hostile state cannot add parameters

    def _prune(self) -> None:
        """Forget what can no longer be used (called under the lock at each insertion): a client cannot make the
        simulator hold unbounded codes, CIBA requests or sessions."""
        now = time.time()
        self._codes = {k: c for k, c in self._codes.items() if not c.used and c.expires > now}
        self._ciba = {k: r for k, r in self._ciba.items() if not r.redeemed and r.expires > now}
        self._revoked = {jti: exp for jti, exp in self._revoked.items() if exp > now}  # expired: refused anyway
        if len(self._sessions) > MAX_SESSIONS:
            oldest = sorted(self._sessions.values(), key=lambda x: (not x.ended, x.auth_time))
            for session in oldest[: len(self._sessions) - MAX_SESSIONS]:
                del self._sessions[session.sid]

    def _professional(self, national_id: str) -> Professional:
        professional = self.professionals.get(national_id)
        if professional is None:
            raise OAuthError("unknown_user_id", f"aucun professionnel de test {national_id!r}")
        return professional

    def _open_session(self, professional: Professional, client_id: str, auth_mode: str) -> Session:
        session = Session(str(uuid.uuid4()), professional, client_id, auth_mode, int(time.time()))
        with self._lock:
            self._prune()
            self._sessions[session.sid] = session
        return session

    def exchange_code(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.expires < time.time() or code.client_id != client.client_id:
                raise OAuthError("invalid_grant", "code inconnu, expiré, déjà utilisé ou d'un autre client")
            code.used = True  # single use, even when the rest of the request is wrong (RFC 6749 §4.1.2)
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri différente de celle de la demande")
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(create_s256_code_challenge(verifier), code.challenge):
            raise OAuthError("invalid_grant", "code_verifier ne correspond pas au code_challenge (PKCE)")
        return self._tokens(self._flawed_session(code.session), client.client_id, code.scope, code.nonce)

    def refresh(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        claims = self.verify(form.get("refresh_token", ""), "Refresh")
        if claims.get("azp") != client.client_id:
            raise OAuthError("invalid_grant", "jeton de rafraîchissement d'un autre client")
        with self._lock:
            self._prune()
            self._revoked[str(claims["jti"])] = float(claims["exp"])  # rotation: a refresh token serves once
        session = self._sessions[str(claims["sid"])]
        return self._tokens(session, client.client_id, str(claims.get("scope", "openid")), None)

    def session_facts(self, sid: str) -> dict[str, Any]:
        """What the journal says of a session tokens were issued for: its id, the professional (national id: a
        professional's, not a patient's), how they authenticated and the level the ID token states."""
        with self._lock:
            session = self._sessions.get(sid)
        if session is None:
            return {}
        facts = {"sid": sid, "national_id": session.professional.national_id, "auth_mode": session.auth_mode}
        return facts | {"acr": ACR, "id_token_flaw": session.flaw}

    def allows_redirect(self, client_id: str, uri: str) -> bool:
        """Whether ``uri`` is a redirect ``client_id`` may use (after logout as after sign-in: no open redirect)."""
        client = self.clients.get(client_id)
        return client is not None and client.allows(uri)

    def end_session(self, sid: str) -> None:
        with self._lock:
            if (session := self._sessions.get(sid)) is not None:
                session.ended = True

    def end_open_sessions(self) -> list[str]:
        """End every open session, as PSC does when a session reaches its end on PSC's side (its lifetime, the
        professional signing out elsewhere): their refresh tokens stop working. The ids ended."""
        with self._lock:
            ending = [s for s in self._sessions.values() if not s.ended]
            for session in ending:
                session.ended = True
            return [s.sid for s in ending]

    def session_of(self, token: str) -> str | None:
        """The session a token of this realm names (signature checked, nothing else): which session a refused
        refresh was for, for the journal."""
        try:
            sid = jwt.decode(token, self.key, algorithms=["RS256"]).claims.get("sid")
        except (JoseError, ValueError):
            return None
        return str(sid) if sid else None

    # CIBA, poll mode -----------------------------------------------------------------------------------------------
    def backchannel(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        if "openid" not in form.get("scope", "").split():
            raise OAuthError("invalid_scope", "scope openid attendu")
        professional = self.professionals.get(form.get("login_hint", ""))
        if professional is None:
            raise OAuthError("unknown_user_id", "login_hint : identifiant national inconnu")
        binding = form.get("binding_message", "")
        if not (len(binding) == 2 and binding.isdigit()):
            raise OAuthError("invalid_binding_message", "binding_message : deux chiffres attendus")
        channel = form.get("channel", "")
        if channel not in professional.channels:
            raise OAuthError(
                "invalid_request", f"channel {channel!r} : CARD ou MOBILE, selon les moyens du professionnel"
            )
        auth_req_id = secrets.token_urlsafe(24)
        with self._lock:
            self._prune()
            self._ciba[auth_req_id] = CibaRequest(
                client.client_id, professional, binding, channel, form["scope"], time.time() + CIBA_TTL_S
            )
        return {"auth_req_id": auth_req_id, "expires_in": CIBA_TTL_S, "interval": CIBA_INTERVAL_S}

    def decide(self, auth_req_id: str, decision: Decision) -> bool:
        """The professional's answer on the card or the phone (the bench's control, or a person in operator mode)."""
        with self._lock:
            request = self._ciba.get(auth_req_id)
            if request is None or request.decision != "pending":
                return False
            request.decision = decision
            return True

    def pending(self) -> list[tuple[str, CibaRequest]]:
        with self._lock:
            return [(i, r) for i, r in self._ciba.items() if r.decision == "pending" and r.expires > time.time()]

    def poll(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            request = self._ciba.get(form.get("auth_req_id", ""))
            if request is None or request.client_id != client.client_id or request.redeemed:
                raise OAuthError("invalid_grant", "auth_req_id inconnu, déjà utilisé ou d'un autre client")
            if request.expires < now:
                raise OAuthError("expired_token", "demande d'authentification expirée")
            too_soon = request.last_poll and now - request.last_poll < CIBA_INTERVAL_S and request.decision == "pending"
            first_poll = not request.last_poll
            request.last_poll = now
            if request.decision == "pending" and first_poll and self.approve is not None:
                request.decision = self.approve
            if request.decision == "denied":
                request.redeemed = True  # answered: the auth_req_id is over
                raise OAuthError("access_denied", "le professionnel a refusé l'authentification")
            if request.decision == "pending":
                if too_soon:
                    raise OAuthError("slow_down", f"interroger au plus toutes les {CIBA_INTERVAL_S} s")
                raise OAuthError("authorization_pending", "authentification en attente sur la carte ou le téléphone")
            request.redeemed = True
        session = self._flawed_session(self._open_session(request.professional, client.client_id, request.channel))
        return self._tokens(session, client.client_id, request.scope, None)

    # RFC 8693 token exchange, as ANS's e-Santé proxy uses it -------------------------------------------------------
    def exchange_token(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        if form.get("subject_token_type", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
            raise OAuthError("invalid_request", "subject_token_type : jeton d'accès attendu")
        if form.get("subject_issuer") not in (None, "psc"):
            raise OAuthError("invalid_request", "subject_issuer : psc attendu")
        claims = self.verify(form.get("subject_token", ""), "Bearer")
        session = self._sessions[str(claims["sid"])]
        answer = self._tokens(session, client.client_id, str(claims.get("scope", "openid")), None)
        answer["issued_token_type"] = ACCESS_TOKEN_TYPE
        return answer

    def introspect(self, token: str) -> dict[str, Any]:
        try:
            claims = self.verify(token, "Bearer")
        except OAuthError:
            return {"active": False}
        return {**claims, "client_id": claims["azp"], "username": claims["preferred_username"], "active": True}

    def userinfo(self, token: str) -> dict[str, Any]:
        claims = self.verify(token, "Bearer")
        session = self._sessions[str(claims["sid"])]
        return session.professional.userinfo(str(claims["sub"]), session.auth_mode)


def load_signing_key(path: Path) -> RSAKey:
    """The realm's RSA key, made once (2048 bits) and kept beside the bench PKI: clients that cache the JWKS keep
    working across runs."""
    if not path.exists():
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        create_private_once(path, pem)  # the simulator and a resource server may start together: one key, never two
    return RSAKey.import_key(path.read_bytes())


def signing_key_path(pki_directory: Path) -> Path:
    """Where the realm's key is kept, beside the bench PKI (the simulator and the resource servers share it)."""
    return pki_directory / "psc-signing-key.pem"


def metadata(issuer: str, wallet: str) -> dict[str, Any]:
    """The discovery document, Keycloak-shaped as PSC publishes it (``../shared/data/psc``); ``wallet`` is where the
    professional signs in (PSC's authorization endpoint is on the wallet's host, ``/auth``)."""
    oidc = f"{issuer}/protocol/openid-connect"
    return {
        "issuer": issuer,
        "authorization_endpoint": wallet,
        "token_endpoint": f"{oidc}/token",
        "introspection_endpoint": f"{oidc}/token/introspect",
        "userinfo_endpoint": f"{oidc}/userinfo",
        "end_session_endpoint": f"{oidc}/logout",
        "jwks_uri": f"{oidc}/certs",
        "revocation_endpoint": f"{oidc}/revoke",
        "backchannel_authentication_endpoint": f"{oidc}/ext/ciba/auth",
        "grant_types_supported": ["authorization_code", "refresh_token", CIBA_GRANT, TOKEN_EXCHANGE_GRANT],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "backchannel_token_delivery_modes_supported": ["poll"],
        "backchannel_user_code_parameter_supported": False,
        "acr_values_supported": [ACR],
        "scopes_supported": ["openid", "scope_all", "profile", "email"],
        "claims_parameter_supported": False,
    }
