"""MSSanté benchmark: messages accepted per second with a 200 KB IHE XDM attachment over STARTTLS + AUTH, and IMAP
fetches per second over TLS. The simulator runs in its own process, as it would for a vendor's software; messages are
built before the clock starts. Each submission is a full session (connect, STARTTLS, AUTH, MAIL/RCPT/DATA, QUIT), as a
practice software sends one document; fetches reuse one authenticated IMAP session, as a mail client does."""

from __future__ import annotations

import imaplib
import multiprocessing
import os
import smtplib
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulators.mss.xdm import ATTACHMENT_NAME, build_xdm

ATTACHMENT_BYTES = 200 * 1024


@dataclass(frozen=True)
class MssFigures:
    messages: int
    attachment_kib: int
    messages_per_s: float
    fetches: int
    fetches_per_s: float


def _serve(pki_dir: str, run_dir: str, ready: Any, stop: Any) -> None:
    from simulators.common.journal import Journal
    from simulators.common.pki import ensure_pki
    from simulators.mss.app import MssSimulator

    journal = Journal(Path(run_dir))
    simulator = MssSimulator(journal, ensure_pki(Path(pki_dir))).start()
    assert simulator.endpoints is not None
    ready.put((simulator.endpoints.smtp, simulator.endpoints.imaps, simulator.password))
    stop.wait()
    simulator.stop()
    journal.close()


def _message(sender: str) -> bytes:
    document = os.urandom(ATTACHMENT_BYTES // 2).hex().encode()  # incompressible, so the zip stays ~200 KB
    package = build_xdm({"DOC0001.XML": document}, b"<metadata/>", sender=sender)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = sender
    message["Subject"] = "perf"
    message.set_content("perf")
    message.add_attachment(package, maintype="application", subtype="zip", filename=ATTACHMENT_NAME)
    return message.as_bytes()


def measure_mss(pki_dir: Path, messages: int = 200, fetches: int = 1000) -> MssFigures:
    from simulators.common.pki import ensure_pki
    from simulators.mss.addresses import CANDIDATE_MAILBOX

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-mss-") as run_dir:
        server = context.Process(target=_serve, args=(str(pki_dir), run_dir, ready, stop), daemon=True)
        server.start()
        try:
            smtp_url, imaps_url, password = ready.get(timeout=60)
            tls = ensure_pki(pki_dir).client_context()
            smtp, imaps = urlsplit(smtp_url), urlsplit(imaps_url)
            data = _message(CANDIDATE_MAILBOX).replace(b"\n", b"\r\n")
            clock = time.perf_counter()
            for _ in range(messages):
                with smtplib.SMTP(smtp.hostname or "", smtp.port or 0, timeout=30) as client:
                    client.starttls(context=tls)
                    client.login(CANDIDATE_MAILBOX, password)
                    client.sendmail(CANDIDATE_MAILBOX, ["dr.perf@segur-bench.mssante.fr"], data)
            sent = time.perf_counter() - clock
            with imaplib.IMAP4_SSL(imaps.hostname or "", imaps.port or 0, ssl_context=tls, timeout=30) as client:
                client.login(CANDIDATE_MAILBOX, password)
                client.append("INBOX", None, None, data)
                client.select("INBOX")
                clock = time.perf_counter()
                for _ in range(fetches):
                    client.fetch("1", "(BODY.PEEK[])")
                fetched = time.perf_counter() - clock
        finally:
            stop.set()
            server.join(timeout=10)
    return MssFigures(
        messages=messages,
        attachment_kib=ATTACHMENT_BYTES // 1024,
        messages_per_s=round(messages / sent, 1),
        fetches=fetches,
        fetches_per_s=round(fetches / fetched, 1),
    )
