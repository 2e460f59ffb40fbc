"""The MSSanté simulator over its real sockets, driven by stock clients (smtplib, imaplib, curl from Debian): TLS and
authentication rules, MSSanté addressing, DSN and MDN, evidence of every message and mailbox operation, and a fuzz
that never crashes the servers nor loses an accepted message."""

from __future__ import annotations

import imaplib
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.domains.mss.simulators import MssSimulators
from bench.runner.simulators import SimulatorHub
from simulators.common.journal import Journal, read_part
from simulators.common.pki import BenchPki
from simulators.mss.addresses import CANDIDATE_MAILBOX, CORRESPONDENT
from simulators.mss.app import MssSimulator

PATIENT = "285063306307754@patient.mssante.fr"  # LEFEVRE, test identity of the INSi simulator


@pytest.fixture
def mss(tmp_path: Path, pki: BenchPki) -> Iterator[MssSimulator]:
    journal = Journal(tmp_path)
    simulator = MssSimulator(journal, pki).start()
    yield simulator
    simulator.stop()
    journal.close()


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _endpoints(mss: MssSimulator) -> tuple[int, int, int, int]:
    e = mss.endpoints
    assert e is not None
    return _port(e.smtp), _port(e.smtps), _port(e.imap), _port(e.imaps)


def _message(to: str = CORRESPONDENT, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = CANDIDATE_MAILBOX
    message["To"] = to
    message["Subject"] = "Compte rendu"
    message["Message-ID"] = "<t1@segur-bench.mssante.fr>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Bonjour")
    return message


def _wait_for(mss: MssSimulator, transaction: str, count: int = 1) -> list[object]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [x for x in mss.journal.exchanges if x.transaction == transaction]
        if len(found) >= count:
            return list(found)
        time.sleep(0.02)
    raise AssertionError(f"{transaction} jamais journalisé")


def test_smtplib_starttls_auth_send_is_recorded_with_dsn_and_mdn(mss: MssSimulator, pki: BenchPki) -> None:
    smtp, _, _, imaps = _endpoints(mss)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.ehlo()
        assert "auth" not in client.esmtp_features  # no mechanism is offered before TLS
        client.starttls(context=pki.client_context())
        client.ehlo()
        assert "dsn" in client.esmtp_features
        client.login(CANDIDATE_MAILBOX, mss.password)
        message = _message(Disposition_Notification_To=CANDIDATE_MAILBOX)
        client.send_message(message, rcpt_options=["NOTIFY=SUCCESS"])
    accepted = mss.journal.exchanges[0]
    assert accepted.transaction == "mss.smtp.message"
    assert accepted.files["message"].name.endswith(".eml")
    assert accepted.peer["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert accepted.meta["auth"] == {"mechanism": "PLAIN", "user": CANDIDATE_MAILBOX}
    assert b"Subject: Compte rendu" in (read_part(mss.journal.run_dir, accepted, "message") or b"")
    notices = {x.meta["kind"] for x in mss.journal.exchanges if x.transaction == "mss.delivery"}
    assert notices == {"dsn", "mdn"}
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=pki.client_context(), timeout=10) as client:
        client.login(CANDIDATE_MAILBOX, mss.password)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "ALL")
        reports = [client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")[1] for uid in found[0].split()]
    bodies = [r[0][1] for r in reports if isinstance(r[0], tuple)]
    assert sum(b"message/delivery-status" in body for body in bodies) == 1  # DSN (RFC 3464)
    assert sum(b"message/disposition-notification" in body for body in bodies) == 1  # MDN (RFC 8098)


def test_smtp_refuses_what_an_mssante_operator_refuses(mss: MssSimulator, pki: BenchPki) -> None:
    smtp, _, _, _ = _endpoints(mss)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.ehlo()
        code, _ = client.docmd("AUTH", "PLAIN AGFiYwBkZWY=")
        assert code == 530  # STARTTLS first (RFC 3207)
        client.starttls(context=pki.client_context())
        client.ehlo()
        assert client.docmd("MAIL", f"FROM:<{CANDIDATE_MAILBOX}>")[0] == 530  # AUTH first
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(CANDIDATE_MAILBOX, "wrong")
        client.login(CANDIDATE_MAILBOX, mss.password)
        assert client.docmd("MAIL", f"FROM:<{CORRESPONDENT}>")[0] == 553  # only the authenticated mailbox sends
        assert client.docmd("MAIL", f"FROM:<{CANDIDATE_MAILBOX}>")[0] == 250
        bad_key = client.docmd("RCPT", "TO:<285063306307799@patient.mssante.fr>")
        assert bad_key[0] == 550 and b"cle" in bad_key[1]
        assert client.docmd("RCPT", "TO:<someone@gmail.com>")[0] == 550
        assert client.docmd("RCPT", f"TO:<{PATIENT}>")[0] == 250
    session = _wait_for(mss, "mss.smtp.session")[0]
    transcript = (read_part(mss.journal.run_dir, session, "transcript") or b"").decode()  # type: ignore[arg-type]
    assert "AUTH PLAIN ********" in transcript and "AGFiYwBkZWY=" not in transcript


def test_implicit_tls_with_client_certificate_sasl_external(mss: MssSimulator, pki: BenchPki) -> None:
    _, smtps, _, _ = _endpoints(mss)
    with smtplib.SMTP_SSL("127.0.0.1", smtps, context=pki.client_context(), timeout=10) as client:
        client.ehlo()
        assert client.docmd("AUTH", "EXTERNAL =")[0] == 235
        client.sendmail(CANDIDATE_MAILBOX, [PATIENT], _message(PATIENT).as_bytes())
    accepted = _wait_for(mss, "mss.smtp.message")[0]
    assert accepted.meta["auth"]["mechanism"] == "EXTERNAL"  # type: ignore[attr-defined]
    assert "ins:285063306307754" in accepted.subjects  # type: ignore[attr-defined]


def test_imap_requires_tls_and_records_fetch_flag_delete(mss: MssSimulator, pki: BenchPki) -> None:
    _, _, imap, imaps = _endpoints(mss)
    mss.deliver(_message(CANDIDATE_MAILBOX).as_bytes(), kind="document", subjects=[])
    with imaplib.IMAP4("127.0.0.1", imap, timeout=10) as client:
        assert "LOGINDISABLED" in client.capabilities
        with pytest.raises(imaplib.IMAP4.error):
            client.login(CANDIDATE_MAILBOX, mss.password)
        client.starttls(ssl_context=pki.client_context())
        client.login(CANDIDATE_MAILBOX, mss.password)
        client.logout()
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=pki.client_context(), timeout=10) as client:
        client.login(CANDIDATE_MAILBOX, mss.password)
        client.select("INBOX")
        assert client.fetch("1", "(RFC822)")[0] == "OK"
        assert client.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert client.expunge()[0] == "OK"
        assert client.select("INBOX")[1] == [b"0"]
    recorded = [x.transaction for x in mss.journal.exchanges]
    for operation in ("mss.imap.login", "mss.imap.fetch", "mss.imap.store", "mss.imap.expunge"):
        assert operation in recorded
    login = next(x for x in mss.journal.exchanges if x.transaction == "mss.imap.login" and x.outcome == "ok")
    assert mss.password.encode() not in (read_part(mss.journal.run_dir, login, "request") or b"")


