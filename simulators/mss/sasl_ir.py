"""IMAP SASL-IR (RFC 4959), which pymap lacks: ``AUTHENTICATE <mechanism> <initial response>`` carries the client's
first SASL response on the command line (``=`` for an empty one) instead of waiting for the server's empty
challenge. MSSanté operators allow it for XOAUTH2 (SC.MSS/CONF.09)."""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode
from typing import Any

from pymap.context import current_command
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.parsing import EndLine, Params, Space
from pymap.parsing.command.nonauth import AuthenticateCommand
from pymap.parsing.commands import Commands
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.primitives import Atom
from pymap.parsing.response import ResponseContinuation
from pysasl.creds.server import ServerCredentials
from pysasl.exception import AuthenticationError
from pysasl.mechanism import ChallengeResponse, ServerChallenge

CAPABILITY = b"SASL-IR"


class AuthenticateWithInitialResponse(AuthenticateCommand):
    """``AUTHENTICATE`` with RFC 4959's optional initial response (``initial_response`` None when absent)."""

    def __init__(self, tag: bytes, mech_name: bytes, initial_response: bytes | None) -> None:
        super().__init__(tag, mech_name)
        self.initial_response = initial_response

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[AuthenticateWithInitialResponse, memoryview]:
        _, buf = Space.parse(buf, params)
        mechanism, after = Atom.parse(buf, params)
        try:
            _, rest = Space.parse(after, params)
        except NotParseable:
            _, after = EndLine.parse(after, params)
            return cls(params.tag, mechanism.value.upper(), None), after
        word, rest = Atom.parse(rest, params)
        _, rest = EndLine.parse(rest, params)
        if word.value == b"=":
            return cls(params.tag, mechanism.value.upper(), b""), rest
        try:
            initial = b64decode(word.value, validate=True)
        except binascii.Error as exc:
            raise NotParseable(buf) from exc  # answered BAD, as any malformed command
        return cls(params.tag, mechanism.value.upper(), initial), rest


def commands() -> Commands:
    """pymap's commands with AUTHENTICATE replaced by the SASL-IR one."""
    registry = Commands()
    registry.register(AuthenticateWithInitialResponse)
    return registry


class SaslIrConnection(IMAPConnection):
    """pymap's connection, taking the initial response of an AUTHENTICATE command as the answer to the mechanism's
    first (empty) challenge; what follows (an error challenge of XOAUTH2, say) goes on as usual."""

    async def authenticate(self, state: ConnectionState, mech_name: bytes) -> ServerCredentials | None:
        command: Any = current_command.get(None)
        initial = getattr(command, "initial_response", None)
        if initial is None:
            return await super().authenticate(state, mech_name)
        mechanism = state.auth.get_server(mech_name)
        if mechanism is None:
            return None
        responses = [ChallengeResponse(b"", initial)]
        while True:
            try:
                credentials, final = mechanism.server_attempt(responses)
            except ServerChallenge as challenge:
                await self.write_response(ResponseContinuation(b64encode(challenge.data)))
                answer = bytes(await self.read_continuation(0)).rstrip(b"\r\n")
                if answer == b"*":
                    raise AuthenticationError("Authentication canceled.") from None
                try:
                    responses.append(ChallengeResponse(challenge.data, b64decode(answer, validate=True)))
                except binascii.Error as exc:
                    raise AuthenticationError() from exc
                continue
            if final is not None:
                await self.write_response(ResponseContinuation(b64encode(final)))
                await self.read_continuation(0)
            return credentials
