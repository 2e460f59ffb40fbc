"""Messages the bench delivers into the candidate's MSSanté mailbox: a correspondent's document as IHE XDM, for a
known patient, an unknown one, without INS, or in a broken package. The document and its metadata go through the
same CDA and XDS builders the DMP seeding uses, so what arrives is what a real correspondent's software sends."""

from __future__ import annotations

import email.policy
import email.utils
import io
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage

from bench.fixtures.colleague import COLLEAGUE, colleague_moment, colleague_record_target
from bench.fixtures.documents import Lineage, build_cda
from bench.fixtures.xds import SubmissionContext, provide_and_register, read_header
from simulators.insi.identities import Person
from simulators.mss.addresses import CANDIDATE_MAILBOX, CORRESPONDENT
from simulators.mss.xdm import ATTACHMENT_NAME, METADATA, build_xdm, submission_metadata

DOCUMENT_FILE = "DOC0001.XML"
BROKEN = {"metadata": frozenset({METADATA}), "traversal": frozenset()}


@dataclass(frozen=True)
class Delivery:
    data: bytes
    message_id: str
    unique_id: str
    subject: str = ""
    type_code: str = ""  # the document's type (CDA code), where the software must file it
    document: bytes = b""  # the CDA it carries (a later message may carry its next version)
    entry_uuid: str = ""  # its XDS entryUUID in the package's metadata (what a new version's RPLC targets)
    effective_day: str | None = None  # the document's date, YYYY-MM-DD (what the record sorts it by)


def _traversal_zip(documents: dict[str, bytes], metadata: bytes) -> bytes:
    """A package whose document entry climbs out of the archive (``../``): refused by any careful reader."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("INDEX.HTM", "<html/>")
        archive.writestr("README.TXT", "XDM")
        archive.writestr(METADATA, metadata)
        for name, data in documents.items():
            archive.writestr(f"IHE_XDM/SUBSET01/../../../{name}", data)
    return buffer.getvalue()


def build_delivery(
    person: Person,
    kind: str,
    *,
    with_ins: bool = True,
    xdm: str = "valid",
    read_receipt: bool = False,
    replaces: Delivery | None = None,
) -> Delivery:
    """A message from a correspondent to the candidate carrying ``person``'s document of ``kind``, written a few days
    ago. ``with_ins=False``: the correspondent only knows the patient by its own local id (no INS in CDA or metadata).
    ``xdm``: ``valid``, ``metadata`` (METADATA.XML left out) or ``traversal`` (an entry with ``..``). ``replaces``: an
    earlier delivery whose document this one's is the next version of (same setId, relatedDocument RPLC in the CDA,
    an RPLC association to the earlier entry in the package's metadata: CI-SIS en-tête, IHE ITI TF-3 §4.2.2)."""
    patient = colleague_record_target(person, "CORRESPONDANT-7", with_ins=with_ins)
    lineage = Lineage.of(replaces.document) if replaces is not None else None
    moment = colleague_moment(days_ago=1 if replaces is not None else 3)
    document = build_cda(kind, patient, COLLEAGUE, now=moment, replaces=lineage)
    context = SubmissionContext(
        source_id=COLLEAGUE.practice_id, replaces_entry=replaces.entry_uuid if replaces is not None else None
    )
    submission = provide_and_register(document, context)
    metadata = submission_metadata(submission.body.encode(), {submission.entry_uuid: DOCUMENT_FILE})
    documents = {DOCUMENT_FILE: document}
    if xdm == "traversal":
        package = _traversal_zip(documents, metadata)
    else:
        package = build_xdm(documents, metadata, sender=CORRESPONDENT, leave_out=BROKEN.get(xdm, frozenset()))
    message = EmailMessage()
    message_id = email.utils.make_msgid(domain="segur-bench.mssante.fr")
    message["From"] = CORRESPONDENT
    message["To"] = CANDIDATE_MAILBOX
    # The IHE ITI-32 "ZIP over e-mail" subject marker, as SC.MSS/UX.27 names it.
    message["Subject"] = f"XDM/1.0/DDM+{read_header(document).title}"
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = message_id
    # A wave-2 correspondent's software adds the MSSanté headers (SC.MSS/CONF.14, .15, .16).
    message["X-MSS-INS"] = "O" if with_ins else "N"
    message["X-MSS-CODECDA"] = read_header(document).type_code[0]
    message["X-MSS-NIL"] = "SEGUR-BENCH-CORRESPONDANT-0001"
    if read_receipt:
        message["Disposition-Notification-To"] = CORRESPONDENT  # the correspondent asks to know it was read (RFC 8098)
    message.set_content("Bonjour,\nci-joint un document pour notre patient commun.\nConfraternellement.\n")
    message.add_attachment(package, maintype="application", subtype="zip", filename=ATTACHMENT_NAME)
    data = message.as_bytes(policy=email.policy.SMTP)
    header = read_header(document)
    subject = str(message["Subject"])
    return Delivery(
        data,
        message_id,
        header.unique_id,
        subject,
        header.type_code[0],
        document,
        submission.entry_uuid,
        header.effective_day,
    )