def test_imap_sasl_external_with_the_client_certificate(mss: MssSimulator, pki: BenchPki) -> None:
    _, _, _, imaps = _endpoints(mss)
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=pki.client_context(), timeout=10) as client:
        assert "AUTH=EXTERNAL" in client.capabilities
        assert client.authenticate("EXTERNAL", lambda _challenge: b"")[0] == "OK"
        assert client.select("INBOX")[0] == "OK"
    anonymous = ssl.create_default_context(cafile=str(pki.ca.cert))  # trusts the server, presents no certificate
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=anonymous, timeout=10) as client:
        assert "AUTH=EXTERNAL" not in client.capabilities  # mbsync would pick it, fail and give up
        assert "AUTH=PLAIN" in client.capabilities
        with pytest.raises(imaplib.IMAP4.error):
            client.authenticate("EXTERNAL", lambda _challenge: b"")
    logins = [x for x in mss.journal.exchanges if x.transaction == "mss.imap.authenticate"]
    assert [x.outcome for x in logins] == ["ok", "refused"] and logins[0].meta["user"] == CANDIDATE_MAILBOX
    _, _, imap, _ = _endpoints(mss)
    for context, offered in ((pki.client_context(), True), (anonymous, False)):
        with imaplib.IMAP4("127.0.0.1", imap, timeout=10) as client:
            assert "AUTH=EXTERNAL" not in client.capabilities  # nothing is offered before TLS
            client.starttls(ssl_context=context)
            assert ("AUTH=EXTERNAL" in client.capabilities) is offered


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl (Debian package) absent")
def test_curl_sends_and_reads_over_the_real_sockets(mss: MssSimulator, pki: BenchPki, tmp_path: Path) -> None:
    """curl, a stock command-line client from Debian, talks to the simulator unchanged: SMTP with STARTTLS required,
    then IMAP over implicit TLS, both with the bench's CA and client certificate."""
    e = mss.endpoints
    assert e is not None
    mail = tmp_path / "mail.eml"
    mail.write_bytes(_message(CANDIDATE_MAILBOX).as_bytes().replace(b"\n", b"\r\n"))
    tls = ["--cacert", str(pki.ca.cert), "--cert", str(pki.client.cert), "--key", str(pki.client.key)]
    user = ["--user", f"{CANDIDATE_MAILBOX}:{mss.password}"]
    sent = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", e.smtp, *tls, *user, "--mail-from", CANDIDATE_MAILBOX,
         "--mail-rcpt", CANDIDATE_MAILBOX, "--upload-file", str(mail)],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    _wait_for(mss, "mss.smtp.message")  # delivered locally: the candidate wrote to its own mailbox
    fetched = subprocess.run(
        ["curl", "-sS", f"{e.imaps}/INBOX;MAILINDEX=1", *tls, *user], capture_output=True, timeout=30, check=False
    )
    assert fetched.returncode == 0, fetched.stderr
    assert b"Subject: Compte rendu" in fetched.stdout
    refused = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", e.smtp_untrusted, "--cacert", str(pki.ca.cert), *user,
         "--mail-from", CANDIDATE_MAILBOX, "--mail-rcpt", CANDIDATE_MAILBOX, "--upload-file", str(mail)],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert refused.returncode != 0  # the rogue server's certificate does not verify
    assert not [x for x in mss.journal.exchanges if x.channel == "mss-untrusted" and x.transaction.endswith("message")]


