"""The Pro Santé Connect checks on journals written as the PSC simulator and the DMP simulator record them: each
passes on a conforming sequence and fails, with its requirement id and an actionable message, on a broken one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.checks.base import CheckContext, Evidence
from bench.domains.psc.checks import CIBA_GRANT, acr_values, dmp_identity, sign_in, sign_out
from simulators.common.journal import Journal

DOCTOR = "810002345678"
CLIENT = "segur-bench-lgc"


def _psc(journal: Journal, transaction: str, outcome: str, **meta: Any) -> None:
    journal.record("psc", transaction, {"request": (b"", "text/plain")}, outcome=outcome, meta=meta)


def _ciba_sign_in(journal: Journal, sid: str, *, acr: str | None = "eidas1", scope: str = "openid scope_all") -> None:
    asked = {"client_id": CLIENT, "scope": scope, "acr_values": acr, "login_hint": DOCTOR, "method": "POST"}
    _psc(journal, "psc.ciba_auth", "pending", **asked)
    issued = {"grant_type": CIBA_GRANT, "client_id": CLIENT, "sid": sid, "national_id": DOCTOR, "acr": "eidas1"}
    _psc(journal, "psc.token", "tokens", **issued)


def _code_sign_in(journal: Journal, sid: str, **asked: Any) -> None:
    request = {"client_id": CLIENT, "method": "GET", "acr_values": "eidas1", "code_challenge_method": "S256"}
    _psc(journal, "psc.authorize", "sign_in_page", **(request | {"state_sent": True, "nonce_sent": True} | asked))
    issued = {"grant_type": "authorization_code", "client_id": CLIENT, "sid": sid, "national_id": DOCTOR}
    _psc(journal, "psc.token", "tokens", **issued)


def _dmp_call(journal: Journal, mode: str, subject: str = DOCTOR) -> None:
    vihf = {"subject": subject, "authentication_mode": mode, "problems": []}
    journal.record("dmp", "dmp.td02", {"request": (b"<x/>", "application/soap+xml")}, outcome="ok", meta={"vihf": vihf})


def _evidence(journal: Journal, tmp_path: Path) -> Evidence:
    journal.close()
    return Evidence(tmp_path, journal.exchanges)


def test_a_ciba_sign_in_and_a_code_flow_with_pkce_state_and_nonce_pass(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    _code_sign_in(journal, "s2")
    findings = sign_in(_evidence(journal, tmp_path), CheckContext())
    assert [f.outcome for f in findings] == ["pass"] and findings[0].requirements == ("SEC-002",)
    assert "CIBA" in findings[0].message and "PKCE" in findings[0].message


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ({"code_challenge_method": None}, "PKCE"),
        ({"state_sent": False}, "state"),
        ({"nonce_sent": False}, "nonce"),
    ],
)
def test_a_code_flow_without_pkce_state_or_nonce_fails_sec_002(
    tmp_path: Path, asked: dict[str, Any], said: str
) -> None:
    journal = Journal(tmp_path)
    _code_sign_in(journal, "s1", **asked)
    findings = sign_in(_evidence(journal, tmp_path), CheckContext())
    assert [f.outcome for f in findings] == ["fail"] and findings[0].requirements == ("SEC-002",)
    assert said in findings[0].message


def test_no_sign_in_or_a_ciba_request_without_openid_fails(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _psc(journal, "psc.token", "error:authorization_pending", grant_type=CIBA_GRANT, client_id=CLIENT)
    findings = sign_in(_evidence(journal, tmp_path), CheckContext())
    assert findings[0].outcome == "fail" and "aucune connexion" in findings[0].message
    other = tmp_path / "other"
    journal = Journal(other)
    _ciba_sign_in(journal, "s1", scope="scope_all")
    findings = sign_in(_evidence(journal, other), CheckContext())
    assert findings[0].outcome == "fail" and "openid" in findings[0].message


def test_sign_out_must_end_the_psc_session(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    findings = sign_out(_evidence(journal, tmp_path), CheckContext())
    assert findings[0].outcome == "fail" and "end_session_endpoint" in findings[0].message
    other = tmp_path / "other"
    journal = Journal(other)
    _ciba_sign_in(journal, "s1")
    _psc(journal, "psc.logout", "session_ended", sid="s1")
    findings = sign_out(_evidence(journal, other), CheckContext())
    assert [f.outcome for f in findings] == ["pass"] and findings[0].requirements == ("SEC-002",)


@pytest.mark.parametrize(("acr", "outcome"), [("eidas1", "pass"), (None, "fail"), ("eidas2", "fail")])
def test_acr_values_must_ask_for_eidas1(tmp_path: Path, acr: str | None, outcome: str) -> None:
    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1", acr=acr)
    findings = acr_values(_evidence(journal, tmp_path), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("SEC-012",)
    if outcome == "fail":
        assert "acr_values=eidas1" in findings[0].message and "SC.PSC.08" in findings[0].message


@pytest.mark.parametrize(
    ("mode", "subject", "signed_out", "outcome", "said"),
    [
        ("INDIRECTE_RENFORCEE", DOCTOR, False, "pass", "mode AIR"),
        ("INDIRECTE", DOCTOR, False, "fail", "mode AIR"),
        ("INDIRECTE_RENFORCEE", "810000000017", False, "fail", "SubjectNameID"),
        ("INDIRECTE_RENFORCEE", DOCTOR, True, "fail", "sans session"),
        ("INDIRECTE", DOCTOR, True, "omit", "pendant une session"),  # signed out: its own means are fine
    ],
)
def test_dmp_calls_carry_the_psc_identity_in_the_air_mode(
    tmp_path: Path, mode: str, subject: str, signed_out: bool, outcome: str, said: str
) -> None:
    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    if signed_out:
        _psc(journal, "psc.logout", "session_ended", sid="s1")
    _dmp_call(journal, mode, subject)
    findings = dmp_identity(_evidence(journal, tmp_path), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("DMP-035",)
    assert said in findings[0].message


def test_without_a_psc_session_the_dmp_identity_is_not_judged(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _dmp_call(journal, "INDIRECTE")
    findings = dmp_identity(_evidence(journal, tmp_path), CheckContext())
    assert [f.outcome for f in findings] == ["omit"]


def _imap(journal: Journal, command: str, sid: str, connection: str) -> None:
    meta = {"command": command, "psc_session": sid, "connection": connection}
    journal.record("mss", f"mss.imap.{command}", {"request": (b"a1", "text/plain")}, outcome="ok", meta=meta)


def _refresh_refused(journal: Journal, sid: str) -> None:
    _psc(journal, "psc.token", "error:invalid_grant", grant_type="refresh_token", client_id=CLIENT, sid=sid)


@pytest.mark.parametrize(
    ("after_refusal", "outcome", "said"),
    [
        ([("authenticate", "s2", "c2"), ("select", "s2", "c2")], "pass", "rouvertes"),
        ([("authenticate", "s1", "c2"), ("select", "s1", "c2")], "fail", "CONF.10"),  # a new connection, old token
        ([("select", "s1", "c1"), ("authenticate", "s2", "c2")], "fail", "CONF.10"),  # the old connection kept open
        ([], "fail", "CONF.11"),  # never reopened
    ],
)
def test_mss_sessions_end_with_the_psc_session_and_reopen_under_a_new_one(
    tmp_path: Path, after_refusal: list[tuple[str, str, str]], outcome: str, said: str
) -> None:
    from bench.domains.psc.checks import mss_follows_session

    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    _imap(journal, "authenticate", "s1", "c1")
    _psc(journal, "psc.bench_control", "sessions_ended", sids=["s1"])
    _refresh_refused(journal, "s1")
    for command, sid, connection in after_refusal:
        _imap(journal, command, sid, connection)
    findings = mss_follows_session(_evidence(journal, tmp_path), CheckContext())
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-018",)
    assert said in findings[0].message


def test_without_a_refused_refresh_mss_018_is_not_judged(tmp_path: Path) -> None:
    from bench.domains.psc.checks import mss_follows_session

    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    _imap(journal, "authenticate", "s1", "c1")
    assert [f.outcome for f in mss_follows_session(_evidence(journal, tmp_path), CheckContext())] == ["omit"]


@pytest.mark.parametrize(
    ("use", "outcome"),
    [
        (None, "pass"),
        ("refresh", "fail"),
        ("mss", "fail"),
        ("dmp", "fail"),
    ],
)
def test_a_sign_in_whose_id_token_does_not_verify_must_not_serve(tmp_path: Path, use: str | None, outcome: str) -> None:
    from bench.domains.psc.checks import id_token_verified

    journal = Journal(tmp_path)
    issued = {"grant_type": CIBA_GRANT, "client_id": CLIENT, "sid": "s1", "national_id": DOCTOR}
    _psc(journal, "psc.token", "tokens", **issued, id_token_flaw="signature")
    if use == "refresh":
        _psc(journal, "psc.token", "tokens", grant_type="refresh_token", client_id=CLIENT, sid="s1")
    elif use == "mss":
        _imap(journal, "authenticate", "s1", "c1")
    elif use == "dmp":
        _dmp_call(journal, "INDIRECTE_RENFORCEE")
    _ciba_sign_in(journal, "s2")  # the next, sound sign-in
    _imap(journal, "authenticate", "s2", "c2")
    findings = id_token_verified(_evidence(journal, tmp_path), CheckContext())
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("SEC-002",)
    if outcome == "fail":
        assert "clé étrangère" in findings[0].message and "JWKS" in findings[0].message


def test_the_id_token_check_is_not_judged_without_a_probe(tmp_path: Path) -> None:
    from bench.domains.psc.checks import id_token_verified

    journal = Journal(tmp_path)
    _ciba_sign_in(journal, "s1")
    assert [f.outcome for f in id_token_verified(_evidence(journal, tmp_path), CheckContext())] == ["omit"]
