"""The MSSanté mailbox server: IMAP4rev1 (RFC 3501) over TLS, served by pymap, recording every command as evidence.

pymap gives the protocol (parser, state machine, SASL, STARTTLS, UID commands, flags, IDLE) and an in-memory
mailbox backend; the bench adds what an MSSanté operator enforces and what an auditor needs:

- no authentication before TLS, even on loopback (pymap relaxes this for localhost; an MSSanté server does not);
- one journal exchange per command (``mss.imap.<command>``): the command line with passwords masked, the server's
  answer, the TLS parameters and the authenticated mailbox;
- a delivery API for scenarios: messages the bench puts into a mailbox, recorded as ``.eml``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import ssl
import uuid
from argparse import Namespace
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, closing
from typing import Any

from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.sock import SocketInfo
from pymap.backend.dict import Config as DictConfig
from pymap.backend.dict import Identity, Login
from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxSet
from pymap.context import connection_exit
from pymap.exceptions import InvalidAuth
from pymap.imap.state import ConnectionState
from pymap.interfaces.session import SessionInterface
from pymap.parsing.command import Command
from pymap.parsing.commands import Commands
from pymap.parsing.message import AppendMessage
from pymap.parsing.response import CommandResponse, ResponseOk
from pymap.parsing.response.code import Capability
from pymap.user import Passwords, UserMetadata
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials, ExternalVerificationRequired
from pysasl.creds.server import ServerCredentials
from pysasl.mechanism.external import ExternalMechanism
from pysasl.mechanism.login import LoginMechanism
from pysasl.mechanism.oauth import OAuth2Mechanism
from pysasl.mechanism.plain import PlainMechanism

from simulators.common.server import describe_tls_peer, peer_common_name
from simulators.mss.sasl_ir import CAPABILITY as SASL_IR
from simulators.mss.sasl_ir import SaslIrConnection
from simulators.mss.sasl_ir import commands as sasl_ir_commands
from simulators.mss.smtp import BearerCheck

# Bounds on what a client can make the server hold: one command line, one APPEND literal.
MAX_LINE_BYTES = 64 * 1024
MAX_APPEND_BYTES = 25 * 1024 * 1024
GREETING = b"segur-bench MSSante IMAP4rev1 pret"
_PASSWORD = re.compile(rb"^(\S+ LOGIN \S+ ).*$", re.IGNORECASE | re.DOTALL)

Recorder = Callable[[str, bytes, bytes, dict[str, Any], str | None], None]


class _BenchConfig(DictConfig):
    @property
    def greeting(self) -> bytes:
        return GREETING  # pymap's default resolves the host's FQDN, slow on machines without DNS

    @property
    def commands(self) -> Commands:
        return sasl_ir_commands()  # AUTHENTICATE with an initial response (RFC 4959, SC.MSS/CONF.09)

    @property
    def tls_auth(self) -> SASLAuth:
        # Inside TLS: the mailbox password (PLAIN, LOGIN) or the software's certificate (EXTERNAL, RFC 4422).
        # XOAUTH2: the professional's PSC access token (SC.MSS/CONF.07), checked by the mailboxes' bearer check.
        return SASLAuth([PlainMechanism(), LoginMechanism(), ExternalMechanism(), OAuth2Mechanism()])


def _config(ssl_context: ssl.SSLContext, *, starttls: bool, cache: dict[str, Any] | None) -> _BenchConfig:
    config = _BenchConfig(
        Namespace(passlib_cfg=None, proxy_protocol=None),
        host=None,
        port=0,
        demo_data=False,
        demo_user="",
        demo_password="",
        ssl_context=ssl_context,
        tls_enabled=starttls,
        reject_dnsbl=False,
        invalid_user_sleep=0.05,
        max_append_len=MAX_APPEND_BYTES,
        bad_command_limit=5,
    )
    if cache is not None:
        config.set_cache = cache  # the implicit-TLS and STARTTLS listeners serve the same mailboxes
    return config


class Mailboxes:
    """The mailboxes of the simulated operator (in memory, one INBOX each), and their owners' passwords."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.cache: dict[str, tuple[MailboxSet, FilterSet]] = {}
        self.certificates: dict[str, str] = {}  # client certificate commonName -> mailbox (SASL EXTERNAL)
        self.bearer: BearerCheck | None = None  # how a PSC access token is checked (XOAUTH2)
        self.starttls_config = _config(ssl_context, starttls=True, cache=self.cache)
        self.implicit_config = _config(ssl_context, starttls=False, cache=self.cache)
        self.login = Login(self.implicit_config)

    async def add_account(self, address: str, password: str) -> None:
        hashed = await Passwords(self.implicit_config).hash_password(password)
        self.login.users_dict[address] = UserMetadata(self.implicit_config, address, password=hashed)

    async def _inbox_of(self, address: str) -> Any:
        if address not in self.cache:
            self.cache[address] = (MailboxSet(), FilterSet())
        return await self.cache[address][0].get_mailbox("INBOX")

    async def deliver(self, address: str, message: bytes) -> None:
        """Put ``message`` in ``address``'s INBOX as new (\\Recent, unseen)."""
        inbox = await self._inbox_of(address)
        await inbox.append(AppendMessage(message, dt.datetime.now(dt.UTC), frozenset()), recent=True)