def _raw(port: int, payload: bytes, *, tls: ssl.SSLContext | None = None, bye: bytes = b"") -> bytes:
    """Send ``payload`` (then ``bye``, which makes a sane server close) and return all the server said."""
    payload += bye
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        sock: socket.socket = tls.wrap_socket(raw, server_hostname="localhost") if tls else raw
        sock.settimeout(0.5)
        received = b""
        try:
            received += sock.recv(4096)
            sock.sendall(payload)
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, OSError):
            pass
        return received


HOSTILE = [
    b"\x00\xff\xfe garbage\r\n",
    b"EHLO x\r\n" + b"A" * 100_000 + b"\r\n",
    b"a1 LOGIN {999999999}\r\n",
    b"a1 FETCH 1:* (BODY[]\r\n",
    b'a1 SELECT "INBOX\r\n' * 10,
    "Subject: é\r\n\r\n".encode("latin-1"),
    b"QUIT\r\n",
]


def _still_serving(mss: MssSimulator, pki: BenchPki) -> None:
    smtp, _, _, imaps = _endpoints(mss)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.starttls(context=pki.client_context())
        client.login(CANDIDATE_MAILBOX, mss.password)
    with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=pki.client_context(), timeout=10) as client:
        client.login(CANDIDATE_MAILBOX, mss.password)


def test_hostile_input_gets_protocol_errors_and_loses_nothing(mss: MssSimulator, pki: BenchPki) -> None:
    smtp, _, imap, imaps = _endpoints(mss)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.starttls(context=pki.client_context())
        client.login(CANDIDATE_MAILBOX, mss.password)
        broken = (
            b"From: " + CANDIDATE_MAILBOX.encode() + b"\r\nSubject: \xe9\xff\r\nContent-Type: multipart/mixed\r\n\r\nx"
        )
        client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], broken)  # malformed MIME, non-UTF-8 header: accepted
        with pytest.raises(smtplib.SMTPException):
            client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], b"x" * 1200 + b"\r\n")  # line over RFC 5321 limit
    for payload in HOSTILE:
        assert _raw(smtp, payload, bye=b"\r\nQUIT\r\n")  # a greeting and protocol errors, never silence
        assert _raw(imap, payload, bye=b"\r\nz LOGOUT\r\n")
        _raw(imaps, payload, tls=pki.client_context(), bye=b"\r\nz LOGOUT\r\n")
    _still_serving(mss, pki)
    messages = [x for x in mss.journal.exchanges if x.transaction == "mss.smtp.message"]
    assert len(messages) == 1 and read_part(mss.journal.run_dir, messages[0], "message") is not None


def test_oversized_messages_are_refused_and_the_server_stays_up(mss: MssSimulator, pki: BenchPki) -> None:
    smtp, _, _, _ = _endpoints(mss)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as client:
        client.starttls(context=pki.client_context())
        client.ehlo()
        client.login(CANDIDATE_MAILBOX, mss.password)
        assert client.docmd("MAIL", f"FROM:<{CANDIDATE_MAILBOX}> SIZE=999999999")[0] == 552  # declared too big
        client.rset()
        huge = b"Subject: x\r\n\r\n" + (b"A" * 998 + b"\r\n") * (31 * 1024)  # 31 MiB, over the 30 MiB limit
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], huge)  # smtplib declares SIZE: refused at MAIL
        client.mail(CANDIDATE_MAILBOX)  # undeclared size: refused once the data passes the limit
        client.rcpt(CORRESPONDENT)
        assert client.data(huge)[0] == 552
    _still_serving(mss, pki)
    assert not [x for x in mss.journal.exchanges if x.transaction == "mss.smtp.message"]


