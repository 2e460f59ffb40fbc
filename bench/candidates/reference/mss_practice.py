"""The reference candidate's MSSanté side: sends documents as IHE XDM, reads its mailbox, and integrates what it
receives by INS, with a "to be matched" queue for everything it cannot file with certainty (MSS-001 … MSS-006)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from lxml import etree

from bench.candidates.base import AdapterError, Environment, Notification, ReceivedDocument, ReceivedDocumentsView
from bench.candidates.reference.filing import replaced_version
from bench.candidates.reference.mss_client import MssAccount, MssDeferred, MssUnavailable, fetch_unseen, send
from bench.fixtures.xds import SubmissionContext, provide_and_register, read_header
from simulators.common.namespaces import HL7
from simulators.insi.ins import INS_OIDS
from simulators.mss.addresses import PATIENT_DOMAIN
from simulators.mss.suites import MSS_CIPHERS
from simulators.mss.xdm import ATTACHMENT_NAME, XdmError, XdmPackage, build_xdm, read_xdm, submission_metadata

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
PATIENT_ID_SCHEME = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"  # XDSDocumentEntry.patientId (ITI TF-3)
HL7_NS = {"h": HL7}
SOURCE_ID = "1.2.250.1.999.1.1.2"
DOCUMENT_FILE = "DOC0001.XML"
NIL = "SEGUR-BENCH-REF-0001"  # the product number Convergence would give the software (X-MSS-NIL)
RETRIES = 5
RETRY_AFTER_S = 0.2


@dataclass(frozen=True)
class LocalPatient:
    """What the software knows of one of its patients, for matching received documents."""

    ref: str
    status: str
    ins_matricule: str | None
    birth_name: str
    birth_date: str


# INSi verification of a received document's identity: (matricule, OID, strict traits from the CDA) -> confirmed?
InsVerifier = Callable[[str, str, dict[str, str]], bool]


class MssPractice:
    def __init__(
        self,
        environment: Environment,
        defects: frozenset[str],
        verify: InsVerifier,
        token: Callable[[], str] | None = None,
    ) -> None:
        self.defects = defects
        self.verify = verify
        self.smtp_url = environment.get("mss_smtp_url")
        self.imap_url = environment.get("mss_imap_url")
        self.account = MssAccount(environment.get("mss_address"), environment.get("mss_password"), token)
        if environment.client_tls is None:
            raise AdapterError("le candidat de référence exige TLS")
        # Its own context: toward the operator, only the suites SC.MSS/CONF.03 lists (TLS 1.2), verified server.
        self.tls = ssl.create_default_context(cafile=environment.ca_file)
        self.tls.load_cert_chain(environment.client_cert_file, environment.client_key_file)
        if "mss.any_cipher_suite" in defects:
            self.tls.set_ciphers("DEFAULT")  # OpenSSL's defaults, as many stacks offer them: RSA key exchange included
        else:
            self.tls.minimum_version = self.tls.maximum_version = ssl.TLSVersion.TLSv1_2
            self.tls.set_ciphers(":".join(MSS_CIPHERS))
        if "mss.accept_any_certificate" in defects:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        self.filed: list[ReceivedDocument] = []
        self.pending: list[ReceivedDocument] = []
        self.documents: dict[str, bytes] = {}  # unique id -> the CDA filed (what the record shows and sorts by)
        self.replaced: dict[str, str] = {}  # unique id of a filed version -> the newer version's that replaced it
        self.received: dict[str, tuple[str, str, str]] = {}  # Message-ID -> (From, Subject, References)
        self.notifications: list[Notification] = []  # DSN and MDN received for the messages it sent, as shown
        self.sent = 0  # messages the operator accepted: what the dashboard counts (GEN-003)
        # Messages the operator deferred (4yz), sent again in the background with the same Message-ID (MSS-016).
        self._deferred = 0
        self._retries = threading.Condition()

    def configure(self, smtp_url: str, imap_url: str) -> None:
        self.smtp_url, self.imap_url = smtp_url, imap_url

    def forget(self) -> None:
        self.filed.clear()
        self.pending.clear()
        self.documents.clear()
        self.replaced.clear()
        self.received.clear()
        self.notifications.clear()

    def view(self) -> ReceivedDocumentsView:
        return ReceivedDocumentsView(
            filed=list(self.filed), pending=list(self.pending), notifications=list(self.notifications)
        )

    # sending ---------------------------------------------------------------------------------------------------
    def send(self, patient: LocalPatient, document: bytes, recipient: str, *, no_reply: bool = False) -> str:
        """Send ``document`` to ``recipient`` (or the patient's mailbox); returns what the user is told."""
        to_patient = recipient == "patient"
        if recipient == "patient":
            allowed = patient.status == "qualifiee" or "mss.patient_mailbox_unqualified" in self.defects
            if not allowed or not patient.ins_matricule:
                return "Envoi à la messagerie de santé du patient impossible : identité non qualifiée (INS requise)"
            recipient = f"{patient.ins_matricule}@{PATIENT_DOMAIN}"
        message = self._compose(document, recipient, end_exchange=no_reply and to_patient)
        try:
            self._submit(recipient, message)
        except MssDeferred as exc:
            if "mss.no_retry" in self.defects:
                return f"Message non envoyé : {exc}"  # and forgotten: the defect loses it
            self._retry_later(recipient, message, RETRIES)
            return f"Message différé par l'opérateur, renvoi automatique : {exc}"
        except MssUnavailable as exc:
            return f"Message non envoyé : {exc}"
        return f"Message envoyé à {recipient}"

    def _submit(self, recipient: str, message: bytes) -> None:
        ask = "mss.no_ack_request" not in self.defects
        sized = "mss.ignores_size_limit" not in self.defects
        send(self.smtp_url, self.tls, self.account, [recipient], message, notify_success=ask, check_size=sized)
        self.sent += 1

    def _retry_later(self, recipient: str, message: bytes, attempts: int) -> None:
        """The very same message (same Message-ID: a resend, never a second message) again in a while."""
        with self._retries:
            self._deferred += 1
        timer = threading.Timer(RETRY_AFTER_S, self._retry, (recipient, message, attempts - 1))
        timer.daemon = True
        timer.start()

    def _retry(self, recipient: str, message: bytes, attempts: int) -> None:
        try:
            self._submit(recipient, message)
        except MssDeferred:
            if attempts > 0:
                self._retry_later(recipient, message, attempts)
        except MssUnavailable:
            pass  # the server is gone: the user was told the message was deferred; nothing more to try here
        finally:
            with self._retries:
                self._deferred -= 1
                self._retries.notify_all()

    def idle(self, timeout: float) -> bool:
        """Whether no deferred message waits to be sent again, waiting at most ``timeout`` seconds."""
        with self._retries:
            return self._retries.wait_for(lambda: self._deferred == 0, timeout=timeout)

    def _compose(self, document: bytes, recipient: str, *, end_exchange: bool = False) -> bytes:
        header = read_header(document)
        context = SubmissionContext(
            source_id=SOURCE_ID, wrong_hash="mss.xdm_wrong_hash" in self.defects, local_patient=True
        )
        submission = provide_and_register(document, context)
        metadata = submission_metadata(submission.body.encode(), {submission.entry_uuid: DOCUMENT_FILE})
        package = build_xdm({DOCUMENT_FILE: document}, metadata, sender=self.account.address)
        message = EmailMessage()
        message["From"] = self.account.address
        message["To"] = recipient
        message["Subject"] = f"Document : {header.title}"
        message["Date"] = email.utils.formatdate(localtime=True)
        message["Message-ID"] = email.utils.make_msgid(domain=self.account.address.rpartition("@")[2])
        # MSSanté headers of wave-2 clients (SC.MSS/CONF.14, .15, .16).
        qualified = header.patient_id is not None  # read_header keeps an INS only (a qualified identity's)
        if "mss.no_x_mss_ins" not in self.defects:
            message["X-MSS-INS"] = "O" if qualified or "mss.x_mss_ins_always_o" in self.defects else "N"
        if "mss.no_x_mss_codecda" not in self.defects:
            message["X-MSS-CODECDA"] = header.type_code[0]
        if "mss.no_x_mss_nil" not in self.defects:
            message["X-MSS-NIL"] = NIL
        if "mss.no_ack_request" not in self.defects:
            message["Disposition-Notification-To"] = self.account.address  # a read receipt, shown with the message
        if end_exchange and "mss.no_x_mss_mes" not in self.defects:
            message["X-MSS-MES"] = "FIN"  # to a patient, no answer wanted (SC.MSS/CONF.21)
        charset = "iso-8859-1" if "mss.latin1_body" in self.defects else "utf-8"
        message.set_content("Veuillez trouver ci-joint un document au format IHE XDM, à intégrer.\n", charset=charset)
        if "mss.attachment_not_xdm" in self.defects:
            message.add_attachment(package, maintype="application", subtype="octet-stream", filename="documents.zip")
        else:
            message.add_attachment(package, maintype="application", subtype="zip", filename=ATTACHMENT_NAME)
        return message.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as RFC 5322 and SMTP DATA want

    def reply(self, message_id: str) -> str:
        """A plain-text answer to a received message, threaded as RFC 5322 §3.6.4 says (MSS/va1.08, va1.11, va1.12)."""
        if message_id not in self.received:
            return f"Réponse impossible : message {message_id} non reçu"
        sender, subject, references = self.received[message_id]
        message = EmailMessage()
        message["From"] = self.account.address
        message["To"] = sender
        message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        message["Date"] = email.utils.formatdate(localtime=True)
        message["Message-ID"] = email.utils.make_msgid(domain=self.account.address.rpartition("@")[2])
        if "mss.reply_without_references" not in self.defects:
            message["In-Reply-To"] = message_id
            message["References"] = f"{references} {message_id}".strip()
        message.set_content("Bien reçu, merci.\n", charset="utf-8")
        try:
            address = email.utils.parseaddr(sender)[1]
            send(self.smtp_url, self.tls, self.account, [address], message.as_bytes(policy=email.policy.SMTP))
        except MssUnavailable as exc:
            return f"Réponse non envoyée : {exc}"
        self.sent += 1
        return f"Réponse envoyée à {sender}"

    def _shown(self, notification: Notification) -> bool:
        return notification.kind != "echec" or "mss.delivery_failure_hidden" not in self.defects

    def _read_receipt(self, to: str, original_id: str, subject: str) -> None:
        """The MDN a read message asked for (RFC 8098: multipart/report, disposition-notification)."""
        report = MIMEMultipart("report", report_type="disposition-notification", policy=email.policy.SMTP)
        report["From"] = self.account.address
        report["To"] = to
        report["Subject"] = f"Accusé de lecture : {subject}"
        report["Date"] = email.utils.formatdate(localtime=True)
        report["Message-ID"] = email.utils.make_msgid(domain=self.account.address.rpartition("@")[2])
        report["Auto-Submitted"] = "auto-replied"
        report.attach(MIMEText(f"Votre message {original_id} a été lu.", "plain", "utf-8", policy=email.policy.SMTP))
        fields = MIMEBase("message", "disposition-notification", policy=email.policy.SMTP)
        fields.set_payload(
            f"Reporting-UA: segur-bench-reference\r\nFinal-Recipient: rfc822; {self.account.address}\r\n"
            f"Original-Message-ID: {original_id}\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        )
        report.attach(fields)
        data = report.as_bytes(policy=email.policy.SMTP)
        try:
            send(self.smtp_url, self.tls, self.account, [email.utils.parseaddr(to)[1]], data)
        except MssUnavailable:
            return  # the message stays read; the receipt is not essential to the user
        self.sent += 1

    # reception -------------------------------------------------------------------------------------------------
    def check_mailbox(self, patients: list[LocalPatient]) -> str:
        try:
            messages = fetch_unseen(self.imap_url, self.tls, self.account, sasl_ir="mss.no_sasl_ir" not in self.defects)
        except MssUnavailable as exc:
            return f"Relève de la messagerie impossible : {exc}"
        for raw in messages:
            self._integrate(raw, patients)
        return f"{len(messages)} message(s) relevé(s)"

    def _integrate(self, raw: bytes, patients: list[LocalPatient]) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID", "")).strip()
        if message_id:
            said = (str(message.get("From", "")), str(message.get("Subject", "")), str(message.get("References", "")))
            self.received[message_id] = said
        if message.get_content_type() == "multipart/report":
            self.notifications += [n for n in _notifications(message) if self._shown(n)]
            return  # a delivery or read notification: shown with the message it reports on, nothing to file
        asked = str(message.get("Disposition-Notification-To", "")).strip()
        if asked and message_id and "mss.no_read_receipt" not in self.defects:
            self._read_receipt(asked, message_id, str(message.get("Subject", "")))
        attachment = _xdm_attachment(message)
        if attachment is None:
            return  # a plain message: the user reads it
        subject = str(message.get("Subject", ""))
        if "mss.subject_prefix_shown" not in self.defects:
            subject = XDM_SUBJECT.sub("", subject)  # SC.MSS/UX.27: the IHE XDM marker is not for the user
        try:
            package = read_xdm(attachment)
            entries = _entries(package)
        except XdmError as exc:
            problem = f"pièce jointe XDM illisible : {exc}"
            self.pending.append(ReceivedDocument(message_id, None, None, problem, subject))
            return
        for patient_id, document in entries:
            self._file(message_id, patient_id, document, patients, subject)

    def _file(
        self, message_id: str, patient_id: str, document: bytes, patients: list[LocalPatient], subject: str
    ) -> None:
        try:
            header = read_header(document)
            unique_id: str | None = header.unique_id
            type_code = header.type_code[0] if "mss.filed_without_type" not in self.defects else None
        except Exception:  # an unreadable document still goes to the queue, never lost
            unique_id, type_code = None, None
        duplicate = unique_id is not None and any(f.unique_id == unique_id for f in self.filed)
        if duplicate and "mss.integrate_duplicates" not in self.defects:
            return  # SC.MSS/CDA.01: the same version is already integrated; the user is told, nothing is added
        matricule, _, authority = patient_id.partition("^^^&")
        oid = authority.split("&")[0]
        is_ins = oid in INS_OIDS
        confirmed = is_ins and (
            "mss.no_insi_check_on_receipt" in self.defects or self.verify(matricule, oid, _cda_traits(document))
        )  # SC.MSS/UX.03: the INS of a received document is verified through INSi before it is trusted
        matches = [p for p in patients if confirmed and p.status == "qualifiee" and p.ins_matricule == matricule]
        if len(matches) == 1 and "mss.no_auto_integration" not in self.defects:
            self._keep(ReceivedDocument(message_id, unique_id, matches[0].ref, None, subject, type_code), document)
            return
        reason = "rapprochement manuel demandé"
        if is_ins and not confirmed:
            reason = "INS du document non confirmée par INSi"
        elif not matches:
            reason = "patient inconnu (INS absente du fichier patients)" if is_ins else "document sans INS"
        if "mss.file_unknown_silently" in self.defects and not matches and patients:
            self._keep(ReceivedDocument(message_id, unique_id, patients[0].ref, None, subject, type_code), document)
            return
        self.pending.append(ReceivedDocument(message_id, unique_id, None, reason, subject, type_code))

    def _keep(self, filed: ReceivedDocument, document: bytes) -> None:
        """File ``document`` in its record; a new version of a document already there replaces it, the old one kept as
        history (SC.MSS/CDA.03)."""
        self.filed.append(filed)
        if filed.unique_id is None:
            return
        self.documents[filed.unique_id] = document
        earlier = replaced_version(document)
        same_record = {f.unique_id for f in self.filed if f.patient_ref == filed.patient_ref}
        if earlier is not None and earlier in same_record and "mss.new_version_beside_old" not in self.defects:
            self.replaced[earlier] = filed.unique_id


# The subject marker of IHE ITI-32 "ZIP over e-mail" messages, not for the user's eyes (SC.MSS/UX.27).
XDM_SUBJECT = re.compile(r"^\s*XDM/1\.0/DDM\+?\s*", re.IGNORECASE)


def _notifications(report: Message) -> list[Notification]:
    """What a DSN (RFC 3464) or an MDN (RFC 8098) says about a message the software sent."""
    original = ""
    found: list[Notification] = []
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            headers = email.message_from_string(str(part.get_payload()), policy=email.policy.default)
            original = original or str(headers.get("Message-ID", "")).strip()
        elif kind in ("message/delivery-status", "message/disposition-notification"):
            for block in _field_blocks(part):
                original = original or block.get("original-message-id", "")
                recipient = block.get("final-recipient", "").split(";")[-1].strip()
                if kind == "message/disposition-notification":
                    found.append(Notification("", "lecture", recipient))
                elif block.get("action", "").lower() == "failed":
                    found.append(Notification("", "echec", recipient, block.get("diagnostic-code") or "échec"))
                elif block.get("action", "").lower() == "delivered":
                    found.append(Notification("", "remise", recipient))
    return [Notification(original, n.kind, n.recipient, n.reason) for n in found if original]


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The header-like field groups of a report part (lower-case names), however the parser delivered them."""
    payload = part.get_payload()
    groups = [dict(m.items()) for m in payload if isinstance(m, Message)] if isinstance(payload, list) else []
    if not groups:
        text = str(payload).replace("\r\n", "\n")
        groups = [
            dict(line.split(":", 1) for line in chunk.splitlines() if ":" in line) for chunk in text.split("\n\n")
        ]
    return [{k.strip().lower(): str(v).strip() for k, v in group.items()} for group in groups if group]


def _cda_traits(document: bytes) -> dict[str, str]:
    """The strict traits of the CDA's recordTarget, as INSi verification takes them."""
    try:
        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return {}
    patient = root.find("h:recordTarget/h:patientRole/h:patient", HL7_NS)
    if patient is None:
        return {}
    birth = patient.find("h:birthTime", HL7_NS)
    stamp = birth.get("value", "") if birth is not None else ""
    gender = patient.find("h:administrativeGenderCode", HL7_NS)
    given = patient.find("h:name/h:given[@qualifier='BR']", HL7_NS)
    return {
        "birth_name": patient.findtext("h:name/h:family", default="", namespaces=HL7_NS),
        "first_name": given.text or "" if given is not None else "",
        "sex": gender.get("code", "") if gender is not None else "",
        "birth_date": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if len(stamp) >= 8 else "",
        "birth_place": patient.findtext("h:birthplace/h:place/h:addr/h:county", default="", namespaces=HL7_NS),
    }


def _xdm_attachment(message: Message) -> bytes | None:
    for part in message.walk():
        if (part.get_filename() or "").upper() == ATTACHMENT_NAME:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def _entries(package: XdmPackage) -> list[tuple[str, bytes]]:
    """(patientId, document bytes) of each DocumentEntry, the document checked against its declared hash and size."""
    metadata = package.metadata()
    found = []
    for entry in metadata.iter(f"{{{RIM}}}ExtrinsicObject"):
        slots = {
            slot.get("name"): [v.text or "" for v in slot.iter(f"{{{RIM}}}Value")]
            for slot in entry.iter(f"{{{RIM}}}Slot")
        }
        uri = (slots.get("URI") or [""])[0]
        document = package.document(uri)
        if document is None:
            raise XdmError(f"document {uri!r} annoncé dans METADATA.XML mais absent")
        if (slots.get("hash") or [""])[0].lower() != hashlib.sha1(document).hexdigest():
            raise XdmError(f"empreinte de {uri} différente de METADATA.XML")
        patient = next(
            (i.get("value", "") for i in entry.iter(f"{{{RIM}}}ExternalIdentifier")
             if i.get("identificationScheme") == PATIENT_ID_SCHEME),
            "",
        )  # fmt: skip
        found.append((patient, document))
    if not found:
        raise XdmError("METADATA.XML ne décrit aucun document")
    return found
