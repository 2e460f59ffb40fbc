"""DMP checks (GI DMP « Service DMP intégré aux LPS »; IHE ITI TF-2b/TF-3 XDS.b; REM vague 2): access test first,
systematic feeding, VIHF, XDS metadata (complete, coded, consistent with the document), business refusals,
replacement, masking, consultation by INS, access mode, no republication. Each judges the exchanges the DMP
simulator recorded, as raw bytes, so a replay judges them the same way."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bench.actions.core import DOCUMENT, RECORD
from bench.checks.base import CheckContext, Evidence
from bench.checks.imports import ImportKeys, cda_keys, judge_imports, says_filing
from bench.checks.registry import Verdict, check, errored, failed, omitted, passed, skipped
from bench.domains.dmp import COLLEAGUE_FEED, INTEGRATION_VIEW, ORDER_SEARCH_VIEW
from simulators.common.journal import Exchange
from simulators.common.mtom import MtomError, MtomMessage, parse_mtom
from simulators.common.namespaces import HL7
from simulators.common.soap import SoapError, read_envelope
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml
from simulators.dmp.cx import cx_key, reference_key
from simulators.dmp.habilitations import read_set_authorization
from simulators.dmp.messages import read_stored_query
from simulators.dmp.xds import REPLACE, RIM, SIGNS, XDSB, RegistryObject, Submission, read_submission
from simulators.insi.ins import INS_OIDS, normalise_trait

NS = {"h": HL7}
FEEDS = ("dmp.iti41",)
USES = ("dmp.iti41", "dmp.iti18", "dmp.iti43", "dmp.iti57")
ALL = ("dmp.td02", "dmp.td03", *USES)
MASKED = ("MASQUE_PS", "1.2.250.1.213.1.1.4.13")


@cache
def value_sets() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "data" / "xds-value-sets.yaml").read_text())
    return data


def _dmp(evidence: Evidence, context: CheckContext, transactions: tuple[str, ...] = ALL) -> list[Exchange]:
    keys = context.patient.keys if context.patient else None
    return evidence.select(channel="dmp", transactions=transactions, keys=keys)


@dataclass
class Feed:
    """An ITI-41 request as the DMP received it: its metadata and each entry's document bytes."""

    exchange: Exchange
    submission: Submission
    documents: dict[str, bytes]


MAX_EVIDENCE_BYTES = 64 * 1024 * 1024


def _message(evidence: Evidence, call: Exchange, part: str) -> MtomMessage:
    """A recorded request or response as the DMP read it: plain SOAP or MTOM. Raises MtomError, UnsafeXmlError."""
    ref = call.files.get(part)
    data = evidence.part(call, part) or b""
    return parse_mtom(data, ref.media_type if ref else "", max_bytes=MAX_EVIDENCE_BYTES)


def _body(message: MtomMessage) -> Any:
    """The SOAP body's element, SOAP 1.1 envelopes included as the simulator takes them. Raises SoapError."""
    return read_envelope(message.envelope, accept_soap11=True).body_element


def _soap_body(evidence: Evidence, call: Exchange, part: str) -> Any | None:
    try:
        return _body(_message(evidence, call, part))
    except (MtomError, UnsafeXmlError, SoapError):
        return None


def read_feed(evidence: Evidence, exchange: Exchange) -> Feed | str:
    """The feed, or why it cannot be read."""
    if evidence.part(exchange, "request") is None or "request" not in exchange.files:
        return "requête absente de la preuve"
    try:
        message = _message(evidence, exchange, "request")
        body = _body(message)
        documents = {}
        for element in body.findall(f"{{{XDSB}}}Document"):
            documents[element.get("id") or ""] = message.content(element) or b""
    except (MtomError, UnsafeXmlError, SoapError) as exc:
        return f"requête illisible : {exc}"
    return Feed(exchange, read_submission(body), documents)


def _feeds(evidence: Evidence, context: CheckContext) -> list[Feed]:
    return [f for f in (read_feed(evidence, x) for x in _dmp(evidence, context, FEEDS)) if isinstance(f, Feed)]


def _cda(data: bytes) -> Any | None:
    try:
        return parse_xml(data)
    except UnsafeXmlError:
        return None


def _cda_unique_id(root: Any) -> str:
    found = root.find("h:id", NS)
    if found is None:
        return ""
    extension = found.get("extension")
    return f"{found.get('root')}^{extension}" if extension else found.get("root", "")