def _command_line(command: Command) -> bytes:
    raw = bytes(command) if hasattr(command, "__bytes__") else str(command).encode()
    mechanism = getattr(command, "mech_name", None)
    if isinstance(mechanism, bytes) and mechanism not in raw:
        raw += b" " + mechanism  # pymap's AUTHENTICATE renders without its mechanism: the evidence needs it
    initial = getattr(command, "initial_response", None)
    if isinstance(initial, bytes):  # SASL-IR: said, never kept (it holds a token or a password)
        raw += b" [SASL-IR: %d octets]" % len(initial)
    return _PASSWORD.sub(rb"\1********", raw)


def _bearer_token(creds: ExternalCredentials) -> str | None:
    """The bearer token of XOAUTH2 credentials (pysasl hands it over only through the verification it requires)."""
    try:
        creds.verify(None)
    except ExternalVerificationRequired as required:
        token: str | None = required.token
        return token
    return None


class _RecordingState(ConnectionState):
    """pymap's connection state, with the bench's TLS rule and a journal line per command."""

    def __init__(
        self,
        login: Login,
        config: _BenchConfig,
        writer: asyncio.StreamWriter,
        record: Recorder,
        certificates: dict[str, str],
        bearer: Callable[[], BearerCheck | None],
    ) -> None:
        super().__init__(login, config)
        self._bearer = bearer
        self._writer = writer
        self._record = record
        self._user: str | None = None
        self._external_user: str | None = None
        self._psc_session: str | None = None  # the PSC session of the token that opened the mailbox (XOAUTH2)
        self._connection = uuid.uuid4().hex[:12]  # which commands share a connection (a session held open shows)
        self._certificates = certificates

    def _tls(self) -> dict[str, Any]:
        return describe_tls_peer(self._writer.get_extra_info("ssl_object"))

    @property
    def capability(self) -> Capability:
        """pymap's capabilities, without AUTH=EXTERNAL on a session that carries no client certificate: a client
        such as mbsync picks EXTERNAL when offered, fails, and gives up (RFC 4422 §A: EXTERNAL needs credentials
        established by the lower layer)."""
        offered = list(super().capability.capabilities)
        if any(c.startswith(b"AUTH=") for c in offered):
            offered.append(SASL_IR)  # with any SASL mechanism on offer (RFC 4959)
        ssl_object = self._writer.get_extra_info("ssl_object")
        if ssl_object is not None and ssl_object.getpeercert():
            return Capability(offered)
        return Capability([c for c in offered if c != b"AUTH=EXTERNAL"])

    async def do_greeting(self) -> CommandResponse:
        # Not pymap's: no password mechanism is offered before TLS, whatever the peer's address.
        self.auth = self.config.initial_auth
        return ResponseOk(b"*", self.config.greeting, self.capability)

    async def do_command(self, cmd: Command) -> CommandResponse:
        response = await super().do_command(cmd)
        self._journal(cmd, response)
        return response

    async def _login(self, creds: ServerCredentials) -> SessionInterface:
        if not isinstance(creds, ExternalCredentials):
            return await super()._login(creds)
        token = _bearer_token(creds)
        if token is not None:  # XOAUTH2: the mailbox must be the one of the professional the token names
            check = self._bearer()
            holder = check(token) if check is not None else None
            if holder is None or holder[0].lower() != (creds.authzid or "").lower():
                raise InvalidAuth()
            address: str | None = holder[0]
            self._psc_session = holder[2]
        else:
            address = self._certificates.get(peer_common_name(self._writer.get_extra_info("ssl_object")) or "")
            if address is None or (creds.authzid and creds.authzid != address):
                raise InvalidAuth()
        assert address is not None
        self._external_user = address
        identity = Identity(address, self.login, None, frozenset())  # type: ignore[arg-type]
        return await connection_exit.get().enter_async_context(identity.new_session())

    async def do_authenticate(self, cmd: Any, creds: Any) -> CommandResponse:
        try:
            response = await super().do_authenticate(cmd, creds)
        except Exception:
            self._journal(cmd, None, outcome="refused")
            raise
        self._user = self._external_user or (creds.authcid if creds is not None else None)
        if not isinstance(cmd, Command) or cmd.command != b"LOGIN":
            self._journal(cmd, response)
        return response

    def _journal(self, cmd: Command, response: CommandResponse | None, outcome: str | None = None) -> None:
        name = cmd.command.decode("ascii", "replace").lower().replace(" ", "_")
        answer = bytes(response) if response is not None else b""
        if outcome is None and response is not None:
            outcome = "ok" if isinstance(response, ResponseOk) else ("bad" if response.is_bad else "no")
        meta: dict[str, Any] = {"tls": self._tls(), "user": self._user, "command": name, "connection": self._connection}
        if self._psc_session:
            meta["psc_session"] = self._psc_session
        if getattr(cmd, "mech_name", None) is not None:
            meta["mechanism"] = cmd.mech_name.decode("ascii", "replace")  # type: ignore[attr-defined]
            meta["initial_response"] = getattr(cmd, "initial_response", None) is not None
        self._record(name, _command_line(cmd), answer, meta, outcome)


