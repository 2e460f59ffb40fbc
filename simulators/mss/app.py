"""The MSSanté simulator: an operator's SMTP submission and IMAP mailbox servers on real loopback sockets, one asyncio
loop in a background thread, every exchange in the run's journal.

Listeners (docs/mss-simulator.md): ``smtp`` (STARTTLS), ``smtps`` (implicit TLS), ``imap`` (STARTTLS), ``imaps``
(implicit TLS), and the same SMTP/IMAP with a certificate no candidate should trust (journal channel
``mss-untrusted``). Scenarios deliver messages into the candidate's mailbox with :meth:`MssSimulator.deliver`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import itertools
import secrets
import ssl
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, TypeVar

from cryptography import x509
from cryptography.x509.oid import NameOID

from simulators.common.journal import Exchange, Journal
from simulators.common.namespaces import HL7
from simulators.common.pki import BenchPki
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml
from simulators.dmp.xds import RIM
from simulators.insi.ins import INS_OIDS, traits_key
from simulators.mss import notifications
from simulators.mss.addresses import CANDIDATE_MAILBOX, CORRESPONDENT, bare_address, patient_matricule
from simulators.mss.imap import ImapListener, Mailboxes
from simulators.mss.smtp import (
    MAX_MESSAGE_BYTES,
    Accounts,
    BearerCheck,
    SessionTrace,
    Submission,
    SubmissionHandler,
    smtp_factory,
)
from simulators.mss.suites import weak_server_context
from simulators.mss.xdm import XdmError, read_xdm

STARTUP_TIMEOUT = 10.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class MssEndpoints:
    """URLs in curl's spelling: ``smtp://``, ``imap://``: STARTTLS; ``smtps://``, ``imaps://``: implicit TLS."""

    smtp: str
    smtps: str
    imap: str
    imaps: str
    smtp_untrusted: str
    imap_untrusted: str
    smtp_weak: str


def _common_name(path: Any) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def ins_subjects(message: Message) -> set[str]:
    """Routing keys of a message: the patient mailbox's matricule, and for each document of an XDM package its
    patient's INS (``ins:<matricule>``) and strict traits (birth name and date, for a patient without INS). Never
    raises: a broken message simply has fewer keys."""
    keys: set[str] = set()
    for header in ("To", "Cc"):
        for value in message.get_all(header, []) or []:
            for address in str(value).split(","):
                matricule = patient_matricule(address)
                if matricule:
                    keys.add(f"ins:{matricule}")
    parts: list[Message] = list(message.walk()) if message.is_multipart() else [message]
    for section in parts:
        # Every attachment that opens as XDM counts, whatever its name: routing must not depend on the defect judged.
        if section.get_content_maintype() in ("multipart", "text") and not section.get_filename():
            continue
        payload = section.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            package = read_xdm(payload)
            metadata = package.metadata()
        except XdmError:
            continue
        for identifier in metadata.iter(f"{{{RIM}}}ExternalIdentifier"):
            value = identifier.get("value", "")
            if "^^^&" in value and value.split("^^^&")[1].split("&")[0] in INS_OIDS:
                keys.add(f"ins:{value.split('^')[0]}")
        for name, content in package.files.items():
            if name.upper().startswith("IHE_XDM/SUBSET01/") and not name.upper().endswith("METADATA.XML"):
                keys |= _patient_keys(content)
    return keys


