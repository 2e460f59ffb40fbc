"""The MSSanté submission server: ESMTP (RFC 5321) served by aiosmtpd, as an MSSanté operator runs it.

- Submission with STARTTLS (RFC 3207; commands other than EHLO/STARTTLS/QUIT refused before it) or implicit TLS
  (RFC 8314); TLS 1.2 minimum.
- AUTH (RFC 4954) only inside TLS: PLAIN and LOGIN with the mailbox's password, EXTERNAL with a client certificate
  issued by the bench CA (the software's certificate mode); MAIL refused before AUTH; the envelope sender must be
  the authenticated mailbox.
- MSSanté domain rules on every recipient (``addresses.py``); DSN parameters (RFC 3461: RET, ENVID, NOTIFY, ORCPT)
  accepted and honoured; size bounded.
- Evidence: each accepted message as ``.eml`` (``mss.smtp.message``) with its envelope, TLS and authentication; each
  session's transcript (``mss.smtp.session``, credentials masked), including the ones that never got as far as a
  message: that is how a refusal is proven.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import logging
import re
import ssl
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from simulators.common.server import describe_tls_peer, peer_common_name
from simulators.mss.addresses import bare_address, judge_address

MAX_MESSAGE_BYTES = 30 * 1024 * 1024
# aiosmtpd logs a client's failed TLS handshake with a traceback; the session transcript already records it.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
HOSTNAME = "smtp.segur-bench.mssante.fr"
_DSN_MAIL = ("RET", "ENVID")
_DSN_RCPT = ("NOTIFY", "ORCPT")


@dataclass
class Submission:
    """What the server accepted: envelope, raw message, and how the client got there."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: dict[str, Any]
    auth: dict[str, Any]
    dsn: dict[str, Any] = field(default_factory=dict)
    helo: str | None = None


@dataclass
class SessionTrace:
    """One SMTP connection as the server saw it: (command, reply) pairs, credentials masked."""

    implicit_tls: bool
    lines: list[str] = field(default_factory=list)
    tls: dict[str, Any] = field(default_factory=lambda: {"tls": False})
    auth: dict[str, Any] = field(default_factory=dict)
    messages: int = 0
    deferred: list[str] = field(default_factory=list)  # Message-IDs of submissions answered 451 (to be sent again)
    deferred_subjects: list[str] = field(default_factory=list)  # their Subject fields, as sent (raw)


# A bearer token -> (the mailbox of the professional it was issued to, their national id, the PSC session it belongs
# to), or None if refused.
BearerCheck = Callable[[str], "tuple[str, str, str | None] | None"]
_XOAUTH2 = re.compile(rb"^user=([^\x01]*)\x01auth=[Bb][Ee][Aa][Rr][Ee][Rr] ([^\x01]+)\x01\x01$")


def read_xoauth2(response: bytes) -> tuple[str, str] | None:
    """(user, token) of a SASL XOAUTH2 response (``user=<mailbox>^Aauth=Bearer <token>^A^A``), or None."""
    match = _XOAUTH2.match(response)
    if match is None:
        return None
    try:
        return match.group(1).decode("utf-8"), match.group(2).decode("ascii")
    except UnicodeDecodeError:
        return None


XOAUTH2_ERROR = base64.b64encode(b'{"status":"401","schemes":"Bearer","scope":"openid scope_all"}')


AUTH_LINE_LIMIT = 12288
TEXT_LINE_LIMIT = 1001  # aiosmtpd's own: 1,000 octets and the line's end
COMMAND_LIMIT = 512


class Accounts:
    """Mailboxes allowed to submit: address -> password, client-certificate subjects -> address, and how a PSC access
    token is checked (XOAUTH2; None: the mechanism is not offered)."""

    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}
        self.certificates: dict[str, str] = {}  # client certificate commonName -> mailbox
        self.bearer: BearerCheck | None = None

    def check_password(self, login: str, password: str) -> bool:
        return self.passwords.get(login) == password


