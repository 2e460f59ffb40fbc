"""How the reference candidate signs its professional in with Pro Santé Connect, as desktop software does: CIBA in
poll mode (the professional confirms on the card or the phone), the ID token checked against the JWKS with
``acr=eidas1`` (SC.PSC.08), the access token refreshed before it expires and the sign-in run again when the
session has ended."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bench.candidates.base import AdapterError

ACR = "eidas1"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
MARGIN_S = 10  # refresh this long before the access token expires
MAX_WAIT_S = 60  # how long the professional has to confirm on the card or the phone


class IdentityRefused(AdapterError):
    """PSC answered, but its ID token does not verify: the software refuses the sign-in and says why."""


@dataclass(frozen=True)
class PscIdentity:
    """Who is signed in, as PSC's UserInfo says (what an AIR VIHF carries, as ANS's DRIMbox builds it)."""

    national_id: str  # SubjectNameID: 8 + RPPS
    name: str  # prenomDexercice nomDexercice
    profession: str  # codeProfession (TRE_G15)


class PscSignIn:
    """``defects``: ``psc.no_acr_values`` asks for no level; ``psc.local_sign_out`` forgets the tokens without ending
    the session at PSC; ``psc.id_token_unchecked`` takes the tokens without verifying the ID token."""

    def __init__(
        self,
        discovery_url: str,
        client_id: str,
        secret: str,
        national_id: str,
        ca_file: str,
        defects: frozenset[str] = frozenset(),
    ) -> None:
        self._http = httpx.Client(verify=ca_file, timeout=10.0, auth=(client_id, secret))
        self._discovery_url = discovery_url
        self._client_id = client_id
        self._national_id = national_id
        self._defects = defects
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._token: dict[str, Any] | None = None
        self._identity: PscIdentity | None = None
        self._expires = 0.0
        self.refusals: list[str] = []  # sign-ins refused, as the professional was told

    def close(self) -> None:
        self._http.close()

    def _metadata(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = dict(self._http.get(self._discovery_url, auth=None).raise_for_status().json())
        return self._meta

    def sign_in(self) -> None:
        """The professional signs in (again): a new CIBA request, whatever the current session. An ID token that
        does not verify is a refusal told to the professional (nobody is signed in), not a failure of the action."""
        with self._lock:
            try:
                self._keep(self._ciba())
            except IdentityRefused as refused:
                self._token, self._identity = None, None
                self.refusals.append(str(refused))
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise AdapterError(f"connexion Pro Santé Connect impossible : {exc}") from exc

    def sign_out(self) -> None:
        """The professional signs out: the session ends at PSC (end-session endpoint with the ID token as hint),
        then the tokens are forgotten."""
        with self._lock:
            token, self._token, self._identity = self._token, None, None
            if token is None or "psc.local_sign_out" in self._defects:
                return
            try:
                hint = {"id_token_hint": token.get("id_token", ""), "client_id": self._client_id}
                self._http.post(self._metadata()["end_session_endpoint"], data=hint).raise_for_status()
            except (httpx.HTTPError, KeyError) as exc:
                raise AdapterError(f"déconnexion Pro Santé Connect impossible : {exc}") from exc

    def identity(self) -> PscIdentity | None:
        """The signed-in professional from UserInfo (asked once per sign-in), or None when nobody is signed in."""
        with self._lock:
            if self._token is None:
                return None
            if self._identity is None:
                self._identity = self._userinfo(str(self._token["access_token"]))
            return self._identity

    def _userinfo(self, access_token: str) -> PscIdentity:
        try:
            answer = self._http.get(
                self._metadata()["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, auth=None
            ).raise_for_status()
            claims = answer.json()
            practice = claims["SubjectRefPro"]["exercices"][0]
            name = f"{practice['prenomDexercice']} {practice['nomDexercice']}"
            return PscIdentity(str(claims["SubjectNameID"]), name, str(practice["codeProfession"]))
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise AdapterError(f"UserInfo Pro Santé Connect illisible : {exc}") from exc

    def access_token(self) -> str:
        """A valid access token of the professional: refreshed when near its end, signed in again if need be."""
        with self._lock:
            try:
                if self._token is None:
                    self._keep(self._ciba())
                elif time.monotonic() > self._expires - MARGIN_S:
                    self._keep(self._refresh() or self._ciba())
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise AdapterError(f"connexion Pro Santé Connect impossible : {exc}") from exc
            assert self._token is not None
            return str(self._token["access_token"])

    def checked_access_token(self) -> str:
        """An access token of a session PSC still holds open, for opening an MSSanté session: refreshed first; a
        refused refresh means the session is over, and the professional signs in again (SC.MSS/CONF.10), unless
        ``mss.ignores_psc_refusal`` keeps the token of the ended session."""
        with self._lock:
            try:
                if self._token is None:
                    self._keep(self._ciba())
                elif (refreshed := self._refresh()) is not None:
                    self._keep(refreshed)
                elif "mss.ignores_psc_refusal" not in self._defects:
                    self._keep(self._ciba())
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise AdapterError(f"connexion Pro Santé Connect impossible : {exc}") from exc
            assert self._token is not None
            return str(self._token["access_token"])

    def _keep(self, token: dict[str, Any]) -> None:
        if self._token is None or token.get("session_state") != self._token.get("session_state"):
            self._identity = None  # another session: UserInfo asked again
        self._token = token
        self._expires = time.monotonic() + float(token.get("expires_in", 60))

    def _ciba(self) -> dict[str, Any]:
        meta = self._metadata()
        ask = {"scope": "openid scope_all", "login_hint": self._national_id, "binding_message": "12", "channel": "CARD"}
        if "psc.no_acr_values" not in self._defects:
            ask["acr_values"] = ACR  # SC.PSC.08
        started = self._http.post(meta["backchannel_authentication_endpoint"], data=ask).raise_for_status().json()
        deadline = time.monotonic() + min(float(started.get("expires_in", MAX_WAIT_S)), MAX_WAIT_S)
        interval = float(started.get("interval", 5))
        while True:
            answer = self._http.post(
                meta["token_endpoint"], data={"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
            )
            if answer.status_code == 200:
                token = dict(answer.json())
                self._check_identity(str(token.get("id_token", "")))
                return token
            error = answer.json().get("error")
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending" or time.monotonic() > deadline:
                raise AdapterError(f"authentification Pro Santé Connect refusée : {error}")
            time.sleep(interval)

    def _refresh(self) -> dict[str, Any] | None:
        assert self._token is not None
        answer = self._http.post(
            self._metadata()["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": self._token["refresh_token"]},
        )
        return dict(answer.json()) if answer.status_code == 200 else None  # session over: sign in again

    def _check_identity(self, id_token: str) -> None:
        """The ID token is PSC's, for this client, at the level asked for (SC.PSC.08)."""
        if "psc.id_token_unchecked" in self._defects:
            return
        keys = KeySet.import_key_set(self._http.get(self._metadata()["jwks_uri"], auth=None).raise_for_status().json())
        try:
            claims = jwt.decode(id_token, keys, algorithms=["RS256"]).claims
        except (JoseError, ValueError) as exc:
            raise IdentityRefused(f"jeton d'identité Pro Santé Connect invalide : {exc}") from exc
        if claims.get("iss") != self._metadata()["issuer"] or claims.get("aud") != self._client_id:
            raise IdentityRefused("jeton d'identité Pro Santé Connect d'un autre émetteur ou pour un autre client")
        if claims.get("acr") != ACR:
            raise IdentityRefused(f"niveau d'authentification {claims.get('acr')!r} : {ACR} attendu")
