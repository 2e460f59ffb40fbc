"""The reference candidate's MSSanté transport: smtplib and imaplib over TLS, as any mail-capable software would.

URLs use curl's spelling: ``smtp://`` and ``imap://`` connect in clear then upgrade with STARTTLS (nothing else is
said before), ``smtps://`` and ``imaps://`` are TLS from the first byte. The server's certificate is always verified
against the bench CA unless a defect switch says otherwise.
"""

from __future__ import annotations

import base64
import imaplib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10.0


class MssUnavailable(RuntimeError):
    """The MSSanté server could not be reached or refused us (including a certificate that does not verify)."""


class MssDeferred(MssUnavailable):
    """The server answered a temporary failure (4yz) to the submission: RFC 5321 §4.5.4.1, send it again later."""


class MssTooLarge(MssUnavailable):
    """The message exceeds the operator's size limit (EHLO SIZE, RFC 1870): not submitted at all."""


@dataclass(frozen=True)
class MssAccount:
    """The mailbox and how to open it: a PSC access token (SASL XOAUTH2, SC.MSS/CONF.07) when ``token`` is given, else
    the mailbox password."""

    address: str
    password: str
    token: Callable[[], str] | None = None

    def xoauth2(self) -> str:
        assert self.token is not None
        return f"user={self.address}\x01auth=Bearer {self.token()}\x01\x01"

    def sasl(self) -> tuple[str, bytes]:
        """The IMAP SASL mechanism and its single response: XOAUTH2 with the token, else PLAIN (RFC 4616)."""
        if self.token is not None:
            return "XOAUTH2", self.xoauth2().encode()
        return "PLAIN", f"\x00{self.address}\x00{self.password}".encode()


def _endpoint(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise MssUnavailable(f"adresse de serveur MSSanté invalide : {url!r}")
    return parts.scheme, parts.hostname, parts.port


def send(url: str, tls: ssl.SSLContext, account: MssAccount, recipients: list[str], message: bytes, *,
         notify_success: bool = False, starttls: bool = True, check_size: bool = True) -> None:  # fmt: skip
    """Submit ``message`` (RFC 5322 bytes) over authenticated SMTP; DSN requested on success when asked."""
    scheme, host, port = _endpoint(url)
    try:
        client: smtplib.SMTP
        if scheme == "smtps":
            client = smtplib.SMTP_SSL(host, port, context=tls, timeout=TIMEOUT)
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with client:
            client.ehlo("cabinet.segur-bench.local")
            if scheme != "smtps" and starttls:
                client.starttls(context=tls)
                client.ehlo("cabinet.segur-bench.local")
            limit = client.esmtp_features.get("size", "")
            if check_size and limit.isdigit() and int(limit) and len(message) > int(limit):
                # MSS/va1.13: the operator's limit is respected before any SMTP transaction: nothing is submitted.
                raise MssTooLarge(f"message de {len(message)} octets, au-delà de la limite de l'opérateur ({limit})")
            if account.token is not None:
                client.auth("XOAUTH2", lambda challenge=None: account.xoauth2(), initial_response_ok=True)
            else:
                client.login(account.address, account.password)
            options = ["NOTIFY=SUCCESS,FAILURE"] if notify_success and client.has_extn("dsn") else []
            refused = client.sendmail(account.address, recipients, message, rcpt_options=options)
    except MssTooLarge:
        raise
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise MssDeferred(f"envoi différé par l'opérateur : {exc.smtp_code} {exc.smtp_error!r}") from exc
        raise MssUnavailable(f"envoi MSSanté impossible : {exc}") from exc
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise MssUnavailable(f"envoi MSSanté impossible : {exc}") from exc
    if refused:
        raise MssUnavailable(f"destinataires refusés : {', '.join(refused)}")


def fetch_unseen(url: str, tls: ssl.SSLContext, account: MssAccount, *, sasl_ir: bool = True) -> list[bytes]:
    """Every unseen message of INBOX, marked seen once fetched (what a software does when it 'relève' its mail).
    With ``sasl_ir``, XOAUTH2's response goes on the AUTHENTICATE line when the server announces SASL-IR."""
    scheme, host, port = _endpoint(url)
    messages: list[bytes] = []
    try:
        client: imaplib.IMAP4
        if scheme == "imaps":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=tls, timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(host, port, timeout=TIMEOUT)
            client.starttls(ssl_context=tls)
        mechanism, response = account.sasl()
        if sasl_ir and "SASL-IR" in client.capabilities:
            _authenticate_with_initial_response(client, mechanism, response)
        else:
            client.authenticate(mechanism, lambda _challenge: response)
        client.select("INBOX")
        _, found = client.uid("SEARCH", "UNSEEN")
        for uid in (found[0] or b"").split():
            _, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is not None:
                messages.append(raw)
                client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
        client.logout()
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise MssUnavailable(f"relève MSSanté impossible : {exc}") from exc
    return messages


def _authenticate_with_initial_response(client: imaplib.IMAP4, mechanism: str, response: bytes) -> None:
    """``AUTHENTICATE <mechanism> <base64>`` in one line (RFC 4959). imaplib has no SASL-IR: the command goes through
    its generic sender, and its session state is moved on as its own ``authenticate`` would."""
    typ, data = client._simple_command("AUTHENTICATE", mechanism, base64.b64encode(response).decode("ascii"))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"AUTHENTICATE {mechanism} refusé : {data!r}")
    client.state = "AUTH"
