"""MSSanté checks and the XDM reader on hostile or broken input: each gives a finding with its requirement id and a
message a vendor can act on, never a crash. (Pass and fail of each check on the reference candidate, with and
without its defect switch, are proven by the campaign tests.)"""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench.checks.base import CheckContext, Evidence, Finding
from bench.domains.mss.checks import (
    cipher_suites,
    parse_mail,
    smtp_submission,
    untrusted_refused,
    xdm_package,
    xdm_problems,
)
from bench.domains.mss.inbox import build_delivery
from simulators.common.journal import Journal
from simulators.insi.identities import load_identities
from simulators.mss.addresses import CANDIDATE_MAILBOX
from simulators.mss.xdm import MAX_RATIO, XdmError, read_xdm


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"IHE_XDM/SUBSET01/../../evil.xml": b"x"}, "remontée de dossier"),
        ({"/etc/passwd": b"x"}, "chemin absolu"),
        ({"C:/boot.ini": b"x"}, "chemin absolu"),
        ({"bomb.xml": b"\0" * (MAX_RATIO * 2000)}, "bombe zip"),
        ({f"f{n}": b"x" for n in range(300)}, "entrées"),
    ],
)
def test_hostile_archives_are_refused_before_inflating(entries: dict[str, bytes], expected: str) -> None:
    with pytest.raises(XdmError, match=expected):
        read_xdm(_zip(entries))


