"""MSSanté checks (MSS-001 … MSS-006), judged from what the MSSanté simulator recorded: accepted messages as raw
``.eml`` with their TLS and authentication, SMTP session transcripts, IMAP commands, the messages the bench
delivered, and the candidate's reception queue. Sources: Référentiel socle MSSanté #2 (ANS), IHE ITI TF-1 §16 and
TF-3 §4.2.4.2 (XDM), RFC 5321/3207/4954 (SMTP), RFC 3501 (IMAP), RFC 5322/2045 (messages)."""

from __future__ import annotations

import email
import email.header
import email.policy
import functools
import re
from collections import Counter
from collections.abc import Callable
from email.message import Message
from typing import Any

from bench.actions.core import RECORD
from bench.checks.base import CheckContext, Evidence
from bench.checks.imports import ImportKeys, judge_imports, says_filing
from bench.checks.registry import Verdict, check, errored, failed, omitted, passed, skipped
from bench.domains.dmp.checks import NS, code_problems, consistency_problems
from bench.domains.mss import RECEIVED_VIEW
from bench.domains.sec.checks import TLS_VERSIONS
from simulators.common.journal import Exchange
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml
from simulators.dmp.xds import read_submission
from simulators.insi.ins import INS_OIDS
from simulators.mss.addresses import bare_address, patient_matricule
from simulators.mss.suites import MSS_CIPHERS
from simulators.mss.xdm import ATTACHMENT_NAME, INDEX, METADATA, README, XdmError, read_xdm

MESSAGE = "mss.smtp.message"
CAPTURED = "mss.message"  # a message from a field capture (.eml): its bytes only, no SMTP session around it
SESSION = "mss.smtp.session"


def _decoded_header(raw: str) -> str:
    """A header field as sent (RFC 2047 encoded words and all), decoded and with its spaces collapsed."""
    try:
        text = str(email.header.make_header(email.header.decode_header(raw)))
    except (ValueError, LookupError, UnicodeError):
        text = raw
    return " ".join(text.split())


DELIVERY = "mss.delivery"
RECEIVED = RECEIVED_VIEW.transaction
FETCHES = ("mss.imap.fetch", "mss.imap.uid_fetch")


def _sent(evidence: Evidence, context: CheckContext, channel: str = "mss") -> list[Exchange]:
    """Messages the candidate submitted: the expectation's one, else every one of the patient (or all)."""
    if context.focus is not None and context.focus.transaction in (MESSAGE, CAPTURED):
        return [context.focus]
    keys = context.patient.keys if context.patient else None
    messages = evidence.select(channel=channel, transactions=(MESSAGE,))
    if keys is not None:
        messages = [m for m in messages if keys.intersection(m.subjects) or not m.subjects]
    return messages


