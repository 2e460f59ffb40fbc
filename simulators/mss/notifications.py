"""Delivery and read notifications, as the correspondents' side of MSSanté sends them back.

- DSN (RFC 3464 format, RFC 3461 request): ``multipart/report; report-type=delivery-status`` when the submission asked
  for ``NOTIFY=SUCCESS`` on a recipient.
- MDN (RFC 8098): ``multipart/report; report-type=disposition-notification`` when the message carries
  ``Disposition-Notification-To`` (the simulated correspondent displayed it).
"""

from __future__ import annotations

import email.policy
import email.utils
import unicodedata
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from simulators.mss.addresses import BENCH_DOMAIN

REPORTING_MTA = "dns; smtp.segur-bench.mssante.fr"
POSTMASTER = f"postmaster@{BENCH_DOMAIN}"


def _headers_of(original: Message) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in original.items())


def _report(report_type: str, to: str, subject: str, text: str, status_part: MIMEBase, original: Message) -> bytes:
    report = MIMEMultipart("report", report_type=report_type)
    report["From"] = POSTMASTER
    report["To"] = to
    report["Subject"] = subject
    report["Date"] = email.utils.formatdate(localtime=False)
    report["Message-ID"] = email.utils.make_msgid(domain=BENCH_DOMAIN)
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText(text, "plain", "utf-8"))
    report.attach(status_part)
    headers = MIMEBase("text", "rfc822-headers")
    headers.set_payload(_headers_of(original))
    report.attach(headers)
    return report.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))


def delivery_status(
    original: Message, sender: str, delivered: list[str], envid: str | None = None, *, failure: str | None = None
) -> bytes:
    """A DSN saying ``delivered`` recipients got the message (Action: delivered, Status 2.0.0), or with ``failure``
    that it could not be delivered to them (Action: failed, Status 5.1.1, the reason as Diagnostic-Code)."""
    per_message = Message()
    per_message["Reporting-MTA"] = REPORTING_MTA
    if envid:
        per_message["Original-Envelope-Id"] = envid
    blocks = [per_message]
    for rcpt in delivered:
        block = Message()
        block["Final-Recipient"] = f"rfc822; {rcpt}"
        block["Action"] = "failed" if failure else "delivered"
        block["Status"] = "5.1.1" if failure else "2.0.0"
        if failure:  # a header field: ASCII (RFC 3464 §2.3.6); the text part says it in full
            plain = unicodedata.normalize("NFKD", failure).encode("ascii", "ignore").decode()
            block["Diagnostic-Code"] = f"smtp; 550 5.1.1 {plain}"
        blocks.append(block)
    status = MIMEBase("message", "delivery-status")
    status.set_payload(blocks)  # type: ignore[arg-type]  # the generator writes each block as a header group
    if failure:
        text = f"Votre message n'a pas pu être remis à : {', '.join(delivered)} ({failure})"
        subject = f"Échec de remise : {original.get('Subject', '')}"
    else:
        text = "Votre message a été remis à : " + ", ".join(delivered)
        subject = f"Avis de remise : {original.get('Subject', '')}"
    return _report("delivery-status", sender, subject, text, status, original)


def read_receipt(original: Message, reader: str) -> bytes | None:
    """An MDN from ``reader``, or None when the message did not ask for one."""
    to = original.get("Disposition-Notification-To")
    if not to:
        return None
    fields = [
        "Reporting-UA: segur-bench; correspondant simule",
        f"Final-Recipient: rfc822; {reader}",
        f"Original-Message-ID: {original.get('Message-ID', '')}",
        "Disposition: manual-action/MDN-sent-manually; displayed",
    ]
    status = MIMEBase("message", "disposition-notification")
    status.set_payload("\r\n".join(fields) + "\r\n")
    subject = f"Avis de lecture : {original.get('Subject', '')}"
    return _report("disposition-notification", str(to), subject, f"Message lu par {reader}.", status, original)