def test_truncated_and_non_zip_attachments_are_refused() -> None:
    whole = _zip({"README.TXT": b"hello" * 100})
    for data in (b"not a zip at all", whole[: len(whole) // 2], b""):
        with pytest.raises(XdmError):
            read_xdm(data)


def _person_package() -> bytes:
    person = load_identities().by_id("lefevre")
    delivery = build_delivery(person, "consultation-report")
    message, _ = parse_mail(delivery.data)
    assert message is not None
    attachment = next(p for p in message.walk() if p.get_filename() == "IHE_XDM.ZIP")
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def test_a_bench_built_package_is_complete_and_consistent() -> None:
    assert xdm_problems(_person_package(), CheckContext()) == []


def test_a_package_whose_document_changed_fails_on_hash_and_size() -> None:
    archive = zipfile.ZipFile(io.BytesIO(_person_package()))
    entries = {info.filename: archive.read(info) for info in archive.infolist()}
    entries["IHE_XDM/SUBSET01/DOC0001.XML"] += b"<!-- modifie -->"
    del entries["README.TXT"]
    problems = " | ".join(xdm_problems(_zip(entries), CheckContext()))
    assert "hash" in problems and "size" in problems and "README.TXT absent" in problems


def _evidence(tmp_path: Path, message: bytes, *, tls: bool, auth: bool, channel: str = "mss") -> Evidence:
    journal = Journal(tmp_path)
    journal.record(
        channel,
        "mss.smtp.message",
        {"message": (message, "message/rfc822")},
        peer={"tls": {"tls": tls, "version": "TLSv1.3" if tls else None}},
        meta={"auth": {"mechanism": "PLAIN", "user": CANDIDATE_MAILBOX} if auth else {}},
    )
    journal.close()
    return Evidence(tmp_path, journal.exchanges)


def test_submission_in_clear_without_auth_or_xdm_fails_with_each_reason(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "autre@segur-bench.mssante.fr"
    message.set_content("pas de pièce jointe")
    findings = smtp_submission(_evidence(tmp_path, message.as_bytes(), tls=False, auth=False), CheckContext())
    messages = " | ".join(f.message for f in findings)
    assert {f.outcome for f in findings} == {"fail"} and {f.requirements for f in findings} == {("MSS-001",)}
    for reason in ("non chiffrée", "sans authentification", "Date absent", "IHE_XDM.ZIP absente"):
        assert reason in messages


def test_malformed_mime_and_broken_zip_are_findings_not_crashes(tmp_path: Path) -> None:
    raw = (
        b"From: " + CANDIDATE_MAILBOX.encode() + b"\r\nSubject: \xe9\xff\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=IHE_XDM.ZIP\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBAo=\r\n"
    )
    evidence = _evidence(tmp_path, raw, tls=True, auth=True)
    submission = smtp_submission(evidence, CheckContext())
    assert any("structure MIME" in f.message for f in submission)
    package = xdm_package(evidence, CheckContext())
    assert [f.outcome for f in package] == ["fail"] and package[0].requirements == ("MSS-002",)


def test_a_message_to_the_rogue_server_fails_mss_006(tmp_path: Path) -> None:
    evidence = _evidence(tmp_path, b"Subject: x\r\n\r\nx", tls=True, auth=True, channel="mss-untrusted")
    findings = untrusted_refused(evidence, CheckContext())
    assert [f.outcome for f in findings] == ["fail"] and findings[0].requirements == ("MSS-006",)


@pytest.mark.parametrize(
    ("cipher", "channel", "outcome"),
    [
        ("ECDHE-RSA-AES256-GCM-SHA384", "mss", "pass"),
        ("AES256-SHA", "mss", "fail"),  # RSA key exchange: not in SC.MSS/CONF.03
        ("ECDHE-RSA-AES256-GCM-SHA384", "mss-weak", "fail"),  # a session with the server offering no listed suite
    ],
)
def test_cipher_suites_are_judged_against_sc_mss_conf_03(
    tmp_path: Path, cipher: str, channel: str, outcome: str
) -> None:
    journal = Journal(tmp_path)
    journal.record(
        channel,
        "mss.smtp.session",
        {"transcript": (b"EHLO x\r\n", "text/plain")},
        peer={"tls": {"tls": True, "version": "TLSv1.2", "cipher": cipher}},
    )
    journal.close()
    findings = cipher_suites(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("MSS-013",)
    if outcome == "fail":
        assert "CONF.03" in findings[0].message


@pytest.mark.parametrize(
    ("mechanism", "imap_line", "tls", "outcome"),
    [
        ("XOAUTH2", b"a1 AUTHENTICATE XOAUTH2", True, "pass"),
        ("PLAIN", b"a1 AUTHENTICATE XOAUTH2", True, "fail"),  # the message, sent with the mailbox password
        ("XOAUTH2", b"a1 AUTHENTICATE PLAIN", True, "fail"),  # the mailbox, opened with the password
        ("XOAUTH2", b"a1 AUTHENTICATE XOAUTH2", False, "fail"),
    ],
)
def test_mss_sessions_must_be_opened_by_xoauth2_with_the_psc_token(
    tmp_path: Path, mechanism: str, imap_line: bytes, tls: bool, outcome: str
) -> None:
    from bench.domains.mss.checks import psc_authentication

    journal = Journal(tmp_path)
    journal.record(
        "mss",
        "mss.smtp.message",
        {"message": (b"Subject: x\r\n\r\nx", "message/rfc822")},
        peer={"tls": {"tls": tls, "version": "TLSv1.2" if tls else None}},
        meta={"auth": {"mechanism": mechanism, "user": CANDIDATE_MAILBOX}},
    )
    journal.record(
        "mss",
        "mss.imap.authenticate",
        {"request": (imap_line, "text/plain"), "response": (b"a1 OK", "text/plain")},
        outcome="ok",
    )
    journal.close()
    findings = psc_authentication(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("MSS-015",)
    if outcome == "fail":
        assert "XOAUTH2" in findings[0].message or "TLS" in findings[0].message


@pytest.mark.parametrize(
    ("mechanism", "initial_response", "outcome"),
    [("XOAUTH2", True, "pass"), ("PLAIN", True, "pass"), ("XOAUTH2", False, "fail"), (None, False, "omit")],
)
def test_sasl_ir_is_judged_on_each_authenticate(
    tmp_path: Path, mechanism: str | None, initial_response: bool, outcome: str
) -> None:
    from bench.domains.mss.checks import sasl_ir

    journal = Journal(tmp_path)
    if mechanism is None:  # the mailbox opened by LOGIN: no AUTHENTICATE to judge
        line = b"a1 LOGIN cabinet ********"
        journal.record("mss", "mss.imap.login", {"request": (line, "text/plain")}, outcome="ok")
    else:
        line = b"a1 AUTHENTICATE " + mechanism.encode() + (b" [SASL-IR: 900 octets]" if initial_response else b"")
        journal.record(
            "mss",
            "mss.imap.authenticate",
            {"request": (line, "text/plain"), "response": (b"a1 OK", "text/plain")},
            outcome="ok",
            meta={"mechanism": mechanism, "initial_response": initial_response},
        )
    journal.close()
    findings = sasl_ir(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("MSS-017",)
    if outcome == "fail":
        assert "SASL-IR" in findings[0].message and "CONF.09" in findings[0].message


@pytest.mark.parametrize(
    ("header", "check", "outcome"),
    [
        ("X-MSS-MES: FIN\r\n", "fin", "pass"),
        ("", "fin", "fail"),
        ("X-MSS-MES: fin\r\n", "fin", "fail"),  # three capital letters
        ("", "absent", "pass"),
        ("X-MSS-MES: FIN\r\n", "absent", "fail"),
    ],
)
def test_x_mss_mes_follows_the_professional_s_wish(tmp_path: Path, header: str, check: str, outcome: str) -> None:
    from bench.domains.mss.checks import x_mss_mes_absent, x_mss_mes_fin

    journal = Journal(tmp_path)
    message = f"From: a@b.mssante.fr\r\nSubject: x\r\n{header}\r\nx\r\n".encode()
    sent = journal.record(
        "mss",
        "mss.smtp.message",
        {"message": (message, "message/rfc822")},
        meta={"rcpt_tos": ["290049935001718@patient.mssante.fr"]},
    )
    journal.close()
    judge = x_mss_mes_fin if check == "fin" else x_mss_mes_absent
    findings = judge(Evidence(tmp_path, journal.exchanges), CheckContext(focus=sent))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-021",)
    if outcome == "fail":
        assert "X-MSS-MES" in findings[0].message


ORIGINAL = "<1.2@segur-bench.mssante.fr>"


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        (f"In-Reply-To: {ORIGINAL}\r\nReferences: {ORIGINAL}\r\n", "pass"),
        (f"In-Reply-To: {ORIGINAL}\r\nReferences: <0.1@a.fr> {ORIGINAL}\r\n", "pass"),  # a longer thread
        ("", "fail"),
        (f"In-Reply-To: {ORIGINAL}\r\n", "fail"),  # References left out
        ("In-Reply-To: <9.9@a.fr>\r\nReferences: <9.9@a.fr>\r\n", "fail"),  # another message
    ],
)
def test_a_reply_is_threaded_to_the_message_it_answers(tmp_path: Path, headers: str, outcome: str) -> None:
    import json

    from bench.domains.mss import REPLY_VIEW
    from bench.domains.mss.checks import reply_headers

    journal = Journal(tmp_path)
    asked = json.dumps({"message_id": ORIGINAL, "subject": "Document"}).encode()
    journal.record("candidate", REPLY_VIEW.transaction, {"reply": (asked, "application/json")})
    message = f"From: a@b.mssante.fr\r\nMessage-ID: <3.4@b.mssante.fr>\r\n{headers}Subject: Re: x\r\n\r\nok\r\n"
    sent = journal.record("mss", "mss.smtp.message", {"message": (message.encode(), "message/rfc822")})
    journal.close()
    findings = reply_headers(Evidence(tmp_path, journal.exchanges), CheckContext(focus=sent))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-023",)
    if outcome == "fail":
        assert "RFC 5322" in findings[0].message


@pytest.mark.parametrize(
    ("head", "body", "outcome"),
    [
        ("Message-ID: <3.4@b.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n", "ok", "pass"),
        (
            "Message-ID: <3.4@b.fr>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nok\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>ok</p>\r\n--b--",
            "pass",
        ),
        ("Message-ID: <3.4@b.fr>\r\nContent-Type: text/html\r\n", "<p>ok</p>", "fail"),  # HTML alone
        ("Content-Type: text/plain\r\n", "ok", "fail"),  # no Message-ID
        ("Message-ID: 3.4-b.fr\r\nContent-Type: text/plain\r\n", "ok", "fail"),  # not <left@right>
    ],
)
def test_message_id_and_plain_text(tmp_path: Path, head: str, body: str, outcome: str) -> None:
    from bench.domains.mss.checks import text_and_message_id

    journal = Journal(tmp_path)
    message = f"From: a@b.mssante.fr\r\nSubject: x\r\n{head}\r\n{body}\r\n"
    sent = journal.record("mss", "mss.smtp.message", {"message": (message.encode(), "message/rfc822")})
    journal.close()
    findings = text_and_message_id(Evidence(tmp_path, journal.exchanges), CheckContext(focus=sent))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-023",)


EHLO = "S: 250-smtp.segur-bench.mssante.fr\nS: 250-SIZE {limit}\nS: 250 HELP\n"


@pytest.mark.parametrize(
    ("limit", "commands", "outcome"),
    [
        (2048, "C: QUIT\nS: 221 Bye\n", "pass"),  # told the user, submitted nothing
        (2048, "C: MAIL FROM:<a@b.fr> size=900\nS: 250 2.1.0 OK\n", "pass"),  # a message within the limit
        (2048, "C: MAIL FROM:<a@b.fr> size=7108\nS: 552 5.3.4 Message size exceeds fixed maximum\n", "fail"),
        (2048, "C: MAIL FROM:<a@b.fr>\nS: 250 OK\nC: DATA\nS: 354 go\nS: 552 Error: Too much mail data\n", "fail"),
        (31457280, "C: MAIL FROM:<a@b.fr> size=7108\nS: 250 OK\n", "omit"),  # no lowered limit in the scenario
    ],
)
def test_the_operator_size_limit_is_respected_before_submitting(
    tmp_path: Path, limit: int, commands: str, outcome: str
) -> None:
    from bench.domains.mss.checks import size_limit_respected

    journal = Journal(tmp_path)
    transcript = ("S: 220 smtp\nC: EHLO x\n" + EHLO.format(limit=limit) + commands).encode()
    journal.record("mss", "mss.smtp.session", {"transcript": (transcript, "text/plain")})
    journal.close()
    findings = size_limit_respected(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-024",)
    if outcome == "fail":
        assert "SIZE 2048" in findings[0].message


READ_ID = "<7.8@segur-bench.mssante.fr>"
MDN = (
    "From: cabinet@b.mssante.fr\r\nMessage-ID: <9.9@b.fr>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"\r\n\r\n'
    "--r\r\nContent-Type: text/plain\r\n\r\nlu\r\n"
    "--r\r\nContent-Type: message/disposition-notification\r\n\r\n"
    "Final-Recipient: rfc822; cabinet@b.mssante.fr\r\nOriginal-Message-ID: {original}\r\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\r\n--r--\r\n"
)


@pytest.mark.parametrize(
    ("sent", "outcome"),
    [
        (MDN.format(original=READ_ID), "pass"),
        (MDN.format(original="<other@b.fr>"), "fail"),  # another message
        ("From: a@b.fr\r\nMessage-ID: <9.9@b.fr>\r\nContent-Type: text/plain\r\n\r\nlu\r\n", "fail"),  # not an MDN
    ],
)
def test_a_read_receipt_names_the_message_read(tmp_path: Path, sent: str, outcome: str) -> None:
    from bench.domains.mss.checks import read_receipt_sent

    journal = Journal(tmp_path)
    journal.record(
        "mss", "mss.delivery", {"message": (b"x", "message/rfc822")}, meta={"message_id": READ_ID, "read_receipt": True}
    )
    focus = journal.record("mss", "mss.smtp.message", {"message": (sent.encode(), "message/rfc822")})
    journal.close()
    findings = read_receipt_sent(Evidence(tmp_path, journal.exchanges), CheckContext(focus=focus))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-025",)


@pytest.mark.parametrize(
    ("shown", "receipts", "failure"),
    [
        ([("remise", None), ("lecture", None), ("echec", "boîte désactivée")], "pass", "pass"),
        ([("remise", None), ("echec", "boîte désactivée")], "fail", "pass"),  # the MDN not shown
        ([("remise", None), ("lecture", None)], "pass", "fail"),  # the failure not shown
        ([("remise", None), ("lecture", None), ("echec", None)], "pass", "fail"),  # shown without its reason
    ],
)
def test_notifications_are_shown_with_the_message_they_report_on(
    tmp_path: Path, shown: list[tuple[str, str | None]], receipts: str, failure: str
) -> None:
    import json

    from bench.domains.mss import RECEIVED_VIEW
    from bench.domains.mss.checks import failure_shown, receipts_shown

    journal = Journal(tmp_path)
    for kind in ("dsn", "mdn", "dsn-failure"):
        journal.record(
            "mss",
            "mss.delivery",
            {"message": (b"x", "message/rfc822")},
            meta={"kind": kind, "original_message_id": READ_ID},
        )
    notifications = [
        {"original_message_id": READ_ID, "kind": kind, "recipient": "dr@b.fr", "reason": reason}
        for kind, reason in shown
    ]
    view = json.dumps({"filed": [], "pending": [], "notifications": notifications}).encode()
    journal.record("candidate", RECEIVED_VIEW.transaction, {"received": (view, "application/json")})
    journal.close()
    evidence = Evidence(tmp_path, journal.exchanges)
    assert [f.outcome for f in receipts_shown(evidence, CheckContext())] == [receipts]
    found = failure_shown(evidence, CheckContext())
    assert [f.outcome for f in found] == [failure] and found[0].requirements == ("MSS-029",)


@pytest.mark.parametrize(
    ("subject", "type_code", "prefix", "filing"),
    [
        ("Compte rendu", "11488-4", "pass", "pass"),
        ("XDM/1.0/DDM+Compte rendu", "11488-4", "fail", "pass"),
        ("Compte rendu", None, "pass", "fail"),
        ("Compte rendu", "34133-9", "pass", "fail"),
    ],
)
def test_received_documents_are_listed_without_the_xdm_marker_and_filed_by_type(
    tmp_path: Path, subject: str, type_code: str | None, prefix: str, filing: str
) -> None:
    import json

    from bench.domains.mss import RECEIVED_VIEW
    from bench.domains.mss.checks import filed_by_type, subject_prefix_hidden

    journal = Journal(tmp_path)
    meta = {"kind": "document", "message_id": "<1@b.fr>", "subject": "XDM/1.0/DDM+Compte rendu", "type_code": "11488-4"}
    journal.record("mss", "mss.delivery", {"message": (b"x", "message/rfc822")}, meta=meta)
    line = {
        "message_id": "<1@b.fr>",
        "unique_id": "1.2",
        "patient_ref": "p1",
        "subject": subject,
        "type_code": type_code,
    }
    view = json.dumps({"filed": [line], "pending": [], "notifications": []}).encode()
    journal.record("candidate", RECEIVED_VIEW.transaction, {"received": (view, "application/json")})
    journal.close()
    evidence = Evidence(tmp_path, journal.exchanges)
    shown = subject_prefix_hidden(evidence, CheckContext())
    assert [f.outcome for f in shown] == [prefix] and shown[0].requirements == ("MSS-039",)
    filed = filed_by_type(evidence, CheckContext())
    assert [f.outcome for f in filed] == [filing] and filed[0].requirements == ("MSS-043",)


@pytest.mark.parametrize(
    ("during", "outcome"),
    [
        (["insi.search_traits", "dmp.iti41"], "pass"),
        (["insi.search_traits"], "fail"),  # no DMP feed while the mail is down
        ([], "fail"),
    ],
)
def test_a_mail_outage_changes_nothing_elsewhere(tmp_path: Path, during: list[str], outcome: str) -> None:
    import json

    from bench.domains.mss import SERVERS_VIEW
    from bench.domains.mss.checks import outage_changes_nothing

    journal = Journal(tmp_path)

    def servers(mode: str) -> None:
        said = json.dumps({"server": mode}).encode()
        journal.record("candidate", SERVERS_VIEW.transaction, {"servers": (said, "application/json")})

    def calls(transactions: list[str]) -> None:
        for transaction in transactions:
            journal.record(transaction.split(".")[0], transaction, {"request": (b"<x/>", "application/xml")})

    servers("trusted")
    calls(["insi.search_traits", "dmp.iti41"])
    servers("down")
    calls(during)
    servers("trusted")
    calls(["insi.search_traits"])  # after the outage: not compared
    journal.close()
    findings = outage_changes_nothing(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-016",)


@pytest.mark.parametrize(("origin", "outcome"), [("mss", "pass"), ("own", "fail"), (None, "fail")])
def test_a_received_document_is_shown_apart_from_the_practice_s_own(
    tmp_path: Path, origin: str | None, outcome: str
) -> None:
    import json

    from bench.checks.base import PatientKeys
    from bench.domains.mss import RECEIVED_VIEW
    from bench.domains.mss.checks import origin_shown

    journal = Journal(tmp_path)
    line = {"message_id": "<1@b.fr>", "unique_id": "1.2", "patient_ref": "p2"}
    view = json.dumps({"filed": [line], "pending": [], "notifications": []}).encode()
    journal.record("candidate", RECEIVED_VIEW.transaction, {"received": (view, "application/json")})
    documents = [{"unique_id": "9.9", "title": "CR", "origin": "own", "dmp_status": "alimente"}]
    if origin:
        documents.append({"unique_id": "1.2", "title": "CR reçu", "origin": origin, "dmp_status": "non_partage"})
    record = json.dumps({"ref": "p2", "documents": documents}).encode()
    journal.record("candidate", "candidate.patient_record", {"record": (record, "application/json")}, subjects=["p:2"])
    journal.close()
    context = CheckContext(patient=PatientKeys("p2", frozenset({"p:2"})))
    findings = origin_shown(Evidence(tmp_path, journal.exchanges), context)
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-045",)


def _record(journal: Journal, documents: list[dict[str, object]]) -> None:
    import json

    record = json.dumps({"ref": "p1", "documents": documents}).encode()
    journal.record("candidate", "candidate.patient_record", {"record": (record, "application/json")}, subjects=["p:1"])


def _judge_mss(journal: Journal, tmp_path: Path, check_id: str) -> list[Finding]:
    from bench.checks.base import PatientKeys
    from bench.runner.judge import run_check

    journal.close()
    context = CheckContext(patient=PatientKeys("p1", frozenset({"p:1"})))
    return run_check(check_id, Evidence(tmp_path, journal.exchanges), context)


@pytest.mark.parametrize(
    ("type_code", "date", "outcome"),
    [
        ("11488-4", "2026-11-27", "pass"),
        ("11488-4", "2026-11-30", "fail"),  # filed under the day it arrived
        ("34133-9", "2026-11-27", "fail"),  # filed under another type
        (None, None, "skip"),  # software that does not say how it files (API < 1.5): to be seen on screen
    ],
)
def test_received_documents_are_filed_under_their_cda_type_and_date(
    tmp_path: Path, type_code: str | None, date: str | None, outcome: str
) -> None:
    """CDA-013: the record's keys for a received document are its CDA code and effectiveTime day."""
    journal = Journal(tmp_path)
    meta = {"unique_id": "1.2", "type_code": "11488-4", "effective_day": "2026-11-27"}
    journal.record("mss", "mss.delivery", {"message": (b"x", "message/rfc822")}, subjects=["p:1"], meta=meta)
    line = {"unique_id": "1.2", "title": "CR", "origin": "mss", "dmp_status": "non_partage"}
    _record(journal, [{**line, "type_code": type_code, "date": date}])
    findings = _judge_mss(journal, tmp_path, "mss.imports_classified")
    assert [f.outcome for f in findings] == [outcome]
    assert findings[0].requirements == ("CDA-013",)
    if outcome == "fail":
        assert "le CDA" in findings[0].message


@pytest.mark.parametrize(
    ("old_line", "outcome", "said"),
    [
        ({"replaced_by": "2.2"}, "pass", "remplace"),
        ({"replaced_by": None}, "fail", "non marquée comme remplacée"),  # two current versions side by side
        (None, "fail", "retirée du dossier"),  # the old version dropped
    ],
)
def test_a_new_version_received_replaces_the_old_one_kept_as_history(
    tmp_path: Path, old_line: dict[str, object] | None, outcome: str, said: str
) -> None:
    """MSS-042: after the next version (RPLC) arrives, the old one stays, marked as replaced by the new one."""
    journal = Journal(tmp_path)
    first = {"unique_id": "1.1", "type_code": "11488-4", "effective_day": "2026-11-27"}
    journal.record("mss", "mss.delivery", {"message": (b"x", "message/rfc822")}, subjects=["p:1"], meta=first)
    second = {"unique_id": "2.2", "type_code": "11488-4", "effective_day": "2026-11-29", "replaces": "1.1"}
    journal.record("mss", "mss.delivery", {"message": (b"y", "message/rfc822")}, subjects=["p:1"], meta=second)
    base = {"title": "CR", "origin": "mss", "dmp_status": "non_partage", "type_code": "11488-4"}
    documents: list[dict[str, object]] = [{**base, "unique_id": "2.2"}]
    if old_line is not None:
        documents.append({**base, "unique_id": "1.1", **old_line})
    _record(journal, documents)
    findings = _judge_mss(journal, tmp_path, "mss.new_version_replaces")
    assert [f.outcome for f in findings] == [outcome]
    assert findings[0].requirements == ("MSS-042",) and said in findings[0].message


@pytest.mark.parametrize(
    ("resends", "resent_id", "outcome", "said"),
    [
        (1, "<renvoi-1@cabinet.segur-bench.local>", "pass", "accepté une fois"),
        (0, "", "fail", "jamais renvoyé"),
        (2, "<renvoi-1@cabinet.segur-bench.local>", "fail", "accepté 2 fois"),
        (1, "<autre@cabinet.segur-bench.local>", "fail", "sous un autre Message-ID"),  # recomposed: a second message
    ],
)
def test_a_deferred_message_is_sent_again_once(
    tmp_path: Path, resends: int, resent_id: str, outcome: str, said: str
) -> None:
    """MSS-016: a submission the operator deferred (451) comes back, the same Message-ID, exactly once."""
    journal = Journal(tmp_path)
    mid = "<renvoi-1@cabinet.segur-bench.local>"
    journal.record(
        "mss",
        "mss.smtp.session",
        {"transcript": (b"C: DATA\r\nS: 451 4.3.0 ...\r\n", "text/plain")},
        outcome="deferred",
        meta={"messages": 0, "deferred": [mid], "deferred_subjects": ["=?utf-8?q?Synth=C3=A8se?="]},
    )
    head = f"From: {CANDIDATE_MAILBOX}\r\nMessage-ID: {resent_id}\r\nSubject: =?utf-8?b?U3ludGjDqHNl?=\r\n"
    message = (head + "\r\ncorps\r\n").encode()  # the subject as a mail client encodes it (RFC 2047, base64 this time)
    for _n in range(resends):
        journal.record("mss", "mss.smtp.message", {"message": (message, "message/rfc822")}, outcome="accepted")
    findings = _judge_mss(journal, tmp_path, "mss.resent_after_deferral")
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("MSS-016",)
    assert said in findings[0].message