def parse_mail(data: bytes) -> tuple[Message | None, list[str]]:
    """The message and what is wrong with its MIME structure (RFC 5322/2045), never an exception."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception as exc:  # a finding, not a crash
        return None, [f"message illisible : {exc}"]
    problems = []
    for part in message.walk():
        problems += [f"structure MIME : {type(defect).__name__}" for defect in part.defects]
    return message, problems


def _mail(evidence: Evidence, exchange: Exchange) -> tuple[Message | None, list[str]]:
    return evidence.memo(exchange, "mail", lambda: parse_mail(evidence.part(exchange, "message") or b""))


def xdm_attachments(message: Message) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of every zip attachment."""
    found = []
    for part in message.walk():
        name = part.get_filename() or ""
        if name.lower().endswith(".zip") or part.get_content_type() in ("application/zip", "application/x-zip"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append((name, part.get_content_type(), payload))
    return found


# MSS-001 -------------------------------------------------------------------------------------------------------
def _session_explanation(evidence: Evidence) -> str | None:
    """Why no message got through: the last refusal of the server in the recorded sessions."""
    for session in reversed(evidence.select(channel="mss", transactions=(SESSION,))):
        transcript = (evidence.part(session, "transcript") or b"").decode("utf-8", "replace").splitlines()
        refusals = [line for line in transcript if line.startswith(("S: 4", "S: 5"))]
        if refusals:
            return refusals[-1][3:]
    return None


def _format_problems(message: Message | None, mime: list[str], user: str | None) -> list[str]:
    """What the message itself shows (RFC 5322/2045 structure, sender, IHE_XDM.ZIP attachment)."""
    if message is None:
        return mime
    problems = list(mime)
    for header in ("From", "Date", "Message-ID"):
        if not message.get(header):
            problems.append(f"en-tête {header} absent (RFC 5322)")
    sender = bare_address(str(message.get("From", "")))
    if user and sender.lower() != user.lower():
        problems.append(f"From {sender!r} ≠ boîte authentifiée {user!r}")
    if not message.is_multipart():
        problems.append("message sans pièce jointe (multipart/mixed attendu)")
    zips = xdm_attachments(message)
    if not any(name.upper() == ATTACHMENT_NAME for name, _, _ in zips):
        seen = ", ".join(f"{name or 'sans nom'} ({kind})" for name, kind, _ in zips) or "aucune"
        problems.append(f"pièce jointe {ATTACHMENT_NAME} absente (pièces zip trouvées : {seen})")
    for name, kind, _ in zips:
        if name.upper() == ATTACHMENT_NAME and kind != "application/zip":
            problems.append(f"{ATTACHMENT_NAME} déclarée {kind} : application/zip attendu")
    return problems


def _submission_problems(exchange: Exchange, message: Message | None, mime: list[str]) -> list[str]:
    problems = []
    tls = (exchange.peer or {}).get("tls") or {}
    if not tls.get("tls"):
        problems.append("session SMTP non chiffrée")
    elif tls.get("version") not in TLS_VERSIONS:
        problems.append(f"TLS {tls.get('version')} : TLS 1.2 au minimum")
    auth = exchange.meta.get("auth") or {}
    if not auth.get("mechanism"):
        problems.append("envoi sans authentification SMTP (AUTH)")
    return problems + _format_problems(message, mime, auth.get("user"))


@check(
    "mss.message_format",
    requirements=("MSS-001",),
    title="Message MSSanté bien formé, avec IHE_XDM.ZIP",
    applies_to=("mss.message",),
)
def message_format(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """What a captured message (.eml) proves on its own; TLS and authentication need the session (not in an .eml)."""
    messages = _sent(evidence, context)
    if not messages:
        return [omitted("aucun message à juger", None)]
    findings = []
    for exchange in messages:
        message, mime = _mail(evidence, exchange)
        findings += [failed(problem, exchange) for problem in _format_problems(message, mime, None)]
    if findings:
        return findings
    summary = f"{len(messages)} message(s) bien formé(s) avec {ATTACHMENT_NAME} (TLS et AUTH : non visibles ici)"
    return [passed(summary, messages[-1])]


@check("mss.smtp_submission", requirements=("MSS-001",), title="Envoi SMTP authentifié sur TLS avec pièce jointe XDM")
def smtp_submission(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    messages = _sent(evidence, context)
    if not messages:
        why = _session_explanation(evidence)
        if why:
            return [failed(f"aucun message accepté : « {why} »", None)]
        return [omitted("aucun envoi MSSanté à juger", None)]
    findings = []
    for exchange in messages:
        message, mime = _mail(evidence, exchange)
        for problem in _submission_problems(exchange, message, mime):
            findings.append(failed(problem, exchange))
    if findings:
        return findings
    return [
        passed(
            f"{len(messages)} message(s) soumis en SMTP authentifié sur TLS, avec {ATTACHMENT_NAME}",
            messages[-1],
        )
    ]


# MSS-002 -------------------------------------------------------------------------------------------------------
def xdm_problems(package_bytes: bytes, context: CheckContext) -> list[str]:
    """Layout, METADATA.XML and its consistency with each document (hash, size, patient, type, CDA header)."""
    try:
        package = read_xdm(package_bytes)
    except XdmError as exc:
        return [str(exc)]
    problems = [f"{name} absent de l'archive" for name in (INDEX, README, METADATA) if package.get(name) is None]
    try:
        metadata = package.metadata()
    except XdmError as exc:
        return [*problems, str(exc)] if METADATA not in " ".join(problems) else problems
    submission = read_submission(metadata)
    if not submission.entries:
        return [*problems, "METADATA.XML ne décrit aucun document (DocumentEntry)"]
    for entry in submission.entries:
        where = f"fiche {entry.id} : "
        uri = entry.slot("URI")
        if not uri:
            problems.append(where + "slot URI absent (nom du fichier du document)")
            continue
        document = package.document(uri)
        if document is None:
            problems.append(where + f"document {uri!r} absent de IHE_XDM/SUBSET01")
            continue
        problems += [where + p for p in consistency_problems(entry, document, local_patient_allowed=True)]
        problems += [where + p for p in code_problems(entry, context, dmp=False)]
    return problems


@check(
    "mss.xdm_package",
    requirements=("MSS-002",),
    title="Paquet IHE XDM complet et cohérent",
    applies_to=("mss.message",),
)
def xdm_package(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    judged = 0
    findings = []
    for exchange in _sent(evidence, context):
        message, _ = _mail(evidence, exchange)
        if message is None:
            continue
        for name, _, data in xdm_attachments(message):
            judged += 1
            for problem in xdm_problems(data, context):
                findings.append(failed(f"{name} : {problem}", exchange))
    if findings:
        return findings
    if not judged:
        return [omitted("aucun paquet XDM à juger", None)]
    return [
        passed(
            f"{judged} paquet(s) XDM complets ; METADATA.XML cohérent avec les documents (empreinte, taille, patient, "
            "type, en-tête CDA)",
            None,
        )
    ]


# MSS-007 … MSS-009: MSSanté headers of wave-2 clients (SC.MSS/CONF.14, .15, .16) --------------------------------


def _cda_documents(message: Message) -> list[bytes]:
    """The CDA documents of every XDM attachment (unreadable packages give none: MSS-002 judges those)."""
    found = []
    for _, _, data in xdm_attachments(message):
        try:
            package = read_xdm(data)
        except XdmError:
            continue
        found += [content for name, content in package.files.items() if name.upper().startswith("IHE_XDM/SUBSET01/")
                  and not name.upper().endswith("METADATA.XML") and content.lstrip()[:1] == b"<"]  # fmt: skip
    return found


def _qualified_ins(document: bytes) -> bool | None:
    """Whether the CDA carries a qualified INS as SC.MSS/CONF.14 defines it: matricule under an INS OID and the four
    traits (birth name, first name, birth date, sex). None when the document does not parse."""
    try:
        root = parse_xml(document)
    except UnsafeXmlError:
        return None
    patient_role = root.find("h:recordTarget/h:patientRole", NS)
    if patient_role is None:
        return False
    has_ins = any(i.get("root") in INS_OIDS and i.get("extension") for i in patient_role.iterfind("h:id", NS))
    patient = patient_role.find("h:patient", NS)
    traits = patient is not None and all(
        patient.find(path, NS) is not None
        for path in ("h:name/h:family", "h:name/h:given", "h:birthTime", "h:administrativeGenderCode")
    )
    return has_ins and traits


def _cda_codes(documents: list[bytes]) -> list[str]:
    codes = []
    for document in documents:
        try:
            code = parse_xml(document).find("h:code", NS)
        except UnsafeXmlError:
            continue
        if code is not None and code.get("code"):
            codes.append(str(code.get("code")))
    return codes


def _header_findings(
    evidence: Evidence,
    context: CheckContext,
    judge: Callable[[Message, list[bytes]], list[str]],
) -> list[Verdict]:
    messages = _sent(evidence, context)
    if not messages:
        return [omitted("aucun message à juger", None)]
    findings = []
    for exchange in messages:
        message, _ = _mail(evidence, exchange)
        if message is None:
            continue
        documents = evidence.memo(exchange, "cda", functools.partial(_cda_documents, message))
        findings += [failed(p, exchange) for p in judge(message, documents)]
    if findings:
        return findings
    return [passed(f"{len(messages)} message(s) : en-tête conforme", messages[-1])]


def _x_mss_ins_problems(message: Message, documents: list[bytes]) -> list[str]:
    value = message.get("X-MSS-INS")
    if not documents:
        return [] if value is None else [f"X-MSS-INS: {value} sur un message sans document CDA en XDM : absent attendu"]
    qualified = [q for q in (_qualified_ins(d) for d in documents) if q is not None]
    expected = "O" if any(qualified) else "N"
    if value is None:
        return [f"en-tête X-MSS-INS absent : « {expected} » attendu (document CDA en XDM)"]
    if str(value).strip() != expected:
        return [f"X-MSS-INS: {str(value).strip()} : « {expected} » attendu d'après le recordTarget des documents"]
    return []


def _x_mss_codecda_problems(message: Message, documents: list[bytes]) -> list[str]:
    value = message.get("X-MSS-CODECDA")
    codes = _cda_codes(documents)
    if not codes:
        return [] if value is None else [f"X-MSS-CODECDA: {value} sur un message sans document CDA : absent attendu"]
    if value is None:
        return [f"en-tête X-MSS-CODECDA absent : « {','.join(codes)} » attendu"]
    declared = [c.strip() for c in str(value).split(",") if c.strip()]
    if sorted(declared) != sorted(codes):
        return [f"X-MSS-CODECDA: {','.join(declared)} ≠ code des documents CDA joints ({','.join(codes)})"]
    return []


def _x_mss_nil_problems(message: Message, documents: list[bytes]) -> list[str]:
    value = message.get("X-MSS-NIL")
    if value is None or not str(value).strip():
        return ["en-tête X-MSS-NIL absent : le numéro du logiciel référencé est attendu sur chaque message"]
    text = str(value).strip()
    if len(text) > 64 or not text.isprintable() or not text.isascii():
        return [f"X-MSS-NIL {text[:70]!r} : identifiant ASCII imprimable de 64 caractères au plus attendu"]
    return []


@check(
    "mss.x_mss_ins",
    requirements=("MSS-007",),
    title="En-tête X-MSS-INS conforme au contenu CDA",
    applies_to=("mss.message",),
)
def x_mss_ins(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _header_findings(evidence, context, _x_mss_ins_problems)


@check(
    "mss.x_mss_codecda",
    requirements=("MSS-008",),
    title="En-tête X-MSS-CODECDA : codes des documents joints",
    applies_to=("mss.message",),
)
def x_mss_codecda(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _header_findings(evidence, context, _x_mss_codecda_problems)


@check(
    "mss.x_mss_nil",
    requirements=("MSS-009",),
    title="En-tête X-MSS-NIL sur chaque message",
    applies_to=("mss.message",),
)
def x_mss_nil(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    findings = _header_findings(evidence, context, _x_mss_nil_problems)
    values = set()
    for exchange in _sent(evidence, context):
        message, _ = _mail(evidence, exchange)  # parsed once for both judgements
        if message is not None and message.get("X-MSS-NIL"):
            values.add(str(message.get("X-MSS-NIL")).strip())
    if len(values) > 1:
        return [failed(f"X-MSS-NIL varie : {sorted(values)}", None)]
    return findings


# MSS-003 -------------------------------------------------------------------------------------------------------
def _record_before(evidence: Evidence, context: CheckContext, seq: int | None) -> dict[str, Any] | None:
    keys = context.patient.keys if context.patient else None
    records = evidence.select(transactions=(RECORD,), keys=keys, before_seq=seq)
    return evidence.json(records[-1], "record") if records else None


@check("mss.patient_mailbox_qualified", requirements=("MSS-003",), title="Messagerie du patient sous INS qualifiée")
def patient_mailbox_qualified(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    findings = []
    judged = 0
    for exchange in evidence.select(transactions=(MESSAGE,)):
        patients = [m for m in (patient_matricule(r) for r in exchange.meta.get("rcpt_tos", [])) if m]
        if not patients:
            continue
        if context.patient and not context.patient.keys.intersection(f"ins:{m}" for m in patients):
            record = _record_before(evidence, context, exchange.seq)
            if not record or record.get("ins_matricule") not in patients:
                continue
        judged += 1
        record = _record_before(evidence, context, exchange.seq)
        status = record.get("status") if record else None
        for matricule in patients:
            if status != "qualifiee":
                findings.append(
                    failed(
                        f"message écrit à {matricule}@patient.mssante.fr alors que l'identité est « {status} » : "
                        "seule une identité qualifiée ouvre la messagerie du patient",
                        exchange,
                    )
                )
            elif record and record.get("ins_matricule") != matricule:
                findings.append(
                    failed(
                        f"boîte patient {matricule} ≠ INS du dossier {record.get('ins_matricule')}",
                        exchange,
                    )
                )
    if findings:
        return findings
    if judged:
        message = f"{judged} message(s) à la messagerie du patient, chacun sous l'INS qualifiée du dossier"
        return [passed(message, None)]
    record = _record_before(evidence, context, None)
    if record and record.get("status") != "qualifiee":
        message = f"aucun message à la messagerie du patient : identité « {record.get('status')} », non qualifiée"
        return [passed(message, None)]
    return [omitted("aucun envoi au patient à juger", None)]


# MSS-004 / MSS-005 ---------------------------------------------------------------------------------------------
def _reception(evidence: Evidence) -> tuple[list[Exchange], dict[str, Any] | None, list[Exchange]]:
    deliveries = [d for d in evidence.select(transactions=(DELIVERY,)) if d.meta.get("kind") == "document"]
    snapshots = evidence.select(transactions=(RECEIVED,))
    received = evidence.json(snapshots[-1], "received") if snapshots else None
    fetches = [x for x in evidence.select(channel="mss", transactions=FETCHES) if x.outcome == "ok"]
    return deliveries, received, fetches


def _matches(item: dict[str, Any], delivery: Exchange) -> bool:
    unique_id = delivery.meta.get("unique_id")
    if item.get("unique_id") and unique_id:
        return bool(item.get("unique_id") == unique_id)
    return bool(item.get("message_id") == delivery.meta.get("message_id"))


@check("mss.received_filed_by_ins", requirements=("MSS-004",), title="Documents reçus relevés et classés par INS")
def received_filed_by_ins(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    deliveries, received, fetches = _reception(evidence)
    expected = [d for d in deliveries if d.meta.get("filed_in")]
    if not expected:
        return [omitted("aucun document reçu à classer", None)]
    if received is None:
        return [omitted("file de réception non lue", None)]
    findings = []
    if not fetches:
        findings.append(failed("messages jamais relevés en IMAP (aucun FETCH)", None))
    for delivery in expected:
        target = delivery.meta["filed_in"]
        filed = [f for f in received.get("filed", []) if _matches(f, delivery)]
        if any(f.get("patient_ref") == target for f in filed):
            continue
        if filed:
            where = ", ".join(str(f.get("patient_ref")) for f in filed)
            problem = f"document {delivery.meta.get('unique_id')} classé dans le dossier {where} au lieu de {target}"
        else:
            problem = (
                f"document {delivery.meta.get('unique_id')} non classé dans le dossier {target} que son INS identifie"
                " (laissé en attente ou perdu)"
            )
        findings.append(failed(problem, delivery))
    if findings:
        return findings
    message = f"{len(expected)} document(s) reçu(s) relevé(s) en IMAP et classé(s) dans le bon dossier par l'INS"
    return [passed(message, expected[-1])]


@check("mss.not_filed_silently", requirements=("MSS-005",), title="Aucun classement silencieux d'un patient incertain")
def not_filed_silently(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    deliveries, received, _ = _reception(evidence)
    uncertain = [d for d in deliveries if not d.meta.get("filed_in")]
    if not uncertain or received is None:
        return [omitted("aucun document reçu incertain à juger", None)]
    findings = []
    for delivery in uncertain:
        label = delivery.meta.get("unique_id") or delivery.meta.get("message_id")
        filed = [f for f in received.get("filed", []) if _matches(f, delivery)]
        pending = [p for p in received.get("pending", []) if _matches(p, delivery)]
        if filed:
            where = ", ".join(str(f.get("patient_ref")) for f in filed)
            problem = f"document {label} classé sans confirmation dans le dossier {where} (patient inconnu ou ambigu)"
        elif not pending:
            problem = f"document {label} ni classé ni en attente de rapprochement : perdu pour l'utilisateur"
        else:
            continue
        findings.append(failed(problem, delivery))
    if findings:
        return findings
    message = f"{len(uncertain)} document(s) au patient inconnu, ambigu ou illisible mis en attente de rapprochement"
    return [passed(message, uncertain[-1])]


# MSS-012: UTF-8 (SC.MSS/CONF.19) -------------------------------------------------------------------------------
UTF8 = ("utf-8", "utf8", "us-ascii")  # US-ASCII is UTF-8's own subset


def _charset_problems(message: Message, documents: list[bytes]) -> list[str]:
    problems = []
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        charset = (part.get_content_charset() or "us-ascii").lower()
        if charset not in UTF8:
            problems.append(f"partie {part.get_content_type()} encodée en {charset} : UTF-8 attendu")
    for name, value in message.items():
        for _, encoding in email.header.decode_header(str(value)):
            if encoding and encoding.lower() not in UTF8:
                problems.append(f"en-tête {name} encodé en {encoding} : UTF-8 attendu (RFC 2047)")
    return problems


@check("mss.utf8", requirements=("MSS-012",), title="Messages envoyés encodés en UTF-8", applies_to=("mss.message",))
def utf8(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _header_findings(evidence, context, _charset_problems)


# MSS-046: acknowledgement requested (SC.MSS/UX.33) ---------------------------------------------------------------
@check("mss.ack_requested", requirements=("MSS-046",), title="Accusé demandé sur chaque message envoyé")
def ack_requested(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    messages = [m for m in _sent(evidence, context) if m.transaction == MESSAGE]  # the SMTP envelope is needed
    if not messages:
        return [omitted("aucun envoi à juger", None)]
    findings = []
    for exchange in messages:
        notify = ",".join(str(n) for n in (exchange.meta.get("dsn") or {}).get("NOTIFY", [])).upper()
        message, _ = _mail(evidence, exchange)
        mdn = message is not None and bool(message.get("Disposition-Notification-To"))
        if "SUCCESS" not in notify and not mdn:
            problem = (
                "ni NOTIFY=SUCCESS (DSN, RFC 3461) ni Disposition-Notification-To (MDN, RFC 8098) : "
                "aucun accusé demandé"
            )
            findings.append(failed(problem, exchange))
    if findings:
        return findings
    return [passed(f"{len(messages)} message(s) avec accusé demandé", None)]


# MSS-010 / MSS-011 ---------------------------------------------------------------------------------------------
@check("mss.insi_verified_on_receipt", requirements=("MSS-010",), title="INS d'un document reçu vérifiée par INSi")
def insi_verified_on_receipt(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    deliveries, received, _ = _reception(evidence)
    with_ins = [d for d in deliveries if d.meta.get("ins") and not d.meta.get("resend_of")]
    if not with_ins or received is None:
        return [omitted("aucun document reçu avec INS", None)]
    findings = []
    for delivery in with_ins:
        ins = f"ins:{delivery.meta['ins']}"
        verified = [
            # A traits search whose answer is that INS (the simulator files the INS it answered among the subjects).
            x
            for x in evidence.select(transactions=("insi.search_traits",))
            if x.seq > delivery.seq and ins in x.subjects and x.outcome == "CR00"
        ]
        if not verified:
            problem = (
                f"document {delivery.meta.get('unique_id')} reçu avec une INS : aucune vérification INSi de cette INS "
                "avant de le traiter (guide d'implémentation INS, règles 52, 53 et 55)"
            )
            findings.append(failed(problem, delivery))
    if findings:
        return findings
    message = f"{len(with_ins)} document(s) reçu(s) avec INS, chacune vérifiée auprès d'INSi avant intégration"
    return [passed(message, with_ins[-1])]


@check("mss.no_duplicate_integration", requirements=("MSS-011",), title="Document reçu deux fois, intégré une fois")
def no_duplicate_integration(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    deliveries, received, _ = _reception(evidence)
    resent = [d for d in deliveries if d.meta.get("resend_of")]
    if not resent or received is None:
        return [omitted("aucun document reçu deux fois", None)]
    findings = []
    for delivery in resent:
        copies = [f for f in received.get("filed", []) if _matches(f, delivery)]
        if len(copies) > 1:
            where = ", ".join(str(f.get("patient_ref")) for f in copies)
            problem = f"document {delivery.meta.get('unique_id')} intégré {len(copies)} fois (dossiers : {where})"
            findings.append(failed(problem, delivery))
    if findings:
        return findings
    message = f"{len(resent)} document(s) reçu(s) une seconde fois, non intégré(s) à nouveau"
    return [passed(message, resent[-1])]


# MSS-006 -------------------------------------------------------------------------------------------------------
@check("mss.untrusted_refused", requirements=("MSS-006",), title="Refus d'un serveur MSSanté au certificat non reconnu")
def untrusted_refused(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    seen = evidence.select(channel="mss-untrusted")
    if not seen:
        return [omitted("aucune connexion au serveur non reconnu", None)]
    findings = []
    for exchange in seen:
        if exchange.transaction == MESSAGE:
            problem = "message remis à un serveur dont le certificat ne se vérifie pas"
        elif exchange.transaction == SESSION and (exchange.meta.get("auth") or {}).get("mechanism"):
            problem = "authentification SMTP envoyée à un serveur dont le certificat ne se vérifie pas"
        elif exchange.transaction in ("mss.imap.login", "mss.imap.authenticate") and exchange.outcome == "ok":
            problem = "identifiants IMAP envoyés à un serveur dont le certificat ne se vérifie pas"
        else:
            continue
        findings.append(failed(problem, exchange))
    if findings:
        return findings
    message = f"{len(seen)} échange(s) avec le serveur non reconnu, tous interrompus avant toute authentification"
    return [passed(message, seen[-1])]


# MSS-015 -------------------------------------------------------------------------------------------------------
IMAP_AUTH = ("mss.imap.login", "mss.imap.authenticate")


@check(
    "mss.psc_authentication",
    requirements=("MSS-015",),
    title="Sessions MSSanté ouvertes sur TLS par XOAUTH2 avec le jeton Pro Santé Connect",
)
def psc_authentication(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Every message the operator accepted came over a TLS session opened by XOAUTH2 (the simulator accepts it only
    with a valid PSC access token of the mailbox's professional), and every mailbox opening used it too."""
    findings = []
    messages = evidence.select(channel="mss", transactions=(MESSAGE,))
    for exchange in messages:
        auth = exchange.meta.get("auth") or {}
        if not ((exchange.peer or {}).get("tls") or {}).get("tls"):
            findings.append(failed("message soumis hors TLS", exchange))
        elif auth.get("mechanism") != "XOAUTH2":
            said = f"message soumis après AUTH {auth.get('mechanism') or '(aucune)'}"
            findings.append(failed(f"{said} : XOAUTH2 avec le jeton Pro Santé Connect attendu", exchange))
    openings = [x for x in evidence.select(channel="mss", transactions=IMAP_AUTH) if x.outcome == "ok"]
    for exchange in openings:
        line = evidence.part(exchange, "request") or b""
        if exchange.transaction == "mss.imap.login" or b"XOAUTH2" not in line.upper():
            findings.append(
                failed("boîte ouverte sans XOAUTH2 (LOGIN ou autre mécanisme SASL) : jeton PSC attendu", exchange)
            )
    if findings:
        return findings
    if not messages and not openings:
        return [omitted("aucune session MSSanté authentifiée à juger", None)]
    said = f"{len(messages)} message(s) et {len(openings)} ouverture(s) de boîte, par XOAUTH2 sur TLS (jeton PSC)"
    return [passed(said, (messages or openings)[-1])]


# MSS-017 -------------------------------------------------------------------------------------------------------
@check("mss.sasl_ir", requirements=("MSS-017",), title="SASL-IR en IMAP (SC.MSS/CONF.09)")
def sasl_ir(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The simulator announces SASL-IR (RFC 4959) with its SASL mechanisms after TLS; each AUTHENTICATE should then
    carry its first response on the command line (the journal says whether it did, never the token or password).
    A recommendation: an AUTHENTICATE that waited for the server's continuation is reported as not followed. A
    mailbox opened by LOGIN has no AUTHENTICATE to judge (MSS-015 judges how it was opened)."""
    openings = evidence.select(channel="mss", transactions=("mss.imap.authenticate",))
    if not openings:
        return [omitted("aucune commande IMAP AUTHENTICATE à juger", None)]
    without = [x for x in openings if not x.meta.get("initial_response")]
    if without:
        said = (
            "AUTHENTICATE sans réponse initiale alors que le serveur annonce SASL-IR : envoyer la réponse XOAUTH2 "
            "(base64) sur la ligne de commande (préconisation SC.MSS/CONF.09, RFC 4959)"
        )
        return [failed(said, x) for x in without]
    mechanisms = ", ".join(sorted({str(x.meta.get("mechanism") or "?") for x in openings}))
    said = f"{len(openings)} AUTHENTICATE ({mechanisms}) avec réponse initiale (SASL-IR)"
    return [passed(said, openings[-1])]


# MSS-021 -------------------------------------------------------------------------------------------------------
def _to_patient(exchange: Exchange) -> bool:
    return any(patient_matricule(r) for r in exchange.meta.get("rcpt_tos", []))


def _x_mss_mes(evidence: Evidence, context: CheckContext) -> tuple[Exchange | None, str | None]:
    """The step's message to a patient mailbox and its X-MSS-MES value (None when absent)."""
    focus = context.focus
    if focus is None or focus.transaction != MESSAGE or not _to_patient(focus):
        return None, None
    message, _ = _mail(evidence, focus)
    value = message.get("X-MSS-MES") if message is not None else None
    return focus, (str(value).strip() if value is not None else None)


@check(
    "mss.x_mss_mes_fin",
    requirements=("MSS-021",),
    title="X-MSS-MES: FIN quand le professionnel ne veut pas de réponse du patient",
)
def x_mss_mes_fin(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The step asked for a message to a patient with no answer wanted: the header ``X-MSS-MES`` must say ``FIN``
    (three capital letters, SC.MSS/CONF.21)."""
    focus, value = _x_mss_mes(evidence, context)
    if focus is None:
        return [omitted("aucun message à une messagerie de patient dans cette étape", None)]
    if value != "FIN":
        said = f"X-MSS-MES {value!r}" if value is not None else "X-MSS-MES absent"
        return [failed(f"{said} : le professionnel ne souhaite pas de réponse, « X-MSS-MES: FIN » attendu", focus)]
    return [passed("X-MSS-MES: FIN sur le message au patient (pas de réponse souhaitée)", focus)]


@check(
    "mss.x_mss_mes_absent",
    requirements=("MSS-021",),
    title="Pas de X-MSS-MES quand le patient peut répondre",
)
def x_mss_mes_absent(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The step's message to a patient leaves the exchange open: no ``X-MSS-MES: FIN``, which would stop the patient
    from answering."""
    focus, value = _x_mss_mes(evidence, context)
    if focus is None:
        return [omitted("aucun message à une messagerie de patient dans cette étape", None)]
    if value is not None:
        return [failed(f"X-MSS-MES {value!r} alors que le professionnel accepte une réponse du patient", focus)]
    return [passed("message au patient sans X-MSS-MES (réponse possible)", focus)]


# MSS-013 -------------------------------------------------------------------------------------------------------
@check("mss.cipher_suites", requirements=("MSS-013",), title="Suites TLS du référentiel seulement (SC.MSS/CONF.03)")
def cipher_suites(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A client that offers only the listed suites cannot complete a handshake with the listener that offers none of
    them (channel ``mss-weak``); every TLS 1.2 session with the operator must have negotiated a listed suite. TLS 1.3
    sessions are not judged: the list names TLS 1.2 suites only."""
    findings = []
    for exchange in evidence.select(channel="mss-weak"):
        tls = (exchange.peer or {}).get("tls") or {}
        if exchange.transaction == MESSAGE or (exchange.meta.get("auth") or {}).get("mechanism") or tls.get("tls"):
            problem = (
                f"session TLS établie ({tls.get('cipher') or 'suite inconnue'}) avec un serveur qui n'offre que des "
                "suites hors SC.MSS/CONF.03 : le logiciel doit n'offrir que les suites listées (ECDHE/DHE-RSA AES)"
            )
            findings.append(failed(problem, exchange))
    negotiated = set()
    for exchange in evidence.select(channel="mss"):
        tls = (exchange.peer or {}).get("tls") or {}
        if tls.get("version") == "TLSv1.2" and tls.get("cipher"):
            negotiated.add(tls["cipher"])
            if tls["cipher"] not in MSS_CIPHERS:
                findings.append(failed(f"suite {tls['cipher']} négociée, hors SC.MSS/CONF.03", exchange))
    if findings:
        return findings
    if not evidence.select(channel="mss-weak") and not negotiated:
        return [omitted("aucune session TLS avec l'opérateur à juger", None)]
    suites = ", ".join(sorted(negotiated)) or "aucune en TLS 1.2"
    return [passed(f"suites hors référentiel refusées à la négociation ; suites négociées : {suites}", None)]


# MSS-027 -------------------------------------------------------------------------------------------------------
@check(
    "mss.opposition_honoured",
    requirements=("MSS-027",),
    title="Aucun envoi par messagerie des documents d'un patient opposé (MSS/va1.20, MSS/va1.22)",
)
def opposition_honoured(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """While the patient's opposition to sending their documents by secure messaging is recorded, no message about
    them leaves, neither to a professional nor to the patient's own mailbox."""
    from bench.checks.choices import choices, while_opposed

    if not any(choice == "opposition" for _request, choice in choices(evidence, "mss")):
        return [omitted("aucune opposition du patient à l'envoi par messagerie enregistrée dans ce scénario", None)]
    offending = while_opposed(evidence, "mss", evidence.select(transactions=(MESSAGE,)))  # rogue servers' too
    if offending:
        return [
            failed(
                f"message MSSanté envoyé alors que le patient s'oppose à l'envoi de ses documents par messagerie "
                f"(opposition enregistrée, échange {opposition.id}) : l'envoi doit être bloqué et l'utilisateur averti",
                message,
            )
            for message, opposition in offending
        ]
    return [passed("aucun message MSSanté pendant l'opposition du patient", None)]


# MSS-023 -------------------------------------------------------------------------------------------------------
MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def _ids(value: object) -> list[str]:
    return MSG_ID.findall(str(value or ""))


@check(
    "mss.reply_headers",
    requirements=("MSS-023",),
    title="Réponse rattachée au message d'origine : In-Reply-To et References (RFC 5322 §3.6.4)",
)
def reply_headers(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The answer to a received message names it: ``In-Reply-To`` is its Message-ID, ``References`` ends with it
    (after the References it carried)."""
    from bench.domains.mss import REPLY_VIEW

    focus = context.focus
    if focus is None or focus.transaction != MESSAGE:
        return [omitted("aucune réponse envoyée dans cette étape", None)]
    asked = [
        x for x in evidence.select(channel="candidate", transactions=(REPLY_VIEW.transaction,)) if x.seq < focus.seq
    ]
    original = str((evidence.json(asked[-1], "reply") or {}).get("message_id", "")) if asked else ""
    if not original:
        return [omitted("aucun message auquel répondre n'a été désigné", focus)]
    message, problems = _mail(evidence, focus)
    if message is None:
        return [failed(f"message illisible : {'; '.join(problems)}", focus)]
    wrong = []
    if _ids(message.get("In-Reply-To")) != [original]:
        wrong.append(f"In-Reply-To {message.get('In-Reply-To') or 'absent'} au lieu de {original}")
    references = _ids(message.get("References"))
    if not references or references[-1] != original:
        wrong.append(f"References {message.get('References') or 'absent'} : doit se terminer par {original}")
    if wrong:
        return [failed(" ; ".join(wrong) + " (RFC 5322 §3.6.4 : la réponse doit être rattachée au fil)", focus)]
    return [passed(f"réponse rattachée à {original} (In-Reply-To, References)", focus)]


@check(
    "mss.text_and_message_id",
    requirements=("MSS-023",),
    title="Message-ID conforme à la RFC 5322 et texte en text/plain ou multipart/alternative",
)
def text_and_message_id(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A message the software sends carries one Message-ID of the form ``<left@right>`` and writes its text as
    ``text/plain`` (or ``multipart/alternative`` offering a text/plain version): never HTML alone."""
    focus = context.focus
    if focus is None or focus.transaction != MESSAGE:
        return [omitted("aucun message envoyé dans cette étape", None)]
    message, problems = _mail(evidence, focus)
    if message is None:
        return [failed(f"message illisible : {'; '.join(problems)}", focus)]
    wrong = []
    ids = message.get_all("Message-ID") or []
    if len(ids) != 1 or not MSG_ID.fullmatch(str(ids[0]).strip()):
        wrong.append(f"Message-ID {', '.join(map(str, ids)) or 'absent'} : un seul, de la forme <gauche@droite>")
    texts = [
        part.get_content_type()
        for part in message.walk()
        if part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment"
    ]
    if "text/plain" not in texts:
        wrong.append(f"texte du message en {', '.join(texts) or 'aucune partie texte'} : text/plain attendu")
    elif any(t != "text/plain" for t in texts) and not any(
        p.get_content_type() == "multipart/alternative" for p in message.walk()
    ):
        wrong.append("texte en plusieurs formats hors multipart/alternative")
    if wrong:
        return [failed(" ; ".join(wrong) + " (MSS/va1.08, va1.12)", focus)]
    return [passed("Message-ID conforme ; texte en text/plain", focus)]


# MSS-024 -------------------------------------------------------------------------------------------------------
_SIZE = re.compile(r"^S: 250[ -]SIZE (\d+)", re.IGNORECASE)
_MAIL_SIZE = re.compile(r"^C: MAIL .*\bSIZE=(\d+)", re.IGNORECASE)


@check(
    "mss.size_limit_respected",
    requirements=("MSS-024",),
    title="Taille maximale de l'opérateur respectée avant toute transmission SMTP (MSS/va1.13)",
)
def size_limit_respected(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The operator announces its limit in EHLO (``SIZE``, RFC 1870); the software knows it before it submits
    anything: no ``MAIL FROM`` declaring a larger size, no message refused for its size (552), in any session where
    a lowered limit was announced. A message within the limit goes through as usual."""
    from simulators.mss.smtp import MAX_MESSAGE_BYTES

    findings = []
    lowered = 0
    for session in evidence.select(transactions=(SESSION,)):
        lines = (evidence.part(session, "transcript") or b"").decode("utf-8", "replace").splitlines()
        announced = [int(m.group(1)) for line in lines if (m := _SIZE.match(line))]
        limit = announced[-1] if announced else None
        if limit is None or limit >= MAX_MESSAGE_BYTES:
            continue
        lowered += 1
        declared = [int(m.group(1)) for line in lines if (m := _MAIL_SIZE.match(line))]
        if any(size > limit for size in declared) or any(line.startswith("S: 552") for line in lines):
            size = max(declared, default=0)
            said = f"un message de {size} octets" if size else "un message"
            message = (
                f"{said} soumis alors que l'opérateur annonce SIZE {limit} : le logiciel doit refuser l'envoi avant "
                "toute transmission SMTP et le dire à l'utilisateur"
            )
            findings.append(failed(message, session))
    if findings:
        return findings
    if not lowered:
        return [omitted("aucune limite de taille réduite annoncée dans ce scénario", None)]
    return [passed("rien de soumis au-delà de la taille annoncée par l'opérateur (SIZE)", None)]


# GEN-003 -------------------------------------------------------------------------------------------------------
@check("mss.dashboard_messages", requirements=("GEN-003",), title="Tableau de bord : les messages MSSanté envoyés")
def dashboard_messages(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The dashboard counts every message the operator accepted."""
    from bench.checks.dashboard import judge_counter

    messages = evidence.select(transactions=(MESSAGE,))
    return judge_counter(evidence, "mss_messages", "message(s) MSSanté envoyé(s)", messages)


# MSS-025, MSS-029 ----------------------------------------------------------------------------------------------
def _notice_deliveries(evidence: Evidence, kinds: tuple[str, ...], before: int) -> list[Exchange]:
    """The notifications the operator put in the software's mailbox (DSN, MDN), before exchange ``before``."""
    return [
        x
        for x in evidence.select(transactions=(DELIVERY,))
        if x.meta.get("kind") in kinds and x.seq < before and x.meta.get("original_message_id")
    ]


@check(
    "mss.read_receipt_sent",
    requirements=("MSS-025",),
    title="Accusé de lecture (MDN, RFC 8098) renvoyé pour un message lu qui le demande",
)
def read_receipt_sent(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A received message asking for a read receipt (``Disposition-Notification-To``), once read, gets an MDN:
    ``multipart/report; report-type=disposition-notification`` to that address, naming the message in
    ``Original-Message-ID``."""
    focus = context.focus
    if focus is None or focus.transaction != MESSAGE:
        return [omitted("aucun message envoyé dans cette étape", None)]
    asked = {
        str(x.meta.get("message_id"))
        for x in evidence.select(transactions=(DELIVERY,))
        if x.meta.get("read_receipt") and x.seq < focus.seq
    }
    if not asked:
        return [omitted("aucun message reçu ne demandait d'accusé de lecture", focus)]
    message, problems = _mail(evidence, focus)
    if message is None:
        return [failed(f"message illisible : {'; '.join(problems)}", focus)]
    report_type = str(message.get_param("report-type") or "")
    if message.get_content_type() != "multipart/report" or report_type != "disposition-notification":
        said = f"{message.get_content_type()} {report_type}".strip()
        return [failed(f"{said} au lieu d'un MDN (multipart/report; report-type=disposition-notification)", focus)]
    fields = "\n".join(
        _report_fields(part) for part in message.walk() if part.get_content_type() == "message/disposition-notification"
    )
    named = set(MSG_ID.findall(" ".join(line for line in fields.splitlines() if "original-message-id" in line.lower())))
    if not named & asked:
        return [failed(f"MDN sans Original-Message-ID du message lu ({', '.join(sorted(asked))})", focus)]
    return [passed(f"accusé de lecture renvoyé pour {', '.join(sorted(named & asked))}", focus)]


def _report_fields(part: Message) -> str:
    """A report part's fields as text lines (the parser hands message/* parts over as header groups)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(f"{k}: {v}" for group in payload if isinstance(group, Message) for k, v in group.items())
    return str(payload)


def _shown_notifications(evidence: Evidence) -> tuple[Exchange | None, list[dict[str, object]] | None]:
    views = evidence.select(transactions=(RECEIVED,))
    if not views:
        return None, None
    shown = (evidence.json(views[-1], "received") or {}).get("notifications")
    return views[-1], shown if isinstance(shown, list) else None


def _judge_shown(evidence: Evidence, kinds: dict[str, str], label: str) -> list[Verdict]:
    view, shown = _shown_notifications(evidence)
    if view is None:
        return [omitted("aucune lecture de la file de réception dans ce scénario", None)]
    if shown is None:
        return [errored("la file de réception ne donne pas les accusés reçus (notifications)", view)]
    received = _notice_deliveries(evidence, tuple(kinds), view.seq)
    if not received:
        return [omitted(f"aucun {label} reçu par le logiciel dans ce scénario", view)]
    listed = {(str(n.get("original_message_id")), str(n.get("kind"))) for n in shown if isinstance(n, dict)}
    reasons = {str(n.get("original_message_id")): n.get("reason") for n in shown if isinstance(n, dict)}
    missing = []
    for notice in received:
        original, kind = str(notice.meta["original_message_id"]), kinds[str(notice.meta["kind"])]
        if (original, kind) not in listed:
            missing.append(f"{kind} pour {original}")
        elif kind == "echec" and not reasons.get(original):
            missing.append(f"échec pour {original} sans son motif")
    if missing:
        return [failed(f"{label} reçu(s) mais non affiché(s) avec le message d'origine : {', '.join(missing)}", view)]
    return [passed(f"{len(received)} {label} affiché(s) avec le message d'origine", view)]


@check(
    "mss.receipts_shown",
    requirements=("MSS-025",),
    title="Accusés de remise (DSN) et de lecture (MDN) reçus affichés avec le message d'origine",
)
def receipts_shown(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Every delivery (DSN, delivered) and read (MDN) notification that reached the software's mailbox is shown with
    the message it reports on."""
    return _judge_shown(evidence, {"dsn": "remise", "mdn": "lecture"}, "accusé(s) de remise ou de lecture")


@check(
    "mss.failure_shown",
    requirements=("MSS-029",),
    title="Échec de remise (DSN « failed ») signalé à l'utilisateur, avec son motif",
)
def failure_shown(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A failed-delivery notification (RFC 3464, Action: failed) is shown with the message it reports on and why it
    failed."""
    return _judge_shown(evidence, {"dsn-failure": "echec"}, "avis d'échec de remise")


# MSS-039, MSS-043 ----------------------------------------------------------------------------------------------
XDM_MARKER = "XDM/1.0/DDM"


def _listed_deliveries(evidence: Evidence) -> tuple[Exchange | None, list[tuple[Exchange, dict[str, object]]]]:
    """The last reception view, and each document delivery the bench made before it with the line the view shows for
    its message (by Message-ID), when it shows one."""
    views = evidence.select(transactions=(RECEIVED,))
    if not views:
        return None, []
    shown = evidence.json(views[-1], "received") or {}
    lines = {
        str(line.get("message_id")): line
        for key in ("filed", "pending")
        for line in shown.get(key) or []
        if isinstance(line, dict)
    }
    pairs: dict[str, tuple[Exchange, dict[str, object]]] = {}  # a message delivered twice is listed once
    for delivery in evidence.select(transactions=(DELIVERY,)):
        message_id = str(delivery.meta.get("message_id"))
        if delivery.seq < views[-1].seq and delivery.meta.get("kind") == "document" and message_id in lines:
            pairs.setdefault(message_id, (delivery, lines[message_id]))
    return views[-1], list(pairs.values())


@check(
    "mss.subject_prefix_hidden",
    requirements=("MSS-039",),
    title="Objet des messages XDM affiché sans le préfixe XDM/1.0/DDM+",
)
def subject_prefix_hidden(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A message whose subject starts with IHE XDM's marker (``XDM/1.0/DDM+``) is listed with the rest of its subject
    only."""
    view, pairs = _listed_deliveries(evidence)
    marked = [(d, line) for d, line in pairs if str(d.meta.get("subject") or "").upper().startswith(XDM_MARKER)]
    if view is None or not marked:
        return [omitted("aucun message XDM reçu et listé dans ce scénario", view)]
    wrong = []
    for delivery, line in marked:
        wanted = str(delivery.meta["subject"])[len(XDM_MARKER) :].lstrip("+ ")
        shown = str(line.get("subject") or "")
        if XDM_MARKER.lower() in shown.lower() or wanted not in shown:
            wrong.append(f"« {shown or 'objet non donné'} » au lieu de « {wanted} »")
    if wrong:
        return [failed("objet affiché : " + " ; ".join(wrong) + " (préfixe XDM/1.0/DDM+ à masquer)", view)]
    return [passed(f"{len(marked)} objet(s) affiché(s) sans le préfixe XDM/1.0/DDM+", view)]


@check(
    "mss.filed_by_type",
    requirements=("MSS-043",),
    title="CDA reçu classé dans le sous-dossier de son type (typeCode)",
)
def filed_by_type(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Each received document filed in a record sits in the sub-folder of its type: the view's ``type_code`` is the
    document's code (the XDS typeCode)."""
    view, pairs = _listed_deliveries(evidence)
    filed = [(d, line) for d, line in pairs if line.get("patient_ref") and d.meta.get("type_code")]
    if view is None or not filed:
        return [omitted("aucun document reçu classé dans un dossier dans ce scénario", view)]
    wrong = [
        f"{line.get('unique_id') or d.meta.get('message_id')} classé sous {line.get('type_code') or 'aucun type'} au "
        f"lieu de {d.meta['type_code']}"
        for d, line in filed
        if str(line.get("type_code") or "") != str(d.meta["type_code"])
    ]
    if wrong:
        return [failed("classement par type : " + " ; ".join(wrong), view)]
    return [passed(f"{len(filed)} document(s) classé(s) sous leur type", view)]


# MSS-016 -------------------------------------------------------------------------------------------------------
@check(
    "mss.outage_changes_nothing",
    requirements=("MSS-016",),
    title="Une panne de la messagerie ne change rien au reste du logiciel (SC.MSS/CONF.08)",
)
def outage_changes_nothing(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The scenario asks the same things of the software before the MSSanté servers go down and while they are down;
    what reaches the other simulators (INSi, DMP: everything but MSSanté and the bench's own records) must be the same
    in both phases. Judged relative to the software itself, a defect elsewhere (no INSi verification at all, say) is
    not blamed on the outage."""
    from bench.domains.mss import SERVERS_VIEW

    changes = evidence.select(channel="candidate", transactions=(SERVERS_VIEW.transaction,))
    down = [c for c in changes if (evidence.json(c, "servers") or {}).get("server") == "down"]
    if not down:
        return [omitted("aucune panne de la messagerie dans ce scénario", None)]
    start = down[0].seq
    back = [c.seq for c in changes if c.seq > start]
    end = back[0] if back else None
    previous = [c.seq for c in changes if c.seq < start]
    begin = previous[-1] if previous else 0

    def others(low: int, high: int | None) -> Counter[str]:
        return Counter(
            x.transaction
            for x in evidence.exchanges
            if low < x.seq
            and (high is None or x.seq < high)
            and x.channel not in ("candidate",)
            and not x.channel.startswith("mss")
        )

    before, during = others(begin, start), others(start, end)
    if not before:
        return [errored("rien n'a atteint les autres simulateurs avant la panne : rien à comparer", down[0])]
    if before != during:
        said = ", ".join(
            f"{t} {before[t]} → {during[t]}" for t in sorted(set(before) | set(during)) if before[t] != during[t]
        )
        return [failed(f"la panne de la messagerie change ce que le logiciel fait ailleurs : {said}", down[0])]
    done = ", ".join(f"{t} ×{n}" for t, n in sorted(before.items()))
    return [passed(f"pendant la panne de la messagerie, le reste du logiciel fait de même ({done})", down[0])]


# MSS-045 -------------------------------------------------------------------------------------------------------
@check(
    "mss.origin_shown",
    requirements=("MSS-045",),
    title="Dans le dossier, un document reçu par MSSanté se distingue sans clic d'un document du cabinet",
)
def origin_shown(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The record lists each document received over MSSanté and filed in it as external (``mss``), apart from the
    documents the practice produced (``own``)."""
    keys = context.patient.keys if context.patient else None
    records = evidence.select(transactions=(RECORD,), keys=keys)
    received = evidence.select(transactions=(RECEIVED,))
    if not records or not received:
        return [omitted("aucune lecture du dossier après une réception dans ce scénario", None)]
    record = evidence.json(records[-1], "record") or {}
    listed = record.get("documents")
    if listed is None:
        return [skipped("le candidat ne liste pas les documents de son dossier : origine à constater à l'écran", None)]
    filed = {
        str(line.get("unique_id"))
        for line in (evidence.json(received[-1], "received") or {}).get("filed") or []
        if isinstance(line, dict) and line.get("patient_ref") == record.get("ref") and line.get("unique_id")
    }
    if not filed:
        return [omitted("aucun document reçu classé dans ce dossier", records[-1])]
    origins = {str(d.get("unique_id")): str(d.get("origin")) for d in listed if isinstance(d, dict)}
    wrong = [f"{uid} : {origins.get(uid, 'absent du dossier')}" for uid in sorted(filed) if origins.get(uid) != "mss"]
    if wrong:
        return [
            failed(
                "document reçu non distingué des documents du cabinet (origine mss attendue) : " + ", ".join(wrong),
                records[-1],
            )
        ]
    own = sum(1 for origin in origins.values() if origin == "own")
    return [passed(f"{len(filed)} document(s) reçu(s) montré(s) externes, {own} du cabinet", records[-1])]


# CDA-013 -------------------------------------------------------------------------------------------------------
@check(
    "mss.imports_classified",
    requirements=("CDA-013",),
    title="Documents reçus par MSSanté classés sous le type et la date de leur CDA (SC.CDA/INT.04)",
)
def imports_classified(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Each received document the record lists is filed under its CDA's code and the day of its effectiveTime, the keys
    the user sorts imported documents by (its origin is MSS-045's)."""
    keys = context.patient.keys if context.patient else None
    deliveries = evidence.select(transactions=(DELIVERY,), keys=keys)
    imported = {
        str(d.meta["unique_id"]): ImportKeys(str(d.meta.get("type_code") or ""), d.meta.get("effective_day"))
        for d in deliveries
        if d.meta.get("unique_id") and d.meta.get("type_code")
    }
    records = [
        r for r in evidence.select(transactions=(RECORD,), keys=keys) if deliveries and r.seq > deliveries[0].seq
    ]
    return judge_imports(evidence, records[-1] if records else None, imported, "reçus par MSSanté")


# MSS-042 ---------------------------------------------------------------------------------------------------
@check(
    "mss.new_version_replaces",
    requirements=("MSS-042",),
    title="Une nouvelle version reçue remplace l'ancienne, conservée comme historique (SC.MSS/CDA.03)",
)
def new_version_replaces(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A correspondent sends the next version of a document already filed (same setId, relatedDocument RPLC, an RPLC
    association in the package): the record lists both, the old one marked as replaced by the new one."""
    keys = context.patient.keys if context.patient else None
    versions = [d for d in evidence.select(transactions=(DELIVERY,), keys=keys) if d.meta.get("replaces")]
    if not versions:
        return [omitted("aucune nouvelle version d'un document reçu dans ce scénario", None)]
    latest = versions[-1]
    old, new = str(latest.meta["replaces"]), str(latest.meta.get("unique_id"))
    records = [r for r in evidence.select(transactions=(RECORD,), keys=keys) if r.seq > latest.seq]
    if not records:
        return [omitted("aucune lecture du dossier après la réception de la nouvelle version", latest)]
    listed = (evidence.json(records[-1], "record") or {}).get("documents")
    if listed is None or not says_filing(listed):
        message = "le candidat ne dit pas quelles versions son dossier garde : remplacement à constater à l'écran"
        return [skipped(message, records[-1])]
    shown = {str(d.get("unique_id")): d for d in listed if isinstance(d, dict)}
    if new not in shown and old not in shown:
        message = "aucune des deux versions classée dans ce dossier (intégration des documents reçus : MSS-004)"
        return [omitted(message, records[-1])]
    if new not in shown:
        return [failed(f"nouvelle version {new} (remplace {old}) absente du dossier", records[-1])]
    if old not in shown:
        return [failed(f"version précédente {old} retirée du dossier : elle doit rester consultable", records[-1])]
    if shown[old].get("replaced_by") != new:
        message = (
            f"version précédente {old} non marquée comme remplacée par {new} (replaced_by "
            f"{shown[old].get('replaced_by')!r}) : deux versions courantes du même document"
        )
        return [failed(message, records[-1])]
    return [passed(f"{new} remplace {old}, gardée comme historique", records[-1])]


@check(
    "mss.resent_after_deferral",
    requirements=("MSS-016",),
    title="Message refusé temporairement (451) renvoyé, ni perdu ni envoyé deux fois (RFC 5321 §4.5.4.1)",
)
def resent_after_deferral(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The operator answered a submission with a temporary failure: the software sends that same message again (same
    Message-ID) until the operator takes it, and the operator receives it exactly once."""
    deferred = []
    for session in evidence.select(transactions=(SESSION,)):
        subjects_sent = session.meta.get("deferred_subjects") or []
        for n, mid in enumerate(session.meta.get("deferred") or []):
            deferred.append((session, str(mid), str(subjects_sent[n]) if n < len(subjects_sent) else ""))
    if not deferred:
        return [omitted("aucun message refusé temporairement par l'opérateur dans ce scénario", None)]
    accepted: Counter[str] = Counter()
    subjects: set[str] = set()
    # A session is journaled when it closes: a resend in the same session comes before its record.
    for sent in evidence.select(transactions=(MESSAGE,)):
        message, _problems = _mail(evidence, sent)
        if message is not None:
            accepted.update(str(i).strip() for i in message.get_all("Message-ID") or [])
            if sent.seq > deferred[0][0].seq:
                subjects.add(_decoded_header(str(message.get("Subject", ""))))
    findings = []
    for session, mid, subject in {mid: (s, mid, subject) for s, mid, subject in deferred}.values():
        if not mid:
            findings.append(failed("message différé (451) sans Message-ID : son renvoi est invérifiable", session))
        elif accepted[mid] == 0 and subject and _decoded_header(subject) in subjects:
            again = (
                f"message {mid} différé (451) renvoyé sous un autre Message-ID : un renvoi garde celui du message "
                "(RFC 5322 §3.6.4), sinon le destinataire reçoit un second message"
            )
            findings.append(failed(again, session))
        elif accepted[mid] == 0:
            lost = f"message {mid} refusé temporairement (451) jamais renvoyé : perdu (renvoi attendu, RFC 5321)"
            findings.append(failed(lost, session))
        elif accepted[mid] > 1:
            findings.append(failed(f"message {mid} accepté {accepted[mid]} fois après son refus temporaire", session))
        else:
            findings.append(passed(f"message {mid} refusé temporairement puis renvoyé et accepté une fois", session))
    return findings