class BenchSmtp(SMTP):
    """aiosmtpd's SMTP protocol with the bench's additions: implicit TLS seen as TLS, DSN parameters, a transcript."""

    # RFC 4954 §4: an AUTH command line may reach 12,288 octets (an XOAUTH2 initial response carries a whole JWT);
    # aiosmtpd reads every line with the stream's limit, so the stream allows that much and everything else keeps
    # RFC 5321's limits (text lines of 1,000 octets in DATA, command lines of 512).
    line_length_limit = AUTH_LINE_LIMIT

    def __init__(self, handler: SubmissionHandler, *, implicit_tls: bool, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.line_length_limit = TEXT_LINE_LIMIT  # what DATA lines are held to (the stream was made with the above)
        self.command_size_limits = collections.defaultdict(lambda: COMMAND_LIMIT, {"AUTH": AUTH_LINE_LIMIT})
        self.trace = SessionTrace(implicit_tls)
        self.dsn: dict[str, Any] = {}
        self._implicit_tls = implicit_tls
        self._smtp_methods = {name: self._traced(name, method) for name, method in self._smtp_methods.items()}

    def _traced(self, name: str, method: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[None]]:
        async def traced(arg: str) -> None:
            arg = arg or ""
            shown = arg.split()[0] + " ********" if name == "AUTH" and len(arg.split()) > 1 else arg
            self.trace.lines.append(f"C: {name} {shown}".rstrip()[:300])
            await method(arg)

        return traced

    async def push(self, status: str | bytes) -> None:  # aiosmtpd declares AnyStr; SASL challenges are bytes
        # SMTP replies are ASCII (RFC 5321 §4.2): French messages lose their accents, not their meaning.
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else status  # SASL challenges
        status = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        self.trace.lines.append(f"S: {status}"[:300])
        await super().push(status)

    async def challenge_auth(
        self, challenge: str | bytes, encode_to_b64: bool = True, log_client_response: bool = False
    ) -> Any:
        response = await super().challenge_auth(challenge, encode_to_b64, log_client_response)
        self.trace.lines.append("C: ********")  # a SASL response carries credentials
        return response

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.trace.tls = describe_tls_peer(ssl_object)
            if self._implicit_tls and self._tls_protocol is None:
                # aiosmtpd only knows STARTTLS; on an implicit-TLS port the whole session is already encrypted.
                self._tls_protocol = transport  # type: ignore[assignment]

    def connection_lost(self, error: Exception | None) -> None:
        try:
            self.event_handler.session_closed(self.trace)
        finally:
            super().connection_lost(error)

    def _take_dsn(self, arg: str, names: tuple[str, ...]) -> str:
        """Strip RFC 3461 parameters (aiosmtpd refuses unknown ones) and keep them for the handler."""
        kept = []
        for word in arg.split():
            key, _, value = word.partition("=")
            if key.upper() in names and value:
                self.dsn.setdefault(key.upper(), []).append(value)
            else:
                kept.append(word)
        return " ".join(kept)

    async def smtp_MAIL(self, arg: str) -> None:
        self.dsn = {}
        await super().smtp_MAIL(self._take_dsn(arg, _DSN_MAIL) if arg else arg)

    async def smtp_RCPT(self, arg: str) -> None:
        await super().smtp_RCPT(self._take_dsn(arg, _DSN_RCPT) if arg else arg)


class SubmissionHandler:
    """aiosmtpd handler hooks: the MSSanté rules, and what to do with an accepted message."""

    def __init__(
        self,
        accounts: Accounts,
        on_message: Callable[[Submission], Awaitable[str]],
        on_session: Callable[[SessionTrace], None],
        defer: Callable[[], bool] = lambda: False,
    ) -> None:
        self.accounts = accounts
        self._on_message = on_message
        self._on_session = on_session
        self._defer = defer  # whether the operator answers this submission with a temporary failure

    def session_closed(self, trace: SessionTrace) -> None:
        self._on_session(trace)

    async def handle_EHLO(
        self, server: BenchSmtp, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def auth_EXTERNAL(self, server: BenchSmtp, args: list[str]) -> AuthResult:
        """SASL EXTERNAL (RFC 4422 App. A): the identity is the client certificate the TLS layer verified."""
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        subject = peer_common_name(ssl_object)
        address = self.accounts.certificates.get(subject or "")
        if address is None:
            return AuthResult(success=False, handled=False, message="535 5.7.8 Certificat client non reconnu")
        requested = args[1] if len(args) > 1 else ""
        if requested and requested != "=":
            try:
                wanted = base64.b64decode(requested, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return AuthResult(success=False, handled=False, message="501 5.5.2 Réponse SASL mal encodée")
            if wanted and wanted != address:
                return AuthResult(success=False, handled=False, message="535 5.7.8 Identité non liée au certificat")
        server.trace.auth = {"mechanism": "EXTERNAL", "user": address, "certificate": subject}
        return AuthResult(success=True, auth_data=LoginPassword(address.encode(), b""))

    async def auth_XOAUTH2(self, server: BenchSmtp, args: list[str]) -> AuthResult:
        """SASL XOAUTH2, how MSSanté clients present the professional's PSC access token (SC.MSS/CONF.07): the
        response as initial response (``AUTH XOAUTH2 <base64>``) or after an empty challenge. A refusal follows the
        de-facto exchange: ``334`` with a base64 JSON error, the client's empty answer, then ``535``."""
        if self.accounts.bearer is None:
            return AuthResult(success=False, handled=False, message="504 5.5.4 Mecanisme non propose")
        if len(args) > 1:
            try:
                response = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                return AuthResult(success=False, handled=False, message="501 5.5.2 Reponse SASL mal encodee")
        else:
            answered = await server.challenge_auth(b"", encode_to_b64=False)
            if not isinstance(answered, bytes):
                return AuthResult(success=False, handled=True)  # aborted ("*") or undecodable: already answered
            response = answered
        said = read_xoauth2(response)
        holder = self.accounts.bearer(said[1]) if said else None
        if said is None or holder is None or holder[0].lower() != said[0].lower():
            await server.challenge_auth(XOAUTH2_ERROR, encode_to_b64=False)
            reason = "jeton PSC refuse" if said else "reponse XOAUTH2 mal formee"
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 Authentification refusee : {reason}")
        server.trace.auth = {
            "mechanism": "XOAUTH2",
            "user": holder[0],
            "professional": holder[1],
            "psc_session": holder[2],
        }
        return AuthResult(success=True, auth_data=LoginPassword(holder[0].encode(), b""))

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        """aiosmtpd authenticator for PLAIN and LOGIN."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        if not self.accounts.check_password(login, data.password.decode("utf-8", "replace")):
            return AuthResult(success=False, handled=False)
        if isinstance(server, BenchSmtp):
            server.trace.auth = {"mechanism": mechanism, "user": login}
        return AuthResult(success=True, auth_data=data)

    async def handle_MAIL(
        self, server: BenchSmtp, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        user = server.trace.auth.get("user")
        if bare_address(address).lower() != (user or "").lower():
            return f"553 5.7.1 Expéditeur {address} : seule la boîte authentifiée ({user}) peut émettre"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: BenchSmtp, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        verdict = judge_address(address)
        if not verdict.accepted:
            return f"550 5.1.1 <{address}> refusé : {verdict.problem}"
        if len(envelope.rcpt_tos) >= 50:
            return "452 4.5.3 Trop de destinataires"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: BenchSmtp, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if self._defer():
            # RFC 5321 §4.2.5: with a 4yz reply to the end of data the server takes no responsibility for the message;
            # the client must send it again (the same message, the same Message-ID).
            server.trace.deferred.append(_header(data, "message-id"))
            server.trace.deferred_subjects.append(_header(data, "subject"))
            return "451 4.3.0 Indisponibilite temporaire de l'operateur, renvoyez plus tard"
        submission = Submission(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            tls=server.trace.tls if server.trace.tls.get("tls") else describe_tls_peer(_ssl_of(server)),
            auth=dict(server.trace.auth),
            dsn=dict(server.dsn),
            helo=session.host_name,
        )
        server.trace.messages += 1
        queue_id = await self._on_message(submission)
        return f"250 2.0.0 OK mis en file {queue_id}"


def _header(data: bytes, name: str) -> str:
    """A header field of a submitted message, unfolded as sent ("" if none): the Message-ID tells a resend from a
    second message."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    value = found.group(1).decode("ascii", "replace") if found else ""
    return re.sub(r"\r?\n[ \t]+", " ", value).strip()


def _ssl_of(server: SMTP) -> ssl.SSLObject | None:
    return server.transport.get_extra_info("ssl_object") if server.transport else None


def smtp_factory(
    handler: SubmissionHandler,
    *,
    implicit_tls: bool,
    tls_context: ssl.SSLContext | None,
    size_limit: Callable[[], int] = lambda: MAX_MESSAGE_BYTES,
) -> Callable[[], BenchSmtp]:
    """Protocol factory for ``loop.create_server``: one BenchSmtp per connection, with the operator's message size
    limit of the moment (announced as EHLO SIZE, RFC 1870; a larger MAIL SIZE or DATA gets 552)."""

    def make() -> BenchSmtp:
        return BenchSmtp(
            handler,
            implicit_tls=implicit_tls,
            hostname=HOSTNAME,
            data_size_limit=size_limit(),
            tls_context=None if implicit_tls else tls_context,
            require_starttls=not implicit_tls,
            auth_required=True,
            auth_require_tls=True,
            authenticator=handler.authenticate,
            timeout=60,
        )

    return make