class ImapListener:
    """One IMAP listening socket (implicit TLS when ``implicit``, else plain with STARTTLS) on the given loop."""

    def __init__(self, mailboxes: Mailboxes, record: Recorder, *, implicit: bool) -> None:
        self.mailboxes = mailboxes
        self.implicit = implicit
        self.config = mailboxes.implicit_config if implicit else mailboxes.starttls_config
        self._record = record
        self._server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> int:
        reader = ProxyProtocolReader(self.config.proxy_protocol)
        callback = reader.get_callback(self._serve_connection)
        self._server = await asyncio.start_server(
            callback,
            host=host,
            port=port,
            ssl=self.config.ssl_context if self.implicit else None,
            limit=MAX_LINE_BYTES,
        )
        sockets: Sequence[Any] = self._server.sockets
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, info: SocketInfo
    ) -> None:
        self.config.apply_context()
        connection = SaslIrConnection(self.config.commands, self.config, reader, writer, info)
        mailboxes = self.mailboxes
        state = _RecordingState(
            mailboxes.login, self.config, writer, self._record, mailboxes.certificates, lambda: mailboxes.bearer
        )
        try:
            async with AsyncExitStack() as stack:
                connection_exit.set(stack)
                stack.enter_context(closing(connection))
                await connection.run(state)
        except Exception:
            writer.close()