def _patient_keys(document: bytes) -> set[str]:
    try:
        patient = parse_xml(document).find(f"{{{HL7}}}recordTarget/{{{HL7}}}patientRole/{{{HL7}}}patient")
    except UnsafeXmlError:
        return set()
    if patient is None:
        return set()
    family = patient.findtext(f"{{{HL7}}}name/{{{HL7}}}family") or ""
    birth = (patient.find(f"{{{HL7}}}birthTime").get("value", "") if patient.find(f"{{{HL7}}}birthTime") is not None
             else "")  # fmt: skip
    if not family or len(birth) < 8:
        return set()
    return {traits_key(family, f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}")}


def parse_message(data: bytes) -> Message | None:
    try:
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:
        return None


class MssSimulator:
    """Start with :meth:`start`, stop with :meth:`stop`; thread-safe delivery and account set-up in between."""

    def __init__(
        self,
        journal: Journal,
        pki: BenchPki,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        password: str | None = None,
    ) -> None:
        self.journal = journal
        self.host = host
        self.ports = dict(ports or {})  # by listener name (smtp, smtps, imap, imaps, *_untrusted); 0 or absent: free
        self.password = password or secrets.token_urlsafe(12)
        self.accounts = Accounts()
        self.size_limit = MAX_MESSAGE_BYTES  # the operator's message size limit for new SMTP sessions
        self._deferrals = 0  # submissions still to answer with a temporary failure
        self._deferral_lock = threading.Lock()
        self._last_sent: tuple[Submission, Message, list[str]] | None = None  # for a delivery failure report
        self.accounts.passwords[CANDIDATE_MAILBOX] = self.password
        self.accounts.certificates[_common_name(pki.client.cert)] = CANDIDATE_MAILBOX
        trusted = pki.server_context(require_client_cert=False)
        self._untrusted_ctx = pki.untrusted_server_context()
        self._weak_ctx = weak_server_context(pki)
        self.mailboxes = Mailboxes(trusted)
        self._untrusted_mailboxes = Mailboxes(self._untrusted_ctx)
        for mailboxes in (self.mailboxes, self._untrusted_mailboxes):
            mailboxes.certificates = self.accounts.certificates  # one mapping for SMTP and IMAP EXTERNAL

        self._trusted_ctx = trusted
        self._queue_ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="simulator-mss", daemon=True)
        self._servers: list[asyncio.AbstractServer] = []
        self._imap: list[ImapListener] = []
        self.endpoints: MssEndpoints | None = None

    # lifecycle -------------------------------------------------------------------------------------------------
    def accept_bearer(self, check: BearerCheck) -> None:
        """Offer XOAUTH2 on SMTP and IMAP: ``check`` tells the mailbox and national id a PSC access token belongs to."""
        self.accounts.bearer = check
        for mailboxes in (self.mailboxes, self._untrusted_mailboxes):
            mailboxes.bearer = check

    def start(self) -> MssSimulator:
        self._thread.start()
        self.endpoints = self._call(self._start_listeners())
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._stop_listeners())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, _T], timeout: float = STARTUP_TIMEOUT) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _start_listeners(self) -> MssEndpoints:
        for mailboxes in (self.mailboxes, self._untrusted_mailboxes):
            await mailboxes.add_account(CANDIDATE_MAILBOX, self.password)
        ports = {}
        listeners: tuple[tuple[str, str, bool, ssl.SSLContext | None, Mailboxes | None], ...] = (
            ("smtp", "mss", False, self._trusted_ctx, None),
            ("smtps", "mss", True, self._trusted_ctx, None),
            ("smtp_untrusted", "mss-untrusted", False, self._untrusted_ctx, None),
            ("smtp_weak", "mss-weak", False, self._weak_ctx, None),
            ("imap", "mss", False, None, self.mailboxes),
            ("imaps", "mss", True, None, self.mailboxes),
            ("imap_untrusted", "mss-untrusted", False, None, self._untrusted_mailboxes),
        )
        for name, channel, implicit, context, store in listeners:
            if store is None:
                assert context is not None
                handler = SubmissionHandler(
                    self.accounts,
                    functools.partial(self._accept, channel),
                    functools.partial(self._record_session, channel),
                    self._take_deferral,
                )
                factory = smtp_factory(
                    handler, implicit_tls=implicit, tls_context=context, size_limit=lambda: self.size_limit
                )
                server = await self._loop.create_server(
                    factory,
                    host=self.host,
                    port=self.ports.get(name, 0),
                    ssl=context if implicit else None,
                    reuse_address=True,
                )
                self._servers.append(server)
                ports[name] = server.sockets[0].getsockname()[1]
            else:
                listener = ImapListener(
                    store,
                    functools.partial(self._record_imap, channel),
                    implicit=implicit,
                )
                ports[name] = await listener.start(self.host, self.ports.get(name, 0))
                self._imap.append(listener)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return MssEndpoints(
            smtp=f"smtp://{host}:{ports['smtp']}",
            smtps=f"smtps://{host}:{ports['smtps']}",
            imap=f"imap://{host}:{ports['imap']}",
            imaps=f"imaps://{host}:{ports['imaps']}",
            smtp_untrusted=f"smtp://{host}:{ports['smtp_untrusted']}",
            imap_untrusted=f"imap://{host}:{ports['imap_untrusted']}",
            smtp_weak=f"smtp://{host}:{ports['smtp_weak']}",
        )

    async def _stop_listeners(self) -> None:
        for server in self._servers:
            server.close()
        for listener in self._imap:
            await listener.stop()

    # evidence --------------------------------------------------------------------------------------------------
    async def _accept(self, channel: str, submission: Submission) -> str:
        queue_id = f"MSS{next(self._queue_ids):06d}"
        message = parse_message(submission.data)
        subjects = sorted(ins_subjects(message)) if message is not None else []
        self.journal.record(
            channel,
            "mss.smtp.message",
            {"message": (submission.data, "message/rfc822")},
            subjects=subjects,
            outcome="accepted",
            peer={"tls": submission.tls, "helo": submission.helo},
            meta={
                "queue_id": queue_id,
                "mail_from": submission.mail_from,
                "rcpt_tos": submission.rcpt_tos,
                "auth": submission.auth,
                "dsn": submission.dsn,
            },
        )
        if channel == "mss":
            for rcpt in {bare_address(r) for r in submission.rcpt_tos} & set(self.accounts.passwords):
                await self.mailboxes.deliver(rcpt, submission.data)  # local delivery, as the operator would
        if channel == "mss" and message is not None:
            self._last_sent = (submission, message, subjects)
            try:
                await self._notify(submission, message, subjects)
            except Exception as exc:
                self.journal.record("mss", "mss.notification_error", {}, subjects=subjects, outcome=repr(exc)[:200])
        return queue_id

    async def _notify(self, submission: Submission, message: Message, subjects: list[str]) -> None:
        """DSN and MDN back to the sender when asked for (only local mailboxes receive them)."""
        sender = bare_address(submission.mail_from)
        if sender not in self.accounts.passwords:
            return
        notify = [n.upper() for n in submission.dsn.get("NOTIFY", [])]
        if any("SUCCESS" in n for n in notify):
            envid = (submission.dsn.get("ENVID") or [None])[0]
            report = notifications.delivery_status(message, sender, submission.rcpt_tos, envid)
            await self._put(
                sender, report, "dsn", subjects, {"original_message_id": str(message.get("Message-ID", ""))}
            )
        receipt = notifications.read_receipt(message, submission.rcpt_tos[0] if submission.rcpt_tos else CORRESPONDENT)
        if receipt is not None:
            await self._put(
                sender, receipt, "mdn", subjects, {"original_message_id": str(message.get("Message-ID", ""))}
            )

    async def _put(
        self, address: str, data: bytes, kind: str, subjects: list[str], meta: dict[str, Any] | None = None
    ) -> Exchange:
        # Evidence first: a message the candidate can see is always in the journal.
        exchange = self.journal.record(
            "mss",
            "mss.delivery",
            {"message": (data, "message/rfc822")},
            subjects=subjects,
            outcome="delivered",
            meta={"kind": kind, "mailbox": address, **(meta or {})},
        )
        await self.mailboxes.deliver(address, data)
        return exchange

    def _record_session(self, channel: str, trace: SessionTrace) -> None:
        transcript = ("\r\n".join(trace.lines) + "\r\n").encode("utf-8", "replace")
        self.journal.record(
            channel,
            "mss.smtp.session",
            {"transcript": (transcript, "text/plain")},
            outcome="message" if trace.messages else ("deferred" if trace.deferred else "no_message"),
            peer={"tls": trace.tls},
            meta={
                "implicit_tls": trace.implicit_tls,
                "auth": trace.auth,
                "messages": trace.messages,
                "deferred": trace.deferred,
                "deferred_subjects": trace.deferred_subjects,
            },
        )

    def _record_imap(
        self, channel: str, command: str, line: bytes, answer: bytes, meta: dict[str, Any], outcome: str | None
    ) -> None:
        self.journal.record(
            channel,
            f"mss.imap.{command}",
            {"request": (line, "text/plain"), "response": (answer, "text/plain")},
            subjects=[],
            outcome=outcome,
            peer={"tls": meta.get("tls")},
            meta={k: v for k, v in meta.items() if k != "tls"},
        )

    # scenario API ----------------------------------------------------------------------------------------------
    def report_delivery_failure(self, reason: str) -> Exchange | None:
        """The operator could not deliver the last message the candidate sent: a failure DSN (RFC 3464, Action:
        failed) lands in its mailbox, journaled first; None when nothing was sent."""
        if self._last_sent is None:
            return None
        submission, message, subjects = self._last_sent
        sender = bare_address(submission.mail_from)
        envid = (submission.dsn.get("ENVID") or [None])[0]
        report = notifications.delivery_status(message, sender, submission.rcpt_tos, envid, failure=reason)
        meta = {"original_message_id": str(message.get("Message-ID", "")), "reason": reason}
        exchange: Exchange = self._call(self._put(sender, report, "dsn-failure", subjects, meta))
        return exchange

    def defer_next_messages(self, count: int) -> None:
        """The operator answers the next ``count`` submissions with a temporary failure (451), as a loaded or
        briefly failing relay does; the client must send each again (RFC 5321 §4.5.4.1)."""
        with self._deferral_lock:
            self._deferrals = count

    def _take_deferral(self) -> bool:
        with self._deferral_lock:
            if self._deferrals <= 0:
                return False
            self._deferrals -= 1
            return True

    def limit_message_size(self, limit: int | None) -> None:
        """The operator's message size limit for SMTP sessions opened from now on (None: the default)."""
        self.size_limit = limit or MAX_MESSAGE_BYTES

    def reset(self) -> None:
        """Empty every mailbox and restore the default size limit (each scenario starts with nothing received)."""
        self.size_limit = MAX_MESSAGE_BYTES
        self._last_sent = None
        self.defer_next_messages(0)

        async def clear() -> None:
            self.mailboxes.cache.clear()
            self._untrusted_mailboxes.cache.clear()

        self._call(clear())

    def deliver(
        self,
        data: bytes,
        *,
        kind: str,
        subjects: list[str],
        meta: dict[str, Any] | None = None,
        mailbox: str = CANDIDATE_MAILBOX,
    ) -> Exchange:
        """Put a message the bench built into ``mailbox`` (thread-safe), recorded as ``mss.delivery``."""
        return self._call(self._put(mailbox, data, kind, subjects, meta))
