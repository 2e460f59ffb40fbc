"""The PSC simulator over its real TLS socket, driven by a standard OIDC client (Authlib's httpx client): discovery
from PSC's wallet path, authorization code with PKCE, UserInfo, introspection, refresh, logout, CIBA in poll mode,
token exchange; and hostile inputs refused with the right OAuth error."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from bench.domains.psc.simulators import CLIENT_ID, PscSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.journal import read_journal
from simulators.common.pki import BenchPki
from simulators.psc.provider import ACR, CIBA_GRANT, TOKEN_EXCHANGE_GRANT

DOCTOR = "810002345678"
REDIRECT = "http://127.0.0.1:53682/callback"


@pytest.fixture(scope="module")
def psc(tmp_path_factory: pytest.TempPathFactory, pki: BenchPki) -> Iterator[tuple[PscSimulators, Path]]:
    run = tmp_path_factory.mktemp("psc")
    with SimulatorHub(run / "run", pki) as hub:
        yield hub.of("psc", PscSimulators), run / "run"


@pytest.fixture
def http(pki: BenchPki) -> Iterator[httpx.Client]:
    with httpx.Client(verify=str(pki.ca.cert)) as client:
        yield client


def _metadata(psc: PscSimulators, http: httpx.Client) -> dict[str, str]:
    return dict(http.get(psc.discovery_url).raise_for_status().json())


def _client(psc: PscSimulators, pki: BenchPki, **options: object) -> OAuth2Client:
    return OAuth2Client(
        CLIENT_ID,
        psc.client_secret,
        scope="openid scope_all",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        verify=str(pki.ca.cert),
        **options,
    )


def _sign_in(psc: PscSimulators, http: httpx.Client, pki: BenchPki) -> tuple[OAuth2Client, dict[str, object], str]:
    """The code flow as a native app runs it: the user signs in at the wallet page, the app gets the code back."""
    meta = _metadata(psc, http)
    client = _client(psc, pki, token_endpoint=meta["token_endpoint"])
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, acr_values="eidas1"
    )
    page = http.get(url)
    assert page.status_code == 200 and "Se connecter" in page.text
    signed = http.post(url, data={"national_id": DOCTOR, "auth_mode": "CARD"})
    assert signed.status_code == 302
    callback = signed.headers["location"]
    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    return client, dict(token), nonce


def test_discovery_from_the_wallet_path_is_keycloak_shaped(psc: tuple[PscSimulators, Path], http: httpx.Client) -> None:
    simulators, _run = psc
    meta = _metadata(simulators, http)
    issuer = simulators.provider.issuer
    assert issuer.endswith("/auth/realms/esante-wallet") and meta["issuer"] == issuer
    assert meta["token_endpoint"] == f"{issuer}/protocol/openid-connect/token"
    assert meta["backchannel_authentication_endpoint"] == f"{issuer}/protocol/openid-connect/ext/ciba/auth"
    assert http.get(f"{issuer}/.well-known/openid-configuration").json() == meta  # the standard path works too
    keys = http.get(meta["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_code_flow_with_pkce_userinfo_introspection_refresh_and_logout(
    psc: tuple[PscSimulators, Path], http: httpx.Client, pki: BenchPki
) -> None:
    simulators, run = psc
    client, token, nonce = _sign_in(simulators, http, pki)
    meta = _metadata(simulators, http)
    keys = KeySet.import_key_set(http.get(meta["jwks_uri"]).json())
    identity = jwt.decode(str(token["id_token"]), keys, algorithms=["RS256"]).claims
    assert identity["acr"] == ACR and identity["nonce"] == nonce and identity["aud"] == CLIENT_ID
    assert token["refresh_expires_in"] and token["session_state"] == identity["sid"]
    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["SubjectNameID"] == DOCTOR and info["SubjectRole"] == ["10^1.2.250.1.213.1.1.5.5"]
    assert info["SubjectRefPro"]["exercices"][0]["activities"][0]["raisonSocialeSite"]
    introspected = http.post(
        meta["introspection_endpoint"],
        data={"token": token["access_token"]},
        auth=(CLIENT_ID, simulators.client_secret),
    ).json()
    assert introspected["active"] is True and introspected["username"] == DOCTOR
    assert introspected["authMode"] == "CARD" and introspected["client_id"] == CLIENT_ID
    renewed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert renewed["access_token"] != token["access_token"]
    again = http.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(CLIENT_ID, simulators.client_secret),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # rotated: serves once
    ended = http.get(meta["end_session_endpoint"], params={"id_token_hint": str(token["id_token"])})
    assert ended.status_code == 204
    after = http.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        auth=(CLIENT_ID, simulators.client_secret),
    )
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"  # the session is over
    assert (
        http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {renewed['access_token']}"}).status_code
        == 401
    )
    journaled = {x.transaction for x in read_journal(run)}
    assert {"psc.discovery", "psc.authorize", "psc.token", "psc.userinfo", "psc.introspect", "psc.logout"} <= journaled


def test_ciba_poll_mode_approved_denied_and_replayed(psc: tuple[PscSimulators, Path], http: httpx.Client) -> None:
    simulators, _run = psc
    meta = _metadata(simulators, http)
    auth = (CLIENT_ID, simulators.client_secret)
    ask = {"scope": "openid scope_all", "login_hint": DOCTOR, "binding_message": "42", "channel": "CARD"}
    simulators.provider.approve = None  # a person decides, through the bench's control URL
    try:
        started = http.post(meta["backchannel_authentication_endpoint"], data=ask, auth=auth).json()
        assert set(started) == {"auth_req_id", "expires_in", "interval"}
        poll = {"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
        first = http.post(meta["token_endpoint"], data=poll, auth=auth)
        assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
        too_soon = http.post(meta["token_endpoint"], data=poll, auth=auth)
        assert too_soon.json()["error"] == "slow_down"
        pending = http.get(simulators.server.url + "/bench/ciba").json()
        assert [p["binding_message"] for p in pending] == ["42"]
        approved = http.post(f"{simulators.server.url}/bench/ciba/{started['auth_req_id']}/approve")
        assert approved.status_code == 204
        simulators.provider._ciba[started["auth_req_id"]].last_poll = 0.5  # the interval has passed
        token = http.post(meta["token_endpoint"], data=poll, auth=auth)
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        replayed = http.post(meta["token_endpoint"], data=poll, auth=auth)
        assert replayed.json()["error"] == "invalid_grant"  # an auth_req_id serves once
        denied_request = http.post(meta["backchannel_authentication_endpoint"], data=ask, auth=auth).json()
        http.post(f"{simulators.server.url}/bench/ciba/{denied_request['auth_req_id']}/deny")
        denied = http.post(
            meta["token_endpoint"], data={**poll, "auth_req_id": denied_request["auth_req_id"]}, auth=auth
        )
        assert denied.json()["error"] == "access_denied"
    finally:
        simulators.provider.approve = "approved"
    bad = http.post(meta["backchannel_authentication_endpoint"], data={**ask, "binding_message": "4"}, auth=auth)
    assert bad.json()["error"] == "invalid_binding_message"
    unknown = http.post(meta["backchannel_authentication_endpoint"], data={**ask, "login_hint": "899"}, auth=auth)
    assert unknown.json()["error"] == "unknown_user_id"
    anonymous = http.post(meta["backchannel_authentication_endpoint"], data=ask)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"


def test_token_exchange_as_the_esante_proxy_uses_it(
    psc: tuple[PscSimulators, Path], http: httpx.Client, pki: BenchPki
) -> None:
    simulators, _run = psc
    _oauth, token, _nonce = _sign_in(simulators, http, pki)
    meta = _metadata(simulators, http)
    exchanged = http.post(
        meta["token_endpoint"],
        data={
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": token["access_token"],
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "subject_issuer": "psc",
        },
        auth=(CLIENT_ID, simulators.client_secret),
    )
    assert exchanged.status_code == 200 and exchanged.json()["issued_token_type"].endswith("access_token")


def _forged(claims_change: dict[str, object], header: dict[str, object], key: RSAKey | None = None) -> str:
    payload = {"iss": "x", "typ": "Bearer", "exp": int(time.time()) + 60, "sid": "x", **claims_change}
    if header.get("alg") == "none":
        return f"{_segment(header)}.{_segment(payload)}."
    signed: str = jwt.encode(header, payload, key or RSAKey.generate_key(2048))
    return signed


def _segment(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_forged_expired_and_foreign_tokens_are_refused(
    psc: tuple[PscSimulators, Path], http: httpx.Client, pki: BenchPki
) -> None:
    simulators, _run = psc
    _oauth, token, _nonce = _sign_in(simulators, http, pki)
    meta = _metadata(simulators, http)
    genuine = jwt.decode(str(token["access_token"]), simulators.provider.key).claims
    forgeries = {
        "alg none": _forged(genuine, {"alg": "none"}),
        "foreign key": _forged(genuine, {"alg": "RS256"}),
        "expired": _forged({**genuine, "exp": int(time.time()) - 10}, {"alg": "RS256"}, simulators.provider.key),
        "other issuer": _forged({**genuine, "iss": "https://evil.example"}, {"alg": "RS256"}, simulators.provider.key),
        "id token as access token": str(token["id_token"]),
        "garbage": "a.b.c",
    }
    for name, forged in forgeries.items():
        answer = http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token", name
        assert http.post(
            meta["introspection_endpoint"], data={"token": forged}, auth=(CLIENT_ID, simulators.client_secret)
        ).json() == {"active": False}, name


def test_code_flow_refusals(psc: tuple[PscSimulators, Path], http: httpx.Client, pki: BenchPki) -> None:
    simulators, _run = psc
    meta = _metadata(simulators, http)
    base = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid"}
    pkce = {"code_challenge": "x" * 43, "code_challenge_method": "S256"}
    without_pkce = http.post(meta["authorization_endpoint"], params=base, data={"national_id": DOCTOR})
    assert without_pkce.status_code == 400 and "PKCE" in without_pkce.json()["error_description"]
    foreign_redirect = http.post(
        meta["authorization_endpoint"],
        params={**base, **pkce, "redirect_uri": "https://evil.example/cb"},
        data={"national_id": DOCTOR},
    )
    assert foreign_redirect.status_code == 400
    granted = http.post(meta["authorization_endpoint"], params={**base, **pkce}, data={"national_id": DOCTOR})
    code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
    wrong_verifier = http.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": "y" * 43},
        auth=(CLIENT_ID, simulators.client_secret),
    )
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    oversized = http.post(meta["token_endpoint"], content=b"a=" + b"x" * 70_000)
    assert oversized.status_code == 413 and oversized.json()["error"] == "invalid_request"
    repeated = http.post(meta["token_endpoint"], content=b"grant_type=a&grant_type=b")
    assert repeated.status_code == 400 and "répété" in repeated.json()["error_description"]


def _xoauth2(mailbox: str, token: str) -> str:
    return f"user={mailbox}\x01auth=Bearer {token}\x01\x01"


@pytest.fixture(scope="module")
def campaign_hub(tmp_path_factory: pytest.TempPathFactory, pki: BenchPki) -> Iterator[SimulatorHub]:
    with SimulatorHub(tmp_path_factory.mktemp("psc-mss") / "run", pki) as hub:
        yield hub


def _ciba_tokens(http: httpx.Client, psc: PscSimulators, **asked: str) -> dict[str, Any]:
    """A CIBA request for the doctor (the simulator approves it on the first poll), and the tokens of that poll."""
    meta = _metadata(psc, http)
    auth = (CLIENT_ID, psc.client_secret)
    ask = {"scope": "openid scope_all", "login_hint": DOCTOR, "binding_message": "07", "channel": "MOBILE", **asked}
    started = http.post(meta["backchannel_authentication_endpoint"], data=ask, auth=auth).json()
    poll = {"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
    return dict(http.post(meta["token_endpoint"], data=poll, auth=auth).json())


def _ciba_token(psc: PscSimulators, pki: BenchPki) -> str:
    with httpx.Client(verify=str(pki.ca.cert)) as http:
        return str(_ciba_tokens(http, psc)["access_token"])


def test_smtplib_and_imaplib_authenticate_with_xoauth2_and_a_psc_token(
    campaign_hub: SimulatorHub, pki: BenchPki
) -> None:
    import imaplib
    import smtplib
    import ssl

    from bench.domains.mss.simulators import MssSimulators
    from simulators.psc.professionals import load_professionals

    psc = campaign_hub.of("psc", PscSimulators)
    mss = campaign_hub.of("mss", MssSimulators)
    token = _ciba_token(psc, pki)
    mailbox = load_professionals()[DOCTOR].mailbox
    tls = ssl.create_default_context(cafile=str(pki.ca.cert))
    smtp_url, imap_url = urlsplit(mss.smtp), urlsplit(mss.imaps)
    with smtplib.SMTP(smtp_url.hostname or "", smtp_url.port or 0, timeout=10) as smtp:
        smtp.starttls(context=tls)
        smtp.ehlo()
        assert "XOAUTH2" in smtp.esmtp_features["auth"]
        code, _said = smtp.auth("XOAUTH2", lambda challenge=None: _xoauth2(mailbox, token), initial_response_ok=True)
        assert code == 235
    with smtplib.SMTP(smtp_url.hostname or "", smtp_url.port or 0, timeout=10) as smtp:
        smtp.starttls(context=tls)
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth("XOAUTH2", lambda challenge=None: _xoauth2("someone.else@segur-bench.mssante.fr", token))
        assert refused.value.smtp_code == 535  # a token for another professional's mailbox
    with imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10) as imap:
        typ, _data = imap.authenticate("XOAUTH2", lambda _challenge: _xoauth2(mailbox, token).encode())
        assert typ == "OK"
        assert imap.select("INBOX")[0] == "OK"
    with imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10) as imap:
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with pytest.raises(imaplib.IMAP4.error):
            imap.authenticate("XOAUTH2", lambda _challenge: _xoauth2(mailbox, forged).encode())


def test_a_hostile_state_cannot_add_parameters_and_logout_never_redirects_elsewhere(
    psc: tuple[PscSimulators, Path], http: httpx.Client, pki: BenchPki
) -> None:
    simulators, _run = psc
    meta = _metadata(simulators, http)
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid"}
    params |= {"code_challenge": "x" * 43, "code_challenge_method": "S256", "state": "s&code=forged#frag"}
    granted = http.post(meta["authorization_endpoint"], params=params, data={"national_id": DOCTOR})
    query = parse_qs(urlsplit(granted.headers["location"]).query)
    assert query["state"] == ["s&code=forged#frag"] and len(query["code"]) == 1 and query["code"] != ["forged"]
    _oauth, token, _nonce = _sign_in(simulators, http, pki)
    elsewhere = http.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": str(token["id_token"]), "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert elsewhere.status_code == 400  # refused, and the session is not ended by a refused request
    back = http.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": str(token["id_token"]), "post_logout_redirect_uri": REDIRECT, "state": "a&b"},
    )
    assert back.status_code == 302 and parse_qs(urlsplit(back.headers["location"]).query)["state"] == ["a&b"]


def test_redeemed_and_expired_requests_are_forgotten(psc: tuple[PscSimulators, Path], http: httpx.Client) -> None:
    simulators, _run = psc
    meta = _metadata(simulators, http)
    auth = (CLIENT_ID, simulators.client_secret)
    ask = {"scope": "openid", "login_hint": DOCTOR, "binding_message": "11", "channel": "CARD"}
    for _ in range(3):
        started = http.post(meta["backchannel_authentication_endpoint"], data=ask, auth=auth).json()
        poll = {"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
        assert http.post(meta["token_endpoint"], data=poll, auth=auth).status_code == 200
    http.post(meta["backchannel_authentication_endpoint"], data=ask, auth=auth)
    assert len(simulators.provider._ciba) == 1  # only the last, still pending: the redeemed ones are gone


def test_imap_sasl_ir_carries_the_xoauth2_response_on_the_command_line(
    campaign_hub: SimulatorHub, pki: BenchPki
) -> None:
    """RFC 4959 over the real socket: SASL-IR announced after TLS, the initial response accepted in place of the
    continuation, a forged token still refused (NO), a malformed one answered BAD, and the
    journal keeps the length of the initial response, never the token."""
    import base64
    import imaplib
    import ssl

    from bench.domains.mss.simulators import MssSimulators
    from simulators.psc.professionals import load_professionals

    psc = campaign_hub.of("psc", PscSimulators)
    mss = campaign_hub.of("mss", MssSimulators)
    token = _ciba_token(psc, pki)
    mailbox = load_professionals()[DOCTOR].mailbox
    tls = ssl.create_default_context(cafile=str(pki.ca.cert))
    imap_url = urlsplit(mss.imaps)

    def initial(who: str, bearer: str) -> str:
        return base64.b64encode(_xoauth2(who, bearer).encode()).decode()

    with imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10) as imap:
        assert "SASL-IR" in imap.capabilities
        typ, _data = imap._simple_command("AUTHENTICATE", "XOAUTH2", initial(mailbox, token))
        assert typ == "OK"
        imap.state = "AUTH"  # imaplib has no SASL-IR: its state follows the command it did not send itself
        assert imap.select("INBOX")[0] == "OK"
    with imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10) as imap:
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        tag = imap._new_tag()
        imap.send(tag + b" AUTHENTICATE XOAUTH2 " + initial(mailbox, forged).encode() + b"\r\n")
        assert imap.readline().startswith(tag + b" NO [AUTHENTICATIONFAILED]")
        tag = imap._new_tag()
        imap.send(tag + b" AUTHENTICATE XOAUTH2 not*base64\r\n")
        assert imap.readline().startswith(tag + b" BAD")
        tag = imap._new_tag()
        imap.send(tag + b" AUTHENTICATE XOAUTH2 =\r\n")  # an empty initial response
        assert imap.readline().startswith((tag + b" BAD", tag + b" NO"))
        assert imap.noop()[0] == "OK"  # the session goes on
    hostile = imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10)
    tag = hostile._new_tag()
    hostile.send(tag + b" AUTHENTICATE XOAUTH2 " + b"AAAA" * 20_000 + b"\r\n")  # beyond the 64 KiB line bound
    answer = hostile.readline()
    assert answer.startswith((tag + b" BAD", b"* BYE")) or answer == b"", answer[:80]  # refused or cut, never hung
    hostile.shutdown()
    with imaplib.IMAP4_SSL(imap_url.hostname or "", imap_url.port or 0, ssl_context=tls, timeout=10) as imap:
        assert "SASL-IR" in imap.capabilities  # the server still serves
    lines = [x for x in campaign_hub.journal.exchanges if x.transaction == "mss.imap.authenticate"]
    said = [x.meta for x in lines if x.meta.get("initial_response")]
    assert said and all(m["mechanism"] == "XOAUTH2" for m in said)
    run_dir = campaign_hub.journal.run_dir
    evidence = b"".join((run_dir / f.name).read_bytes() for x in lines for f in x.files.values())
    assert token.encode() not in evidence and initial(mailbox, token).encode() not in evidence


def test_sessions_ended_by_psc_refuse_their_refresh_and_the_journal_names_the_session(
    campaign_hub: SimulatorHub, pki: BenchPki
) -> None:
    """The bench's control ends every open session; a refresh is then refused (invalid_grant) and the journal says
    which session it was for; the MSSanté evidence names the session of the token that opened it."""
    import smtplib
    import ssl

    from bench.domains.mss.simulators import MssSimulators
    from simulators.psc.professionals import load_professionals

    psc = campaign_hub.of("psc", PscSimulators)
    mss = campaign_hub.of("mss", MssSimulators)
    with httpx.Client(verify=str(pki.ca.cert)) as http:
        meta = _metadata(psc, http)
        auth = (CLIENT_ID, psc.client_secret)
        tokens = _ciba_tokens(http, psc, binding_message="42", channel="CARD", acr_values="eidas1")
        sid = tokens["session_state"]
        smtp_url = urlsplit(mss.smtp)
        mailbox = load_professionals()[DOCTOR].mailbox
        with smtplib.SMTP(smtp_url.hostname or "", smtp_url.port or 0, timeout=10) as smtp:
            smtp.starttls(context=ssl.create_default_context(cafile=str(pki.ca.cert)))
            smtp.ehlo()
            smtp.auth(
                "XOAUTH2", lambda challenge=None: _xoauth2(mailbox, tokens["access_token"]), initial_response_ok=True
            )
        ended = http.post(f"{psc.server.url}/bench/sessions/end")
        assert ended.status_code == 200 and ended.json()["ended"] >= 1
        refused = http.post(
            meta["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=auth,
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    journal = campaign_hub.journal.exchanges
    control = [x for x in journal if x.transaction == "psc.bench_control" and x.outcome == "sessions_ended"]
    assert control and sid in control[-1].meta["sids"]
    refusal = [x for x in journal if x.transaction == "psc.token" and x.outcome == "error:invalid_grant"][-1]
    assert refusal.meta["grant_type"] == "refresh_token" and refusal.meta["sid"] == sid
    sessions = [x for x in journal if x.channel == "mss" and (x.meta.get("auth") or {}).get("psc_session") == sid]
    assert sessions, "the SMTP session opened with the token names its PSC session"


@pytest.mark.parametrize("flaw", ["signature", "audience"])
def test_a_flawed_id_token_fails_a_standard_client_verification_while_the_access_token_works(
    psc: tuple[PscSimulators, Path], http: httpx.Client, flaw: str
) -> None:
    """The bench's probe: the next sign-in's ID token is signed with a foreign key or issued for another client;
    joserfc against the published JWKS (or the audience test) refuses it, and its access token still opens UserInfo
    (a client that does not verify would go on)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    simulator, _run = psc
    meta = _metadata(simulator, http)
    assert http.post(f"{simulator.server.url}/bench/id-token/{flaw}").status_code == 204
    assert http.post(f"{simulator.server.url}/bench/id-token/other").status_code == 404
    tokens = _ciba_tokens(http, simulator, binding_message="11", channel="CARD", acr_values="eidas1")
    keys = KeySet.import_key_set(http.get(meta["jwks_uri"]).json())
    if flaw == "signature":
        with pytest.raises(JoseError):
            jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    else:
        assert jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims["aud"] != CLIENT_ID
    userinfo = http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200 and userinfo.json()["SubjectNameID"] == DOCTOR
    sound = _ciba_tokens(http, simulator, binding_message="12", channel="CARD", acr_values="eidas1")
    assert jwt.decode(sound["id_token"], keys, algorithms=["RS256"]).claims["aud"] == CLIENT_ID  # one probe only