def test_a_lowered_size_limit_is_announced_and_enforced_then_restored(mss: MssSimulator, pki: BenchPki) -> None:
    """The bench's limit_message_size: new sessions announce the operator's limit in EHLO (SIZE, RFC 1870) and refuse
    a larger message (552); a scenario's reset brings the usual limit back."""
    smtp, _, _, _ = _endpoints(mss)
    message = _message().as_bytes()
    mss.limit_message_size(len(message) - 1)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.starttls(context=pki.client_context())
        client.ehlo()
        assert client.esmtp_features["size"] == str(len(message) - 1)
        client.login(CANDIDATE_MAILBOX, mss.password)
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], message)
    mss.reset()
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.starttls(context=pki.client_context())
        client.ehlo()
        assert client.esmtp_features["size"] == str(30 * 1024 * 1024)
        client.login(CANDIDATE_MAILBOX, mss.password)
        assert not client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], message)


RESENT = "<renvoi-1@cabinet.segur-bench.local>"


def test_a_deferred_submission_is_refused_451_and_its_resend_accepted(mss: MssSimulator, pki: BenchPki) -> None:
    """The bench's defer_next_messages: the next submission gets a temporary failure (451, RFC 5321 §4.2.5) and is not
    taken; the session's record names its Message-ID; the same message sent again is accepted; a reset clears it."""
    smtp, _, _, _ = _endpoints(mss)
    message = _message()
    message.replace_header("Message-ID", RESENT)
    mss.defer_next_messages(1)
    for expected in (451, 250):
        with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
            client.starttls(context=pki.client_context())
            client.login(CANDIDATE_MAILBOX, mss.password)
            if expected == 451:
                with pytest.raises(smtplib.SMTPDataError) as refused:
                    client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], message.as_bytes())
                assert refused.value.smtp_code == 451
            else:
                assert not client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], message.as_bytes())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sessions = [x for x in mss.journal.exchanges if x.transaction == "mss.smtp.session"]
        if len(sessions) >= 2:
            break
        time.sleep(0.05)
    assert sessions[0].outcome == "deferred" and sessions[0].meta["deferred"] == [RESENT]
    assert sessions[0].meta["deferred_subjects"] == ["Compte rendu"]
    assert len([x for x in mss.journal.exchanges if x.transaction == "mss.smtp.message"]) == 1
    mss.defer_next_messages(3)
    mss.reset()
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.starttls(context=pki.client_context())
        client.login(CANDIDATE_MAILBOX, mss.password)
        assert not client.sendmail(CANDIDATE_MAILBOX, [CORRESPONDENT], message.as_bytes())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=2048))
def test_fuzzed_bytes_never_crash_the_servers(mss: MssSimulator, pki: BenchPki, noise: bytes) -> None:
    smtp, _, imap, _ = _endpoints(mss)
    _raw(smtp, noise, bye=b"\r\nQUIT\r\n")
    _raw(imap, noise, bye=b"\r\nz LOGOUT\r\n")
    assert _raw(smtp, b"NOOP\r\n", bye=b"QUIT\r\n").startswith(b"220")
    assert _raw(imap, b"a NOOP\r\n", bye=b"z LOGOUT\r\n").startswith(b"* OK")


def test_ports_and_password_stay_the_same_from_one_start_to_the_next(
    tmp_path: Path, pki: BenchPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real software is configured once: fixed ports for every listener, and a password that does not change."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    seen = []
    for run in ("first", "second"):
        with SimulatorHub(tmp_path / run, pki, ports={"mss_imaps": free}) as hub:
            simulators = hub.of("mss", MssSimulators)
            assert simulators.imaps == f"imaps://127.0.0.1:{free}"
            seen.append(simulators.server.password)
    assert seen[0] == seen[1] and len(seen[0]) >= 16
    monkeypatch.setenv("SEGUR_BENCH_MSS_PASSWORD", "mot-de-passe-choisi")
    with SimulatorHub(tmp_path / "third", pki) as hub:
        simulators = hub.of("mss", MssSimulators)
        assert simulators.server.password == "mot-de-passe-choisi"
        _, _, _, imaps = _endpoints(simulators.server)
        with imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=pki.client_context(), timeout=10) as client:
            assert client.login(CANDIDATE_MAILBOX, "mot-de-passe-choisi")[0] == "OK"