# DMP-001 -------------------------------------------------------------------------------------------------------
@check("dmp.access_test_first", requirements=("DMP-001",), title="Test d'accès TD0.2 avant tout usage du DMP")
def access_test_first(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    calls = _dmp(evidence, context)
    if not calls:
        return [failed("aucun échange avec le DMP pour ce patient", None)]
    first = calls[0]
    if first.transaction != "dmp.td02":
        message = (
            f"premier appel au DMP : {first.transaction} sans test d'existence et d'autorisation (TD0.2) préalable ; "
            "le logiciel doit tester l'accès dès l'ouverture du dossier"
        )
        return [failed(message, first)]
    message = f"test d'accès TD0.2 effectué avant les {len(calls) - 1} autre(s) appel(s) au DMP"
    return [passed(message, first)]


# DMP-002 -------------------------------------------------------------------------------------------------------
@check("dmp.document_fed", requirements=("DMP-002",), title="Document produit envoyé au DMP")
def document_fed(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    # The step's document is the latest the candidate handed over (replayed documents carry no patient keys).
    produced = evidence.select(transactions=(DOCUMENT,))
    if not produced:
        return [omitted("aucun document produit dans ce scénario", None)]
    document = produced[-1]
    data = evidence.part(document, "document") or b""
    for feed in _feeds(evidence, context):
        if data in feed.documents.values():  # a background feed may precede the hand-over of the document
            message = f"document envoyé au DMP (ITI-41 {feed.exchange.id}) sans action de l'utilisateur"
            return [passed(message, feed.exchange)]
    message = (
        "le document produit n'a été envoyé au DMP par aucune transaction ITI-41 : le logiciel doit alimenter le DMP "
        "de chaque document produit pour un patient à l'INS qualifiée, sans action supplémentaire"
    )
    return [failed(message, document)]


# DMP-003 -------------------------------------------------------------------------------------------------------
def vihf_of(evidence: Evidence, call: Exchange) -> dict[str, Any] | None:
    """What a DMP call's VIHF says (``subject``, ``authentication_mode``, ``problems``...), for other domains."""
    return _vihf_summary(evidence, call)


def _vihf_summary(evidence: Evidence, call: Exchange) -> dict[str, Any] | None:
    """What the simulator concluded of the call's VIHF, or, for an exchange it did not judge (a capture), what the
    recorded bytes show (signature, validity at the time of the exchange, attributes)."""
    if "vihf" in call.meta:
        summary: dict[str, Any] | None = call.meta["vihf"]
        return summary
    # signxml is imported when a VIHF is to be judged: it costs start-up to every ``check`` and ``replay``.
    from simulators.common.saml import find_assertion
    from simulators.dmp.vihf import judge_captured_vihf

    try:
        message = _message(evidence, call, "request")
    except (MtomError, UnsafeXmlError) as exc:
        return {"problems": [f"requête illisible : {exc}"], "access_mode": None}
    assertion = find_assertion(message.envelope)
    if assertion is None:
        return None
    try:
        at: dt.datetime | None = dt.datetime.fromisoformat(call.time) if call.time else None
    except ValueError:
        at = None
    read, problems = judge_captured_vihf(assertion, at)
    problems_said = [f"{p.field} : {p.message}" for p in problems]
    return {"access_mode": read.access_mode, "problems": problems_said, "notes": read.notes}


@check(
    "dmp.vihf",
    requirements=("DMP-003",),
    title="VIHF signé, valide et complet sur chaque appel",
    applies_to=("dmp.iti41", "dmp.td02", "dmp.iti18", "dmp.iti43", "dmp.iti57"),
)
def vihf(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    findings = []
    calls = _dmp(evidence, context)
    for call in calls:
        summary = _vihf_summary(evidence, call)
        if summary is None:
            findings.append(failed(f"{call.transaction} sans VIHF", call))
        elif summary and summary.get("problems"):
            problems = " ; ".join(summary["problems"])
            findings.append(failed(f"{call.transaction} : VIHF refusé : {problems}", call))
    if not calls:
        return [omitted("aucun appel au DMP à juger", None)]
    if not findings:
        message = f"{len(calls)} appel(s) au DMP, chacun avec un VIHF signé, valide et complet"
        # What the DMP accepts but is worth saying (a SHA-1 signature), as the simulator noted it: information only.
        notes = sorted({n for call in calls for n in (_vihf_summary(evidence, call) or {}).get("notes") or []})
        if notes:
            message += " ; à noter : " + " ; ".join(notes)
        return [passed(message, calls[-1])]
    return findings


# DMP-004 -------------------------------------------------------------------------------------------------------
_ENTRY_CODES = ("classCode", "typeCode", "formatCode", "confidentialityCode", "healthcareFacilityTypeCode",
                "practiceSettingCode")  # fmt: skip
_ENTRY_SLOTS = ("creationTime", "languageCode", "sourcePatientId")


def is_signature_entry(entry: RegistryObject) -> bool:
    """The document digital signature entry (IHE DSG) an ITI-41 may carry beside the documents it signs."""
    wanted = value_sets()["signature_entry"]["class_code"]
    return any((c.code, c.scheme) == (wanted["code"], wanted["system"]) for c in entry.codes.get("classCode", []))


def _signature_entry_problems(entry: RegistryObject) -> list[str]:
    sets = value_sets()["signature_entry"]
    problems = []
    for name, key in (("formatCode", "format_code"), ("typeCode", "type_code"), ("eventCodeList", "event_code")):
        wanted = sets[key]
        if not any((c.code, c.scheme) == (wanted["code"], wanted["system"]) for c in entry.codes.get(name, [])):
            expected = f"{wanted['code']}/{wanted['system']}"
            problems.append(f"fiche de signature : {name} {expected} attendu ({sets['source']})")
    return problems


def code_problems(entry: RegistryObject, context: CheckContext, *, dmp: bool = True) -> list[str]:
    """The entry's codes against their value sets: the DMP's (JDV_J57 class codes) when ``dmp``, the CI-SIS XDS ones
    (an MSSanté XDM package) otherwise."""
    sets = value_sets()
    problems = []
    for name in _ENTRY_CODES:
        if not entry.codes.get(name):
            problems.append(f"{name} absent")
    if dmp:
        allowed = {(str(code), system) for system, codes in sets["dmp_class_code"]["codes"].items() for code in codes}
        for code in entry.codes.get("classCode", []):
            if (code.code, code.scheme) not in allowed:
                problems.append(f"classCode {code.code}/{code.scheme} hors de {sets['dmp_class_code']['source']}")
        if is_signature_entry(entry):
            return problems + _signature_entry_problems(entry)
    else:
        for code in entry.codes.get("classCode", []):
            if code.scheme != sets["class_code"]["oid"] or code.code not in sets["class_code"]["codes"]:
                problems.append(f"classCode {code.code}/{code.scheme} hors de {sets['class_code']['source']}")
    allowed = sets["confidentiality_code"]["codes"]
    for code in entry.codes.get("confidentialityCode", []):
        if code.code not in allowed or allowed[code.code]["system"] != code.scheme:
            problems.append(f"confidentialityCode {code.code}/{code.scheme} hors de JDV_J08")
    pack = context.pack
    for name, value_set, systems in (
        ("typeCode", "JDV_J07_XdsTypeCode_CISIS", "type_code"),
        ("healthcareFacilityTypeCode", "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS", "healthcare_facility_type"),
        ("practiceSettingCode", "JDV_J04_XdsPracticeSettingCode_CISIS", "practice_setting"),
    ):
        for code in entry.codes.get(name, []):
            known = pack.value_set(value_set) if pack is not None else None
            if known is not None and (code.code, code.scheme) not in known:
                problems.append(f"{name} {code.code}/{code.scheme} absent de {value_set}")
            elif known is None and code.scheme not in sets["systems"][systems]:
                problems.append(f"{name} {code.code} : système {code.scheme!r} hors de {value_set}")
    return problems


def _metadata_problems(feed: Feed, context: CheckContext) -> list[str]:
    problems = []
    submission = feed.submission
    for entry in submission.entries:
        where = f"fiche {entry.id} : "
        entry_problems = code_problems(entry, context)
        entry_problems += [f"{name} absent" for name in _ENTRY_SLOTS if not entry.slot(name)]
        entry_problems += [f"{name} absent" for name in ("patientId", "uniqueId") if not entry.identifiers.get(name)]
        if not entry.mime_type:
            entry_problems.append("mimeType absent")
        if not entry.authors or not entry.authors[0].person:
            entry_problems.append("auteur (authorPerson) absent")
        creation = entry.slot("creationTime") or ""
        if creation and not (creation.isdigit() and len(creation) in (8, 12, 14)):
            entry_problems.append(f"creationTime {creation!r} : AAAAMMJJhhmmss en UTC attendu")
        problems += [where + p for p in entry_problems]
    signs = {a.source for a in submission.associations if a.type == SIGNS}
    for entry in submission.entries:
        if is_signature_entry(entry) and entry.id not in signs:
            problems.append(f"fiche {entry.id} : signature sans association {SIGNS} vers ce qu'elle signe")
    package = submission.submission_set
    if package is None:
        problems.append("lot de soumission absent")
    else:
        for name in ("uniqueId", "sourceId", "patientId"):
            if not package.identifiers.get(name):
                problems.append(f"lot de soumission : {name} absent")
        if not package.codes.get("contentTypeCode"):
            problems.append("lot de soumission : contentTypeCode absent")
        if not package.slot("submissionTime"):
            problems.append("lot de soumission : submissionTime absent")
    return problems


@check(
    "dmp.metadata_complete",
    requirements=("DMP-004",),
    title="Métadonnées XDS complètes et codées",
    applies_to=("dmp.iti41",),
)
def metadata_complete(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    feeds = _judged_feeds(evidence, context)
    if not feeds:
        return [omitted("aucune alimentation à juger", None)]
    findings = []
    for feed in feeds:
        problems = _metadata_problems(feed, context)
        findings += [failed(p, feed.exchange) for p in problems]
    if not findings:
        message = f"{len(feeds)} alimentation(s) aux métadonnées complètes, codées dans les jeux de valeurs du CI-SIS"
        return [passed(message, feeds[-1].exchange)]
    return findings


def _judged_feeds(evidence: Evidence, context: CheckContext) -> list[Feed]:
    """The focus feed when an expectation matched one, otherwise every feed of the patient."""
    if context.focus is not None and context.focus.transaction in FEEDS:
        feed = read_feed(evidence, context.focus)
        return [feed] if isinstance(feed, Feed) else []
    return _feeds(evidence, context)


# DMP-005 -------------------------------------------------------------------------------------------------------
def consistency_problems(entry: RegistryObject, data: bytes, *, local_patient_allowed: bool = False) -> list[str]:
    """Metadata against the document. The DMP knows patients by INS only; an MSSanté package to a professional may
    name a patient without qualified INS by the sender's local id (``local_patient_allowed``)."""
    problems = []
    digest = hashlib.sha1(data).hexdigest()  # XDS hash is SHA-1 (ITI TF-3 Table 4.3.1-3)
    if (entry.slot("hash") or "").lower() != digest:
        problems.append(f"hash {entry.slot('hash')!r} ≠ SHA-1 du document {digest}")
    if entry.slot("size") != str(len(data)):
        problems.append(f"size {entry.slot('size')!r} ≠ taille du document {len(data)}")
    root = _cda(data)
    if root is None:
        return [*problems, "document CDA illisible : cohérence avec l'en-tête non vérifiable"]
    ins_ids = [i for i in root.iterfind("h:recordTarget/h:patientRole/h:id", NS) if i.get("root") in INS_OIDS]
    cda_patient = f"{ins_ids[0].get('extension')}^^^&{ins_ids[0].get('root')}&ISO" if ins_ids else None
    if cda_patient is None and local_patient_allowed:
        local = root.find("h:recordTarget/h:patientRole/h:id", NS)
        cda_patient = f"{local.get('extension')}^^^&{local.get('root')}&ISO" if local is not None else None
    # Compared as CX identifiers: id and assigning authority; the type code (^NH) and later components may vary.
    if cx_key(entry.identifiers.get("patientId")) != cx_key(cda_patient):
        problems.append(f"patientId {entry.identifiers.get('patientId')!r} ≠ INS du recordTarget {cda_patient!r}")
    if entry.identifiers.get("uniqueId") != _cda_unique_id(root):
        problems.append(f"uniqueId {entry.identifiers.get('uniqueId')!r} ≠ id du document {_cda_unique_id(root)!r}")
    code = root.find("h:code", NS)
    type_code = entry.code("typeCode")
    if code is not None and (
        type_code is None or (type_code.code, type_code.scheme) != (code.get("code"), code.get("codeSystem"))
    ):
        problems.append(f"typeCode {type_code.code if type_code else None!r} ≠ code du document {code.get('code')!r}")
    confidentiality = root.find("h:confidentialityCode", NS)
    if confidentiality is not None and confidentiality.get("code") not in {
        c.code for c in entry.codes.get("confidentialityCode", [])
    }:
        problems.append(f"confidentialityCode du document ({confidentiality.get('code')}) absent des métadonnées")
    language = root.find("h:languageCode", NS)
    if language is not None and entry.slot("languageCode") != language.get("code"):
        problems.append(f"languageCode {entry.slot('languageCode')!r} ≠ langue du document {language.get('code')!r}")
    expected = expected_format_code(root)
    format_code = entry.code("formatCode")
    if expected and (format_code is None or format_code.code != expected):
        problems.append(f"formatCode {format_code.code if format_code else None!r} : {expected} attendu pour ce volet")
    return problems


def expected_format_code(root: Any) -> str | None:
    """The formatCode ASS_A11 gives the document's volet (its body's mediaType for a non-structured one), or None
    for a volet the map does not know."""
    formats = value_sets()["format_by_template"]
    templates = [t.get("root") for t in root.iterfind("h:templateId", NS)]
    expected = next((formats["templates"][t]["code"] for t in templates if t in formats["templates"]), None)
    if expected is None and formats["non_structured_template"] in templates:
        media = root.find("h:component/h:nonXMLBody/h:text", NS)
        by_media: dict[str, str] = formats["non_structured_by_media_type"]
        expected = by_media.get((media.get("mediaType") or "") if media is not None else "")
    return expected


def signature_consistency(entry: RegistryObject, data: bytes) -> list[str]:
    """A signature entry against its bytes: declared hash and size (when declared), and an XML signature."""
    problems = []
    digest = hashlib.sha1(data).hexdigest()
    if entry.slot("hash") and (entry.slot("hash") or "").lower() != digest:
        problems.append(f"hash {entry.slot('hash')!r} ≠ SHA-1 de la signature {digest}")
    if entry.slot("size") and entry.slot("size") != str(len(data)):
        problems.append(f"size {entry.slot('size')!r} ≠ taille de la signature {len(data)}")
    try:
        root = parse_xml(data)
    except UnsafeXmlError as exc:
        return [*problems, f"signature illisible : {exc}"]
    if root.tag != "{http://www.w3.org/2000/09/xmldsig#}Signature":
        problems.append(f"fiche de signature dont le document est {root.tag!r} et non une ds:Signature")
    return problems


@check(
    "dmp.metadata_consistent",
    requirements=("DMP-005",),
    title="Métadonnées cohérentes avec le document",
    applies_to=("dmp.iti41",),
)
def metadata_consistent(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    feeds = _judged_feeds(evidence, context)
    if not feeds:
        return [omitted("aucune alimentation à juger", None)]
    findings = []
    for feed in feeds:
        for entry in feed.submission.entries:
            data = feed.documents.get(entry.id)
            if data is None:
                findings.append(failed(f"fiche {entry.id} sans document", feed.exchange))
                continue
            problems = signature_consistency(entry, data) if is_signature_entry(entry) else None
            for problem in problems if problems is not None else consistency_problems(entry, data):
                findings.append(failed(f"fiche {entry.id} : {problem}", feed.exchange))
    if not findings:
        message = "métadonnées cohérentes avec l'en-tête CDA et les octets du document (hash, taille)"
        return [passed(message, feeds[-1].exchange)]
    return findings


# DMP-006 -------------------------------------------------------------------------------------------------------
def dmp_refused(call: Exchange) -> bool:
    """Did the DMP refuse the professional? TD0.2 outcomes (simulators/dmp/transactions.py access_test): ``NF`` (no
    DMP), ``FERME:<authorisation>`` (closed), ``<state>:INTERDIT`` (the patient blocked the professional); TD0.3's
    ``refus:<status>``; any transaction's ``failure``."""
    outcome = call.outcome or ""
    if call.transaction == "dmp.td02":
        return outcome == "NF" or outcome.startswith("FERME:") or outcome.endswith(":INTERDIT")
    return outcome == "failure" or outcome.startswith("refus:")


@check("dmp.refusal_respected", requirements=("DMP-006",), title="Refus du DMP respectés, utilisateur informé")
def refusal_respected(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    calls = _dmp(evidence, context)
    refused = [c for c in calls if dmp_refused(c)]
    if not refused:
        return [omitted("le DMP n'a rien refusé pour ce patient", None)]
    findings = []
    after = [c for c in calls if c.seq > refused[0].seq and c.transaction in USES]
    if len(after) > 1:
        message = (
            f"{len(after)} appels au DMP après son refus ({refused[0].outcome}) : le logiciel ne doit pas réessayer "
            "en boucle un DMP absent, fermé, refusé ou objet d'une opposition"
        )
        findings.append(failed(message, after[-1]))
    keys = context.patient.keys if context.patient else None
    records = [r for r in evidence.select(transactions=(RECORD,), keys=keys) if r.seq > refused[0].seq]
    messages = (evidence.json(records[-1], "record") or {}).get("messages", []) if records else []
    if not any("DMP" in m for m in messages):
        message = "l'utilisateur n'est pas informé du refus du DMP (aucun message le mentionnant dans le dossier)"
        findings.append(failed(message, records[-1] if records else None))
    if not findings:
        message = f"refus du DMP ({refused[0].outcome}) respecté : pas de nouvel essai, utilisateur informé"
        return [passed(message, refused[0])]
    return findings


# DMP-007 -------------------------------------------------------------------------------------------------------
@check("dmp.replacement", requirements=("DMP-007",), title="Remplacement par association RPLC")
def replacement(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    feeds = _feeds(evidence, context)
    by_document: dict[str, tuple[Feed, str]] = {}  # CDA id -> (feed, entry id)
    findings = []
    judged = 0
    for feed in feeds:
        for entry in feed.submission.entries:
            root = _cda(feed.documents.get(entry.id, b""))
            if root is None:
                continue
            parent = root.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS)
            if parent is not None:
                judged += 1
                previous = by_document.get(parent.get("root", ""))
                targets = {a.target for a in feed.submission.associations if a.type == REPLACE and a.source == entry.id}
                if previous is None:
                    message = f"le document remplace {parent.get('root')}, jamais envoyé au DMP dans ce scénario"
                    findings.append(failed(message, feed.exchange))
                elif previous[1] not in targets:
                    message = (
                        "nouvelle version envoyée sans association RPLC vers la fiche qu'elle remplace "
                        f"({previous[1]}) : le DMP garde deux versions (doublon)"
                    )
                    findings.append(failed(message, feed.exchange))
            found = root.find("h:id", NS)
            if found is not None:
                by_document[found.get("root", "")] = (feed, entry.id)
    if not judged:
        return [
            failed(
                "aucune nouvelle version (relatedDocument RPLC) envoyée au DMP",
                None,
            )
        ]
    if not findings:
        return [
            passed(
                "nouvelle version envoyée avec l'association RPLC",
                feeds[-1].exchange,
            )
        ]
    return findings


# DMP-008 -------------------------------------------------------------------------------------------------------
@check("dmp.masking", requirements=("DMP-008",), title="Masquage aux professionnels demandé au DMP")
def masking(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    updates = _dmp(evidence, context, ("dmp.iti57",))
    for update in updates:
        try:
            message = parse_mtom(
                evidence.part(update, "request") or b"", update.files["request"].media_type, max_bytes=1 << 24
            )
            body = read_envelope(message.envelope).body_element
        except (MtomError, UnsafeXmlError, SoapError, KeyError):
            continue
        for element in body.iter(f"{{{RIM}}}ExtrinsicObject"):
            codes = {
                (c.get("nodeRepresentation"), c.findtext(f"{{{RIM}}}Slot/{{{RIM}}}ValueList/{{{RIM}}}Value"))
                for c in element.findall(f"{{{RIM}}}Classification")
            }
            if MASKED in codes and element.get("lid"):
                text = f"masquage demandé au DMP (ITI-57, MASQUE_PS sur {element.get('lid')})"
                return [passed(text, update)]
    for feed in _feeds(evidence, context):
        if any(
            (c.code, c.scheme) == MASKED
            for e in feed.submission.entries
            for c in e.codes.get("confidentialityCode", [])
        ):
            return [
                passed(
                    "document envoyé masqué aux professionnels (MASQUE_PS)",
                    feed.exchange,
                )
            ]
    text = (
        "aucune demande de masquage (confidentialityCode MASQUE_PS, système 1.2.250.1.213.1.1.4.13) n'a atteint le DMP "
        "alors que l'utilisateur l'a demandée"
    )
    return [failed(text, updates[-1] if updates else None)]


# DMP-014 -------------------------------------------------------------------------------------------------------
def _dmp_traits(evidence: Evidence, call: Exchange) -> dict[str, str] | None:
    """The patient's traits a TD0.2 answer carried (PRPA_IN201308UV02 patientPerson), read from its bytes."""
    body = _soap_body(evidence, call, "response")
    if body is None:
        return None
    person = body.find(".//h:subject1/h:patient/h:patientPerson", NS)
    if person is None:
        return None
    gender, born = person.find("h:administrativeGenderCode", NS), person.find("h:birthTime", NS)
    return {
        "nom de naissance": person.findtext("h:name/h:family", "", NS),
        "prénom": person.findtext("h:name/h:given", "", NS),
        "sexe": gender.get("code", "") if gender is not None else "",
        "date de naissance": (born.get("value", "") if born is not None else "")[:8],
    }


def traits_divergence(dmp: dict[str, str], record: dict[str, Any]) -> list[str]:
    """The traits on which the DMP's identity and the record's differ (compared as INSi compares them: no case, no
    diacritics)."""
    own = {
        "nom de naissance": record.get("birth_name") or "",
        "prénom": record.get("first_name") or "",
        "sexe": record.get("sex") or "",
        "date de naissance": (record.get("birth_date") or "").replace("-", ""),
    }
    return [name for name, value in dmp.items() if value and normalise_trait(value) != normalise_trait(own[name])]


@check("dmp.traits_divergence", requirements=("DMP-014",), title="Divergence des traits au test d'accès signalée")
def traits_divergence_reported(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    keys = context.patient.keys if context.patient else None
    records = evidence.select(transactions=(RECORD,), keys=keys)
    if not records:
        return [errored("dossier du patient non lu : lire le dossier avant de juger la divergence", None)]
    record = evidence.json(records[-1], "record") or {}
    diverging = []
    tests = _dmp(evidence, context, ("dmp.td02",))
    if not tests:
        message = "aucun test d'accès (TD0.2) : le logiciel ne peut constater une divergence des traits du DMP"
        return [failed(message, records[-1])]
    for test in tests:
        traits = _dmp_traits(evidence, test)
        if traits and (differ := traits_divergence(traits, record)):
            diverging.append((test, differ))
    if not diverging:
        return [omitted("traits du DMP identiques à ceux du dossier au test d'accès : rien à signaler", None)]
    test, differ = diverging[0]
    findings = []
    feeds = [f for f in _dmp(evidence, context, FEEDS) if f.seq > test.seq]
    if feeds:
        message = (
            f"DMP alimenté ({feeds[0].transaction}) alors que ses traits divergent de ceux du dossier "
            f"({', '.join(differ)}) : l'utilisateur doit confirmer l'identité avant toute alimentation"
        )
        findings.append(failed(message, feeds[0]))
    later = [r for r in records if r.seq > test.seq]
    messages = (evidence.json(later[-1], "record") or {}).get("messages", []) if later else []
    if not any("trait" in m.lower() for m in messages):
        message = (
            f"le DMP a renvoyé des traits différents de ceux du dossier ({', '.join(differ)}) et l'utilisateur n'en "
            "est pas averti (aucun message du dossier ne mentionne les traits)"
        )
        findings.append(failed(message, later[-1] if later else test))
    if not findings:
        message = f"divergence des traits ({', '.join(differ)}) signalée à l'utilisateur, aucune alimentation avant"
        return [passed(message, test)]
    return findings


# DMP-025 -------------------------------------------------------------------------------------------------------
def _authorisation_action(evidence: Evidence, call: Exchange) -> str | None:
    """The ``action`` (AJOUT, SUPPRESSION) a TD0.3 request asked for, read from its bytes."""
    body = _soap_body(evidence, call, "request")
    if body is None:
        return None
    read = read_set_authorization(body)
    return None if isinstance(read, str) else read.action


@check("dmp.authorisation_set", requirements=("DMP-025",), title="Autorisation d'accès posée (TD0.3)")
def authorisation_set(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    calls = _dmp(evidence, context, ("dmp.td02", "dmp.td03"))
    tests = [c for c in calls if c.transaction == "dmp.td02"]
    missing = [c for c in tests if (c.outcome or "").endswith(":AUCUNE")]
    forbidden = [c for c in tests if (c.outcome or "").endswith(":INTERDIT")]
    added = [c for c in calls if c.transaction == "dmp.td03" and _authorisation_action(evidence, c) == "AJOUT"]
    findings = [
        failed(
            "autorisation posée (TD0.3 AJOUT) alors que le DMP indique que le patient a bloqué ce professionnel "
            "(AUTORISATION INTERDIT) : ne jamais passer outre l'opposition du patient",
            call,
        )
        for call in added
        if any(t.seq < call.seq for t in forbidden)
    ]
    if not missing and not forbidden:
        return findings or [omitted("le DMP n'a signalé aucune autorisation manquante pour ce patient", None)]
    for test in missing:
        following = [a for a in added if a.seq > test.seq]
        if not following:
            message = (
                f"le test d'accès (TD0.2) a répondu {test.outcome} et aucune autorisation (TD0.3 AJOUT) n'a suivi : "
                "le logiciel doit poser l'autorisation d'accès quand le patient ne s'y oppose pas"
            )
            findings.append(failed(message, test))
        elif not (following[0].outcome or "").startswith("DMPOk"):
            findings.append(failed(f"TD0.3 AJOUT refusée par le DMP ({following[0].outcome})", following[0]))
    if not findings:
        message = "autorisation d'accès posée (TD0.3 AJOUT) après le test d'existence, sans action de l'utilisateur"
        return [passed(message, added[-1] if added else tests[-1])]
    return findings


# DMP-009 -------------------------------------------------------------------------------------------------------
@check("dmp.consult_by_record_ins", requirements=("DMP-009",), title="Consultation avec l'INS du dossier")
def consult_by_record_ins(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    keys = context.patient.keys if context.patient else None
    records = evidence.select(transactions=(RECORD,), keys=keys)
    record = evidence.json(records[-1], "record") if records else None
    if not record or not record.get("ins_matricule"):
        return [errored("INS du dossier inconnue : lire le dossier avant", None)]
    expected = f"{record['ins_matricule']}^^^&{record['ins_oid']}&ISO^NH"
    queries = _dmp(evidence, context, ("dmp.iti18",))
    if not queries:
        return [failed("aucune recherche ITI-18 dans le DMP", None)]
    findings = []
    for query_exchange in queries:
        try:
            body = _body(_message(evidence, query_exchange, "request"))
        except (MtomError, UnsafeXmlError, SoapError) as exc:
            findings.append(failed(f"requête illisible : {exc}", query_exchange))
            continue
        asked = read_stored_query(body).values("$XDSDocumentEntryPatientId")
        if [cx_key(a) for a in asked] != [cx_key(expected)]:
            message = f"recherche pour {asked} au lieu de l'INS du dossier {expected} : consulter avec l'INS qualifiée"
            findings.append(failed(message, query_exchange))
    if not findings:
        return [
            passed(
                "consultation avec l'INS du dossier, sans ressaisie",
                queries[-1],
            )
        ]
    return findings


# DMP-010 -------------------------------------------------------------------------------------------------------
def _modes(evidence: Evidence, context: CheckContext) -> list[tuple[Exchange, str | None]]:
    calls = _dmp(evidence, context, ("dmp.iti18", "dmp.iti43"))
    return [(x, (_vihf_summary(evidence, x) or {}).get("access_mode")) for x in calls]


@check("dmp.access_mode_normal", requirements=("DMP-010",), title="Mode d'accès normal hors urgence")
def access_mode_normal(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    modes = _modes(evidence, context)
    wrong = [(x, m) for x, m in modes if m != "normal"]
    if not modes:
        return [failed("aucune consultation du DMP à juger", None)]
    if wrong:
        return [
            failed(
                f"mode d'accès {m!r} déclaré alors que l'utilisateur n'a pas choisi le bris de glace",
                x,
            )
            for x, m in wrong
        ]
    return [passed("mode d'accès normal déclaré", modes[-1][0])]


@check("dmp.access_mode_break_glass", requirements=("DMP-010",), title="Bris de glace déclaré quand choisi")
def access_mode_break_glass(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    modes = _modes(evidence, context)
    if not modes:
        return [failed("aucune consultation du DMP à juger", None)]
    last, mode = modes[-1]
    if mode != "bris_de_glace":  # TRE_R248 code (read lower-cased: the code system is case-insensitive)
        return [
            failed(
                f"mode {mode!r} : bris_de_glace (TRE_R248) attendu, l'utilisateur l'a choisi",
                last,
            )
        ]
    return [
        passed(
            "bris de glace déclaré, comme l'utilisateur l'a choisi",
            last,
        )
    ]


# DMP-011 -------------------------------------------------------------------------------------------------------
@check("dmp.integrated_not_republished", requirements=("DMP-011",), title="Documents du DMP intégrés, jamais republiés")
def integrated_not_republished(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    retrievals = _dmp(evidence, context, ("dmp.iti43",))
    retrieved = {u for x in retrievals for u in x.meta.get("returned", [])}
    if not retrieved:
        return [failed("aucun document récupéré du DMP (ITI-43)", None)]
    findings = []
    for feed in _feeds(evidence, context):
        if feed.exchange.seq < retrievals[0].seq:
            continue
        for entry in feed.submission.entries:
            if entry.identifiers.get("uniqueId") in retrieved:
                unique_id = entry.identifiers.get("uniqueId")
                message = f"document {unique_id} récupéré du DMP puis renvoyé au DMP comme un document du logiciel"
                findings.append(failed(message, feed.exchange))
    keys = context.patient.keys if context.patient else None
    records = [r for r in evidence.select(transactions=(RECORD,), keys=keys) if r.seq > retrievals[-1].seq]
    listed = (evidence.json(records[-1], "record") or {}).get("documents", []) if records else []
    if listed is None:  # the adapter cannot list the record's documents (a person reads the screen)
        message = "le candidat ne liste pas les documents de son dossier : intégration à constater par l'opérateur"
        findings.append(skipped(message, records[-1]))
    else:
        missing = retrieved - {d.get("unique_id") for d in listed if d.get("origin") == "dmp"}
        if missing:
            message = f"{len(missing)} document(s) récupéré(s) du DMP absent(s) du dossier (à y intégrer comme tels)"
            findings.append(failed(message, records[-1] if records else None))
    # Without the record's list, integration is unproven: no pass, whatever the rest (never a partial "Conforme").
    if listed is not None and not any(f.outcome == "fail" for f in findings):
        message = f"{len(retrieved)} document(s) du DMP intégré(s) au dossier, aucun renvoyé au DMP"
        findings.append(passed(message, retrievals[-1]))
    return findings


# DMP-024 -------------------------------------------------------------------------------------------------------
CONSULTATIONS = ("dmp.td02", "dmp.td03", "dmp.iti18", "dmp.iti43")


@check(
    "dmp.opposition_honoured",
    requirements=("DMP-024",),
    title="Aucune transaction de consultation pour un patient opposé à l'accès à son DMP (SC.DMP/CONF.06)",
)
def opposition_honoured(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """While the patient's opposition to professionals' access is recorded, the software sends no consultation
    transaction for them: no access test (TD0.2), no authorisation request (TD0.3), no search (ITI-18), no retrieval
    (ITI-43). Feeding is not judged here: opposing access does not stop the record being fed."""
    from bench.checks.choices import choices, while_opposed

    if not any(choice == "opposition" for _request, choice in choices(evidence, "dmp")):
        return [omitted("aucune opposition du patient à l'accès à son DMP enregistrée dans ce scénario", None)]
    calls = evidence.select(channel="dmp", transactions=CONSULTATIONS)
    offending = while_opposed(evidence, "dmp", calls)
    if offending:
        return [
            failed(
                f"{call.transaction} émis alors que le patient s'oppose à l'accès à son DMP (opposition enregistrée, "
                f"échange {opposition.id}) : aucune consultation (TD0.2, TD0.3, ITI-18, ITI-43) tant qu'elle vaut",
                call,
            )
            for call, opposition in offending
        ]
    return [passed("aucune transaction de consultation du DMP pendant l'opposition du patient", None)]


# DMP-031 -------------------------------------------------------------------------------------------------------
SEARCH = "candidate.dmp_search"


@check(
    "dmp.search_criteria",
    requirements=("DMP-031",),
    title="Recherche multicritère : l'ITI-18 porte le type de document et la période demandés (TD3.1)",
)
def search_criteria(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The user searched the DMP for documents of one type created since a date: the FindDocuments query carries
    ``$XDSDocumentEntryTypeCode`` with that type and
    ``$XDSDocumentEntryCreationTimeFrom`` at that date (IHE ITI TF-2a §3.18.4.1.2.3.7.1): filtering after fetching
    everything is no multicriteria search of the DMP."""
    from bench.fixtures.kinds import DOCUMENT_KINDS

    focus = context.focus
    if focus is None or focus.transaction != "dmp.iti18":
        return [omitted("aucune recherche ITI-18 dans cette étape", None)]
    asked = [x for x in evidence.select(channel="candidate", transactions=(SEARCH,)) if x.seq < focus.seq]
    wanted = evidence.json(asked[-1], "search") if asked else None
    kind = DOCUMENT_KINDS.get(str((wanted or {}).get("kind")))
    if kind is None:
        return [errored("critères de la recherche demandée introuvables au journal", focus)]
    try:
        query = read_stored_query(_body(_message(evidence, focus, "request")))
    except (MtomError, UnsafeXmlError, SoapError) as exc:
        return [failed(f"requête illisible : {exc}", focus)]
    problems = []
    codes = {v.split("^")[0] for v in query.values("$XDSDocumentEntryTypeCode")}
    if kind.code not in codes:
        problems.append(f"type « {kind.title} » ({kind.code}) absent de $XDSDocumentEntryTypeCode")
    since = str(wanted.get("since", "")).replace("-", "") if wanted else ""
    sent = query.values("$XDSDocumentEntryCreationTimeFrom")
    if not sent or not sent[0].startswith(since):
        problems.append(f"$XDSDocumentEntryCreationTimeFrom {sent[0] if sent else 'absent'} au lieu de {since}")
    if problems:
        return [failed(" ; ".join(problems) + " : la recherche doit porter ses critères au DMP (TD3.1)", focus)]
    return [passed(f"ITI-18 avec le type {kind.code} et la date de création depuis {since}", focus)]


# DMP-017 -------------------------------------------------------------------------------------------------------
def _deleted(evidence: Evidence, context: CheckContext) -> dict[str, Exchange]:
    """uniqueId -> the ITI-57 the DMP accepted that deleted it (TD3.3c), as the simulator filed it."""
    found = {}
    for update in _dmp(evidence, context, ("dmp.iti57",)):
        if update.outcome == "success":
            for change in update.meta.get("changes") or []:
                if str(change).startswith("suppression "):
                    found[str(change).split(" ", 1)[1]] = update
    return found


def _fed(evidence: Evidence, context: CheckContext, before: int | None = None) -> set[str]:
    """uniqueIds of the documents the DMP accepted in an ITI-41 (before exchange ``before``, if given)."""
    return {
        str(entry.identifiers["uniqueId"])
        for feed in _feeds(evidence, context)
        if feed.exchange.outcome == "success" and (before is None or feed.exchange.seq < before)
        for entry in feed.submission.entries
        if entry.identifiers.get("uniqueId")
    }


@check(
    "dmp.deletion",
    requirements=("DMP-017",),
    title="Suppression d'un document envoyé : une transaction TD3.3c acceptée par le DMP",
)
def deletion(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Asked to delete a document it sent, the software sends the DMP an ITI-57 setting its entry to Deleted (GIE
    SESAM-Vitale TD3.3c) for a document it fed, and the DMP accepts it."""
    focus = context.focus
    if focus is None or focus.transaction != "dmp.iti57":
        return [omitted("aucune mise à jour ITI-57 dans cette étape", None)]
    fed = _fed(evidence, context)
    deleted = [uid for uid, update in _deleted(evidence, context).items() if update is focus]
    if focus.outcome != "success":
        return [failed(f"ITI-57 refusée par le DMP ({focus.outcome}) : le document n'est pas supprimé", focus)]
    if not deleted:
        return [failed("l'ITI-57 ne supprime aucun document (TD3.3c : NewStatus Deleted attendu)", focus)]
    if not set(deleted) & fed:
        return [failed(f"document supprimé {', '.join(deleted)} : aucun document envoyé par le logiciel", focus)]
    return [passed(f"document {', '.join(deleted)} supprimé du DMP (TD3.3c)", focus)]


@check(
    "dmp.sending_status_shown",
    requirements=("DMP-017",),
    title="Statut d'envoi au DMP montré document par document",
)
def sending_status_shown(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The record shows, for each of the software's own documents, what the DMP did with it: ``alimente`` only for
    a document the DMP accepted (ITI-41 success), ``supprime`` for one it deleted, and no other as sent."""
    keys = context.patient.keys if context.patient else None
    records = evidence.select(transactions=(RECORD,), keys=keys)
    if not records:
        return [errored("aucune lecture du dossier à juger", None)]
    listed = (evidence.json(records[-1], "record") or {}).get("documents")
    if listed is None:
        return [skipped("le candidat ne liste pas les documents de son dossier : statut à constater à l'écran", None)]
    fed = _fed(evidence, context, before=records[-1].seq)
    deleted = {uid for uid, update in _deleted(evidence, context).items() if update.seq < records[-1].seq}
    own = {str(d.get("unique_id")): str(d.get("dmp_status")) for d in listed if d.get("origin") == "own"}
    problems = []
    for unique_id, status in own.items():
        expected = "supprime" if unique_id in deleted else "alimente" if unique_id in fed else None
        if expected and status != expected:
            problems.append(f"{unique_id} montré « {status} » au lieu de « {expected} »")
        elif expected is None and status in ("alimente", "supprime"):
            problems.append(f"{unique_id} montré « {status} » alors que le DMP ne l'a pas reçu")
    problems += [f"{uid} envoyé au DMP mais absent du dossier" for uid in sorted(fed - deleted - set(own))]
    if problems:
        return [failed("statut d'envoi au DMP faux : " + " ; ".join(problems), records[-1])]
    return [passed(f"statut d'envoi de {len(own)} document(s) conforme à ce que le DMP a reçu", records[-1])]


# GEN-003 -------------------------------------------------------------------------------------------------------
@check("dmp.dashboard_feeds", requirements=("GEN-003",), title="Tableau de bord : les alimentations du DMP")
def dashboard_feeds(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The dashboard counts every ITI-41 that reached the DMP, whatever the DMP answered."""
    from bench.checks.dashboard import judge_counter

    feeds = evidence.select(transactions=FEEDS)
    return judge_counter(evidence, "dmp_feeds", "alimentation(s) du DMP", feeds)


# DMP-018 -------------------------------------------------------------------------------------------------------
@check(
    "dmp.business_date",
    requirements=("DMP-018",),
    title="Document historique daté de sa date métier (CDA et métadonnées XDS)",
)
def business_date(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A historical document the software was asked to produce with its business date carries that day in the CDA's
    effectiveTime and the XDS creationTime of the ITI-41 that fed it, and its act (XDS serviceStartTime to
    serviceStopTime, from the CDA's documentationOf/serviceEvent) took place that day: a one-day act starts on it, a
    hospital stay spans it (SC.DMP/HISTO.03)."""
    from bench.actions.core import DOCUMENT_REQUEST

    focus = context.focus
    if focus is None or focus.transaction != "dmp.iti41":
        return [omitted("aucune alimentation ITI-41 dans cette étape", None)]
    asked = [x for x in evidence.select(channel="candidate", transactions=(DOCUMENT_REQUEST,)) if x.seq < focus.seq]
    day = str((evidence.json(asked[-1], "request") or {}).get("business_date", "")) if asked else ""
    if not day:
        return [omitted("aucun document historique demandé avant cette alimentation", focus)]
    feed = read_feed(evidence, focus)
    if not isinstance(feed, Feed):
        return [failed(f"alimentation illisible : {feed}", focus)]
    wanted = day.replace("-", "")
    problems = []
    for entry in feed.submission.entries:
        created = entry.slot("creationTime") or ""
        if not created.startswith(wanted):
            problems.append(f"creationTime {created or 'absent'}")
        start = entry.slot("serviceStartTime") or ""
        stop = entry.slot("serviceStopTime") or start
        if not start[:8] or not start[:8] <= wanted <= stop[:8]:
            span = f"{start or 'absent'}" + (f" – {stop}" if stop != start else "")
            problems.append(f"serviceStartTime/serviceStopTime {span}")
    for document in feed.documents.values():
        root = _cda(document)
        found = root.find("h:effectiveTime", NS) if root is not None else None
        value = found.get("value", "") if found is not None else ""
        if not value.startswith(wanted):
            problems.append(f"effectiveTime du CDA {value or 'absent'}")
    if problems:
        return [failed(f"document historique du {day} : " + ", ".join(problems) + " (date métier attendue)", focus)]
    return [passed(f"document historique daté du {day} (effectiveTime, creationTime, serviceStartTime)", focus)]


# DMP-026 -------------------------------------------------------------------------------------------------------
def _expected_state(tests: list[Exchange], grants: list[Exchange]) -> str | None:
    """What the record should show after the last access test (TD0.2 outcome, then a TD0.3 the DMP accepted)."""
    outcome = tests[-1].outcome or ""
    if outcome.startswith("NF"):
        return "absent"
    if outcome.startswith("FERME"):
        return "ferme"
    if outcome == "ACTIF:VALIDE":
        return "actif"
    if outcome.startswith("ACTIF"):
        granted = any(g.seq > tests[-1].seq and (g.outcome or "").startswith("DMPOk") for g in grants)
        return "actif" if granted and outcome != "ACTIF:INTERDIT" else "non_autorise"
    return None


@check(
    "dmp.state_shown",
    requirements=("DMP-026",),
    title="État du DMP montré sans clic : présent, absent, accès non autorisé, fermé (SC.DMP/UX.11-13)",
)
def state_shown(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Once the record is open, it shows what the DMP answered the access test (TD0.2, and the authorisation TD0.3):
    an existing DMP, no DMP, an access the professional may not have (distinct from no DMP), a closed DMP."""
    keys = context.patient.keys if context.patient else None
    tests = _dmp(evidence, context, ("dmp.td02",))
    records = [r for r in evidence.select(transactions=(RECORD,), keys=keys) if tests and r.seq > tests[-1].seq]
    if not tests or not records:
        return [omitted("aucune lecture du dossier après un test d'accès au DMP", None)]
    expected = _expected_state(tests, _dmp(evidence, context, ("dmp.td03",)))
    if expected is None:
        return [omitted(f"réponse du test d'accès {tests[-1].outcome} : état non jugé", tests[-1])]
    shown = (evidence.json(records[-1], "record") or {}).get("dmp_state")
    if shown is None:
        return [skipped("le candidat ne dit pas l'état du DMP affiché : à constater à l'écran", records[-1])]
    if shown != expected:
        message = f"état du DMP montré « {shown} » alors que le DMP a répondu {tests[-1].outcome} (« {expected} »)"
        return [failed(message, records[-1])]
    return [passed(f"état du DMP montré « {shown} », comme le DMP l'a répondu ({tests[-1].outcome})", records[-1])]


# CDA-013, DMP-032, DMP-034: documents integrated from the DMP ------------------------------------------------------
def retrieved_documents(evidence: Evidence, call: Exchange) -> dict[str, ImportKeys]:
    """unique id -> the keys its CDA gives itself, for each document an ITI-43 answer carried."""
    try:
        message = _message(evidence, call, "response")
        body = _body(message)
    except (MtomError, UnsafeXmlError, SoapError):
        return {}
    found = {}
    for response in body.iter(f"{{{XDSB}}}DocumentResponse"):
        unique_id = response.findtext(f"{{{XDSB}}}DocumentUniqueId", default="").strip()
        element = response.find(f"{{{XDSB}}}Document")
        keys = cda_keys(message.content(element) or b"") if element is not None else None
        if unique_id and keys is not None:
            found[unique_id] = keys
    return found


def _records_after(evidence: Evidence, context: CheckContext, seq: int) -> list[Exchange]:
    keys = context.patient.keys if context.patient else None
    return [r for r in evidence.select(transactions=(RECORD,), keys=keys) if r.seq > seq]


@check(
    "dmp.imports_classified",
    requirements=("CDA-013",),
    title="Documents intégrés du DMP classés sous le type et la date de leur CDA (SC.CDA/INT.04)",
)
def imports_classified(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Each document retrieved from the DMP (ITI-43) that the record lists is filed under its CDA's code and the day of
    its effectiveTime, the keys the user sorts imported documents by (its origin is DMP-011's)."""
    retrievals = _dmp(evidence, context, ("dmp.iti43",))
    imported: dict[str, ImportKeys] = {}
    for call in retrievals:
        imported.update(retrieved_documents(evidence, call))
    records = _records_after(evidence, context, retrievals[-1].seq) if retrievals else []
    return judge_imports(evidence, records[-1] if records else None, imported, "du DMP")


INTEGRATION = INTEGRATION_VIEW.transaction


@check(
    "dmp.selective_integration",
    requirements=("DMP-032",),
    title="Intégration des seuls documents choisis dans la liste du DMP, sans doublon (SC.DMP/UX.31, UX.36)",
)
def selective_integration(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The user picked documents of given types in the DMP's list: only those are retrieved (ITI-43) and integrated;
    picking one already integrated retrieves nothing again and adds no second copy."""
    from bench.fixtures.kinds import DOCUMENT_KINDS

    keys = context.patient.keys if context.patient else None
    asked = evidence.select(channel="candidate", transactions=(INTEGRATION,), keys=keys)
    if not asked:
        return [omitted("aucune intégration de document choisi dans ce scénario", None)]
    wanted = {
        DOCUMENT_KINDS[k].code
        for k in (str((evidence.json(a, "integration") or {}).get("kind")) for a in asked)
        if k in DOCUMENT_KINDS
    }
    retrievals = [x for x in _dmp(evidence, context, ("dmp.iti43",)) if x.seq > asked[0].seq]
    taken: Counter[str] = Counter()
    kinds: dict[str, str] = {}
    for call in retrievals:
        documents = retrieved_documents(evidence, call)
        taken.update(documents.keys())
        kinds.update({uid: k.type_code for uid, k in documents.items()})
    problems = []
    unchosen = sorted(uid for uid, code in kinds.items() if code not in wanted)
    if unchosen:
        problems.append(f"{len(unchosen)} document(s) non choisi(s) récupéré(s) ({', '.join(unchosen)})")
    again = sorted(uid for uid, n in taken.items() if n > 1)
    if again:
        problems.append(
            f"document déjà intégré récupéré à nouveau ({', '.join(again)}) : avertir, ne pas retélécharger"
        )
    records = _records_after(evidence, context, asked[-1].seq)
    if not records:
        return [omitted("aucune lecture du dossier après l'intégration", asked[-1])]
    listed = (evidence.json(records[-1], "record") or {}).get("documents")
    if listed is None:
        message = "le candidat ne liste pas les documents de son dossier : intégration à constater à l'écran"
        return [failed(" ; ".join(problems), records[-1])] if problems else [skipped(message, records[-1])]
    from_dmp = Counter(str(d.get("unique_id")) for d in listed if isinstance(d, dict) and d.get("origin") == "dmp")
    twice = sorted(uid for uid, n in from_dmp.items() if n > 1)
    if twice:
        problems.append(f"document du DMP présent {max(from_dmp.values())} fois au dossier ({', '.join(twice)})")
    missing = sorted(code for code in wanted if not any(kinds.get(uid) == code for uid in from_dmp))
    if missing:
        problems.append(f"document choisi absent du dossier (type {', '.join(missing)})")
    if problems:
        return [failed("intégration sélective : " + " ; ".join(problems), records[-1])]
    return [passed(f"{len(from_dmp)} document(s) choisi(s) intégré(s), une seule fois chacun", records[-1])]


@check(
    "dmp.integrated_change_noticed",
    requirements=("DMP-034",),
    title="Document intégré du DMP : auteur montré, remplacement ou suppression dans le DMP détectés (SC.DMP/UX.38-42)",
)
def integrated_change_noticed(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Documents the software integrated from the DMP were since replaced (RPLC) or deleted there by their author:
    the record, read after the user opened them, shows who wrote each and what became of it in the DMP."""
    keys = context.patient.keys if context.patient else None
    changes = [
        (f, str(f.meta.get("replaces") or f.meta.get("deletes")), "remplace" if f.meta.get("replaces") else "supprime")
        for f in evidence.select(channel="dmp", transactions=(COLLEAGUE_FEED,), keys=keys)
        if f.meta.get("replaces") or f.meta.get("deletes")
    ]
    if not changes:
        return [omitted("aucun document remplacé ou supprimé dans le DMP par son auteur dans ce scénario", None)]
    last = changes[-1][0]
    integrated: dict[str, ImportKeys] = {}
    for call in _dmp(evidence, context, ("dmp.iti43",)):
        if call.seq < changes[0][0].seq:
            integrated.update(retrieved_documents(evidence, call))
    judged = [(feed, uid, expected) for feed, uid, expected in changes if uid in integrated]
    if not judged:
        return [omitted("les documents changés dans le DMP n'avaient pas été intégrés au dossier", last)]
    records = _records_after(evidence, context, last.seq)
    if not records:
        return [omitted("aucune lecture du dossier après les changements dans le DMP", last)]
    listed = (evidence.json(records[-1], "record") or {}).get("documents")
    if listed is None or not says_filing(listed):
        message = "le candidat ne dit pas ce que son dossier montre des documents du DMP : à constater à l'écran"
        return [skipped(message, records[-1])]
    problems = []
    for _feed, uid, expected in judged:
        line = next((d for d in listed if isinstance(d, dict) and d.get("unique_id") == uid), None)
        if line is None:
            problems.append(f"{uid} absent du dossier (le document intégré doit rester, son changement signalé)")
            continue
        family = integrated[uid].author_family
        if family and family.casefold() not in str(line.get("author") or "").casefold():
            problems.append(f"{uid} : auteur montré {line.get('author')!r}, le CDA nomme {family} (SC.DMP/UX.38)")
        if line.get("dmp_change") != expected:
            what = "remplacement" if expected == "remplace" else "suppression"
            problems.append(
                f"{uid} : {what} dans le DMP non signalé (dmp_change {line.get('dmp_change')!r} au lieu de "
                f"{expected!r}) ; l'identifiant unique conservé sert à le détecter"
            )
    if problems:
        return [failed("documents intégrés du DMP : " + " ; ".join(problems), records[-1])]
    said = ", ".join(f"{uid} {expected}" for _f, uid, expected in judged)
    return [passed(f"auteur montré et changement dans le DMP signalé : {said}", records[-1])]


# DMP-037 -------------------------------------------------------------------------------------------------------
IMAGING_REPORT = "18748-4"  # LOINC, CR d'imagerie médicale
_DICOM = "1.2.840.10008.2.16.4"
_SNOMED = "2.16.840.1.113883.6.96"
_PS3_20 = "urn:dicom-org:ps3-20"
# XDS referenceIdList types (IHE ITI TF-3 4.2.3.2.28; the study instance UID's from IHE RAD XDS-I.b).
_LINKS = (
    ("h:inFulfillmentOf/h:order/h:id", "urn:ihe:iti:xds:2013:order", "l'Order Placer Number de la demande"),
    (f"h:inFulfillmentOf/h:order/{{{_PS3_20}}}accessionNumber", "urn:ihe:iti:xds:2013:accession", "l'Accession Number"),
    ("h:documentationOf/h:serviceEvent/h:id", "urn:ihe:iti:xds:2016:studyInstanceUID", "le Study Instance UID"),
)


@check(
    "dmp.imaging_references",
    requirements=("DMP-037",),
    title="Compte rendu d'imagerie relié dans le DMP à sa demande, son examen, ses modalités et régions (DB/RIS.09)",
    applies_to=("dmp.iti41",),
)
def imaging_references(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """An imaging report fed to the DMP carries, in its XDS metadata, the identifiers its CDA header links it to (order
    placer number, accession number, study instance UID: referenceIdList) and the acquisition modality and anatomic
    region of the documented act (eventCodeList), as the DRIMbox specification asks (REM RIS DB/RIS.08-09)."""
    focus = context.focus
    if focus is None or focus.transaction != "dmp.iti41":
        return [omitted("aucune alimentation ITI-41 dans cette étape", None)]
    feed = read_feed(evidence, focus)
    if not isinstance(feed, Feed):
        return [failed(f"alimentation illisible : {feed}", focus)]
    verdicts = []
    for entry in feed.submission.entries:
        root = _cda(feed.documents.get(entry.id, b""))
        code = root.find("h:code", NS) if root is not None else None
        if code is None or code.get("code") != IMAGING_REPORT:
            continue
        problems = _imaging_link_problems(root, entry)
        if problems:
            verdicts.append(failed("compte rendu d'imagerie : " + " ; ".join(problems), focus))
        else:
            verdicts.append(
                passed("compte rendu d'imagerie relié à sa demande, son examen, sa modalité et sa région", focus)
            )
    return verdicts or [omitted("aucun compte rendu d'imagerie dans cette alimentation", focus)]


def _imaging_link_problems(root: Any, entry: RegistryObject) -> list[str]:
    problems = []
    references = [reference_key(v) for v in entry.slots.get("urn:ihe:iti:xds:2013:referenceIdList", [])]
    for path, kind, label in _LINKS:
        element = root.find(path, NS)
        if element is None or not element.get("root"):
            problems.append(f"l'en-tête CDA ne porte pas {label}")
            continue
        extension = element.get("extension")
        wanted = (extension, element.get("root")) if extension else (element.get("root"), "")
        if not any((value, authority) == wanted and found == kind for value, authority, found in references):
            problems.append(f"referenceIdList sans {label} {wanted[0]} ({kind})")
    events = {(c.code, c.scheme) for c in entry.codes.get("eventCodeList", [])}
    translations = root.findall("h:documentationOf/h:serviceEvent/h:code/h:translation", NS)
    for system, label in ((_DICOM, "modalité d'acquisition"), (_SNOMED, "région anatomique")):
        codes = [t.get("code", "") for t in translations if t.get("codeSystem") == system]
        if not codes:
            problems.append(f"l'acte documenté ne porte pas sa {label} (documentationOf/serviceEvent/code/translation)")
        problems += [f"eventCodeList sans la {label} {c}" for c in codes if (c, system) not in events]
    return problems


# DMP-039 -------------------------------------------------------------------------------------------------------
ORDER_SEARCH = ORDER_SEARCH_VIEW.transaction
_ORDER_TYPE = "urn:ihe:iti:xds:2013:order"


@check(
    "dmp.order_reports_query",
    requirements=("DMP-039",),
    title="Comptes rendus d'une demande d'imagerie cherchés au DMP par son Order Placer Number (DB/RIS.16)",
)
def order_reports_query(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Asked for the imaging reports of an imaging request, the software queries the DMP for the entries holding
    that order placer number (FindDocuments with ``$XDSDocumentEntryReferenceIdList``, type
    ``urn:ihe:iti:xds:2013:order``; IHE ITI TF-2a §3.18.4.1.2.3.7.1), as DB/RIS.16 and DB/DPI.04 ask; fetching the
    patient's whole list to sort it locally is not that query. The assigning authority is the software's own: it is
    reported, not judged."""
    focus = context.focus
    if focus is None or focus.transaction != "dmp.iti18":
        return [omitted("aucune recherche ITI-18 dans cette étape", None)]
    asked = [x for x in evidence.select(channel="candidate", transactions=(ORDER_SEARCH,)) if x.seq < focus.seq]
    order = str((evidence.json(asked[-1], "search") or {}).get("order") or "") if asked else ""
    if not order:
        return [errored("demande d'imagerie recherchée introuvable au journal", focus)]
    try:
        query = read_stored_query(_body(_message(evidence, focus, "request")))
    except (MtomError, UnsafeXmlError, SoapError) as exc:
        return [failed(f"requête illisible : {exc}", focus)]
    sent = query.values("$XDSDocumentEntryReferenceIdList")
    selecting = [(value, authority) for value, authority, kind in map(reference_key, sent) if kind == _ORDER_TYPE]
    authorities = [authority for value, authority in selecting if value == order]
    if not authorities:
        said = ", ".join(sent) if sent else "absent"
        return [
            failed(
                f"l'ITI-18 ne sélectionne pas la demande {order} : $XDSDocumentEntryReferenceIdList {said} (attendu "
                f"{order}^^^&OID&ISO^{_ORDER_TYPE}) ; les comptes rendus d'une demande se retrouvent par une requête "
                "sur les métadonnées du DMP (DB/RIS.16), pas en triant toute la liste du patient",
                focus,
            )
        ]
    return [passed(f"ITI-18 sélectionnant la demande {order} (autorité {authorities[0] or 'non précisée'})", focus)]
