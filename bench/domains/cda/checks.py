"""CDA document checks (CI-SIS: volet structuration minimale; HL7 CDA R2 with the French extensions).

Rules are the bench's own reading of the CI-SIS header, calibrated so that ANS's official example documents pass.
Each failed rule is one finding with the XPath of what is wrong. Value-set membership is checked when a CI-SIS
validation pack is available, and said so when it is not.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import Verdict, check, errored, failed, omitted, passed, skipped
from bench.validation.packs import ValueSet
from bench.validation.schematron import (
    SchematronEngine,
    SchematronUnavailable,
    pick_volet,
    volet_index,
    volets_for_code,
)
from simulators.common.journal import Exchange
from simulators.common.namespaces import HL7
from simulators.common.xmlsafe import UnsafeXmlError
from simulators.insi.ins import INS_OIDS, PRODUCTION_OIDS, TEST_OIDS, matricule_problems

NS = {"h": HL7}
DOCUMENT_PARTS = ("document",)
LOINC = "2.16.840.1.113883.6.1"
ANS_DOCUMENT_CODES = "1.2.250.1.213.1.1.4.12"  # TRE_A05-TypeDocComplementaire (codes such as SYNTH)
TEMPLATE_FR_HEADER = "2.16.840.1.113883.2.8.2.1"  # HL7 France header
TEMPLATE_CISIS = "1.2.250.1.213.1.1.1.1"  # CI-SIS structuration minimale
TYPE_ID = ("2.16.840.1.113883.1.3", "POCD_HD000040")
CONFIDENTIALITY_SYSTEM = "2.16.840.1.113883.5.25"
GENDER_SYSTEM = "2.16.840.1.113883.5.1"
NATIONAL_PS_ID = "1.2.250.1.71.4.2.1"  # RPPS/ADELI national professional identifiers
TYPE_CODE_VALUE_SET = "JDV_J07_XdsTypeCode_CISIS"
# A TS with at least minutes and a time-zone offset (CI-SIS: dates are given with their time zone).
TIMESTAMP_WITH_ZONE = re.compile(r"^\d{12}(\d{2}(\.\d{1,4})?)?[+-]\d{4}$")
DATE = re.compile(r"^\d{8}(\d{4,6}([.]\d{1,4})?)?([+-]\d{3,4})?$")
MAX_PDF_BYTES = 50 * 1024 * 1024


Rule = tuple[str, str]  # (message, XPath of what is wrong)


XSLT = "http://www.w3.org/1999/XSL/Transform"


def embedded_document(root: Any) -> Any | None:
    """The ClinicalDocument an *auto-présentable* document carries, as a tree of its own; None for anything else.

    Such a file is an XSL stylesheet that is also the CDA it presents (ANS's testContenuCDA recognises it by its
    ``xsl:stylesheet`` root and applies it to itself). Assumed, for want of a public example in the CI-SIS pack: the
    ClinicalDocument is carried whole, as literal XML, somewhere inside the stylesheet."""
    if root.tag not in (f"{{{XSLT}}}stylesheet", f"{{{XSLT}}}transform"):
        return None
    found = root.find(f".//{{{HL7}}}ClinicalDocument")
    return copy.deepcopy(found) if found is not None else None


def _document(evidence: Evidence, exchange: Exchange) -> Any:
    """The document to judge: the part itself, or the ClinicalDocument an auto-présentable document embeds."""
    root = evidence.xml(exchange, "document")
    embedded = embedded_document(root)
    return root if embedded is None else embedded


AUTO_PRESENTABLE = (
    "document auto-présentable (feuille de style XSL qui embarque le ClinicalDocument) : le ClinicalDocument embarqué "
    "est jugé"
)


def _clinical_document(evidence: Evidence, context: CheckContext) -> tuple[Any, Exchange] | list[Verdict]:
    """The focus exchange's ClinicalDocument and the exchange, or the verdicts saying why there is none to judge."""
    exchange = context.focus
    if exchange is None or not any(part in exchange.files for part in DOCUMENT_PARTS):
        return [omitted("aucun document CDA dans cette preuve")]
    try:
        root = _document(evidence, exchange)
    except UnsafeXmlError as exc:
        return [failed(f"document illisible : {exc}", exchange.id)]
    if (not_cda := _not_cda(root, exchange)) is not None:
        return not_cda
    return root, exchange


def _cda_check(evidence: Evidence, context: CheckContext, rules: Callable[[Any], list[Rule]]) -> list[Verdict]:
    found = _clinical_document(evidence, context)
    if isinstance(found, list):
        return found
    root, exchange = found
    problems = rules(root)
    if not problems:
        return [passed("règles respectées", exchange.id)]
    return [failed(message, exchange.id, where) for message, where in problems]


def _not_cda(root: Any, exchange: Exchange) -> list[Verdict] | None:
    if root.tag == f"{{{HL7}}}ClinicalDocument":
        return None
    message = f"l'élément racine est {root.tag!r}, pas ClinicalDocument (urn:hl7-org:v3)"
    return [failed(message, exchange.id, "/")]


def _attr(root: Any, path: str, name: str) -> str | None:
    element = root.find(path, NS)
    return element.get(name) if element is not None else None


# --- CDA-001 ---------------------------------------------------------------------------------------------
@check(
    "cda.schema",
    requirements=("CDA-001",),
    title="Document CDA bien formé et valide au schéma CDA R2 (extensions FR)",
    applies_to=("candidate.document",),
)
def schema(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    exchange = context.focus
    if exchange is None or "document" not in exchange.files:
        return [omitted("aucun document CDA dans cette preuve")]
    try:
        root = _document(evidence, exchange)
    except UnsafeXmlError as exc:
        return [failed(f"document mal formé : {exc}", exchange.id)]
    if (not_cda := _not_cda(root, exchange)) is not None:
        return not_cda
    if context.pack is None or not context.pack.has_cda_schema():
        return [
            skipped(
                "bien formé ; validation XSD non faite : aucun paquet de validation CI-SIS (--pack)",
                exchange.id,
            )
        ]
    xsd = context.pack.cda_schema()
    if xsd.validate(root.getroottree()):
        wrapped = f" ; {AUTO_PRESENTABLE}" if _is_wrapped(evidence, exchange) else ""
        return [passed(f"valide au schéma CDA ({context.pack.name}){wrapped}", exchange.id)]
    return [
        failed(f"ligne {error.line} : {error.message}", exchange.id, error.path) for error in list(xsd.error_log)[:50]
    ]


# --- CDA-002 ---------------------------------------------------------------------------------------------
def _type_codes(context: CheckContext) -> ValueSet | None:
    return context.pack.value_set(TYPE_CODE_VALUE_SET) if context.pack is not None else None


def _header_rules(context: CheckContext) -> Callable[[Any], list[Rule]]:
    def rules(root: Any) -> list[Rule]:
        problems: list[Rule] = []
        if _attr(root, "h:realmCode", "code") != "FR":
            problems.append(("realmCode doit valoir FR", "/ClinicalDocument/realmCode"))
        if (_attr(root, "h:typeId", "root"), _attr(root, "h:typeId", "extension")) != TYPE_ID:
            problems.append((f"typeId doit être {TYPE_ID[0]} / {TYPE_ID[1]}", "/ClinicalDocument/typeId"))
        templates = {t.get("root") for t in root.findall("h:templateId", NS)}
        for template, label in ((TEMPLATE_FR_HEADER, "en-tête HL7 France"), (TEMPLATE_CISIS, "CI-SIS")):
            if template not in templates:
                problems.append((f"templateId {template} ({label}) absent", "/ClinicalDocument/templateId"))
        if not _attr(root, "h:id", "root"):
            problems.append(("identifiant unique du document (id/@root) absent", "/ClinicalDocument/id"))
        code, system = _attr(root, "h:code", "code"), _attr(root, "h:code", "codeSystem")
        if not code or system not in (LOINC, ANS_DOCUMENT_CODES):
            problems.append(
                (
                    f"code du document {code!r} ({system!r}) : attendu un code LOINC ({LOINC}) ou ANS "
                    f"({ANS_DOCUMENT_CODES})",
                    "/ClinicalDocument/code",
                )
            )
        elif (value_set := _type_codes(context)) is not None and (code, system) not in value_set:
            message = (
                f"code du document {code} absent du jeu de valeurs {value_set.name} "
                f"({value_set.oid}, révision {value_set.revised})"
            )
            problems.append((message, "/ClinicalDocument/code"))
        title = root.findtext("h:title", default="", namespaces=NS).strip()
        if not title:
            problems.append(("titre du document absent ou vide", "/ClinicalDocument/title"))
        effective = _attr(root, "h:effectiveTime", "value") or ""
        if not TIMESTAMP_WITH_ZONE.match(effective):
            problems.append(
                (
                    f"effectiveTime {effective!r} : date et heure avec fuseau horaire attendues "
                    "(AAAAMMJJhhmm[ss]+hhmm)",
                    "/ClinicalDocument/effectiveTime",
                )
            )
        confidentiality = (
            _attr(root, "h:confidentialityCode", "code"),
            _attr(root, "h:confidentialityCode", "codeSystem"),
        )
        if confidentiality[0] not in ("N", "R", "V") or confidentiality[1] != CONFIDENTIALITY_SYSTEM:
            problems.append(
                (
                    f"confidentialityCode {confidentiality[0]!r} : N, R ou V du système "
                    f"{CONFIDENTIALITY_SYSTEM} attendu",
                    "/ClinicalDocument/confidentialityCode",
                )
            )
        if _attr(root, "h:languageCode", "code") != "fr-FR":
            problems.append(("languageCode doit valoir fr-FR", "/ClinicalDocument/languageCode"))
        if not _attr(root, "h:setId", "root"):
            problems.append(("setId absent : il relie les versions successives du document", "/ClinicalDocument/setId"))
        version = _attr(root, "h:versionNumber", "value") or ""
        if not version.isdigit() or int(version) < 1:
            problems.append((f"versionNumber {version!r} : entier positif attendu", "/ClinicalDocument/versionNumber"))
        return problems

    return rules


@check(
    "cda.header", requirements=("CDA-002",), title="En-tête CDA conforme au CI-SIS", applies_to=("candidate.document",)
)
def header(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _cda_check(evidence, context, _header_rules(context))


# --- CDA-003 ---------------------------------------------------------------------------------------------
def _record_target_rules(root: Any) -> list[Rule]:
    problems: list[Rule] = []
    roles = root.findall("h:recordTarget/h:patientRole", NS)
    base = "/ClinicalDocument/recordTarget/patientRole"
    if len(roles) != 1:
        return [(f"un et un seul recordTarget/patientRole attendu, {len(roles)} trouvé(s)", base)]
    role = roles[0]
    ins_ids = [(i.get("root"), i.get("extension") or "") for i in role.findall("h:id", NS) if i.get("root") in INS_OIDS]
    if len(ins_ids) > 1:
        problems.append(("plusieurs INS dans recordTarget", f"{base}/id"))
    for root_oid, matricule in ins_ids:
        for problem in matricule_problems(matricule):
            problems.append((f"INS {matricule!r} : {problem.message}", f"{base}/id[@root='{root_oid}']"))
    patient = role.find("h:patient", NS)
    if patient is None:
        return [*problems, ("patient absent de patientRole", f"{base}/patient")]
    if not (patient.findtext("h:name/h:family[@qualifier='BR']", default="", namespaces=NS) or "").strip():
        problems.append(('nom de naissance (family qualifier="BR") absent', f"{base}/patient/name/family"))
    if not any((g.text or "").strip() for g in patient.findall("h:name/h:given", NS)):
        problems.append(("prénom(s) de naissance (given) absent(s)", f"{base}/patient/name/given"))
    gender = patient.find("h:administrativeGenderCode", NS)
    if gender is None or gender.get("code") not in ("M", "F", "U") or gender.get("codeSystem") != GENDER_SYSTEM:
        problems.append(
            (
                f"administrativeGenderCode : M, F ou U du système {GENDER_SYSTEM} attendu",
                f"{base}/patient/administrativeGenderCode",
            )
        )
    birth = _attr(patient, "h:birthTime", "value") or ""
    if not re.match(r"^\d{8}", birth):
        problems.append((f"birthTime {birth!r} : date de naissance AAAAMMJJ attendue", f"{base}/patient/birthTime"))
    return problems


@check(
    "cda.record_target",
    requirements=("CDA-003",),
    title="Patient (recordTarget) : INS bien formée et traits",
    applies_to=("candidate.document",),
)
def record_target(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    findings = _cda_check(
        evidence, context, lambda root: _record_target_rules(root) + _environment_rules(root, context)
    )
    if [f.outcome for f in findings] == ["pass"] and context.focus is not None:
        root = _document(evidence, context.focus)
        ids = root.findall("h:recordTarget/h:patientRole/h:id", NS)
        if not any(i.get("root") in INS_OIDS for i in ids):
            # Legitimate for a patient whose identity is not qualified (INS-005): nothing to judge here.
            return [
                skipped(
                    "recordTarget sans INS : la qualification de l'identité n'est pas connue hors campagne",
                    context.focus.id,
                )
            ]
    return findings


def _environment_rules(root: Any, context: CheckContext) -> list[Rule]:
    """An INS OID of the other environment (a production OID on a test document, a test OID in a production capture).
    Judged on a document alone (``check``, field captures) only: in a campaign INS-006 judges the OID against what
    INSi itself returned for that identity, which is never a fault (the qualification platform returns production
    OIDs for its test identities)."""
    if not context.alone:
        return []
    base = "/ClinicalDocument/recordTarget/patientRole/id"
    problems: list[Rule] = []
    for element in root.findall("h:recordTarget/h:patientRole/h:id", NS):
        oid = element.get("root")
        if context.test_mode and oid in PRODUCTION_OIDS:
            problems.append(
                (
                    f"INS sous l'OID de production {oid} dans un environnement de test (--environment production "
                    "pour juger une capture de production)",
                    f"{base}[@root='{oid}']",
                )
            )
        elif not context.test_mode and oid in TEST_OIDS:
            problems.append(
                (f"INS sous l'OID de test {oid} dans un environnement de production", f"{base}[@root='{oid}']")
            )
    return problems


# --- CDA-004 ---------------------------------------------------------------------------------------------
# The national identifier of a person (idNatPS): its type (TRE_G08-TypeIdentifiantPersonne) followed by the id, in
# the forms ANS's MOS defines for Professionnel.idNatPS (source: ANS, Modèle des objets de santé, and the CI-SIS
# "identification des acteurs"); 10 + an MSSanté address exists only for secure messaging.
PS_NATIONAL_ID_FORMS = (
    (re.compile(r"0\d{9}"), "0 + ADELI"),
    (re.compile(r"1\d{11}/\S+"), "1 + ADELI-rang du cabinet / identifiant interne"),
    (re.compile(r"3\d[0-9AB]\d{7}/\S+"), "3 + FINESS / identifiant interne"),
    (re.compile(r"4\d{9}/\S+"), "4 + SIREN / identifiant interne"),
    (re.compile(r"5\d{14}/\S+"), "5 + SIRET / identifiant interne"),
    (re.compile(r"6\d{14}/\S+"), "6 + RPPS-rang du cabinet / identifiant interne"),
    (re.compile(r"8\d{11}"), "8 + RPPS"),
)


def national_ps_id_problem(value: str) -> str | None:
    """Why ``value`` is not an idNatPS of a form a CDA author may carry, or None."""
    if any(pattern.fullmatch(value) for pattern, _label in PS_NATIONAL_ID_FORMS):
        return None
    if value.startswith("10") and "@" in value:
        return f"identifiant national {value!r} : la forme 10 + adresse MSSanté est réservée à la messagerie sécurisée"
    forms = ", ".join(label for _pattern, label in PS_NATIONAL_ID_FORMS)
    return f"identifiant national {value!r} : formes attendues (idNatPS) : {forms}"


def _actor_rules(root: Any) -> list[Rule]:
    problems: list[Rule] = []
    authors = root.findall("h:author", NS)
    if not authors:
        problems.append(("aucun auteur (author)", "/ClinicalDocument/author"))
    for index, author in enumerate(authors, start=1):
        where = f"/ClinicalDocument/author[{index}]"
        if not TIMESTAMP_WITH_ZONE.match(_attr(author, "h:time", "value") or ""):
            problems.append(("author/time : date et heure avec fuseau horaire attendues", f"{where}/time"))
        assigned = author.find("h:assignedAuthor", NS)
        if assigned is None:
            problems.append(("assignedAuthor absent", f"{where}/assignedAuthor"))
            continue
        ids = [(i.get("root"), i.get("extension") or "") for i in assigned.findall("h:id", NS)]
        if assigned.find("h:assignedAuthoringDevice", NS) is not None:
            # A software author is identified by its organisation's or its own id, not a national PS id: still one.
            if not any(root_oid for root_oid, _ext in ids):
                problems.append(
                    ("auteur logiciel (assignedAuthoringDevice) sans identifiant (id)", f"{where}/assignedAuthor/id")
                )
            continue
        national = [ext for root_oid, ext in ids if root_oid == NATIONAL_PS_ID]
        if not national:
            problems.append(
                (
                    f"auteur sans identifiant national de professionnel (id/@root={NATIONAL_PS_ID}, idNatPS)",
                    f"{where}/assignedAuthor/id",
                )
            )
        elif (problem := national_ps_id_problem(national[0])) is not None:
            problems.append((problem, f"{where}/assignedAuthor/id"))
    custodian = root.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id", NS)
    if custodian is None or not custodian.get("root"):
        problems.append(
            (
                "organisation gardienne (custodian) sans identifiant",
                "/ClinicalDocument/custodian/assignedCustodian/representedCustodianOrganization/id",
            )
        )
    legal = root.find("h:legalAuthenticator", NS)
    if legal is None:
        problems.append(("responsable du document (legalAuthenticator) absent", "/ClinicalDocument/legalAuthenticator"))
    else:
        if not DATE.match(_attr(legal, "h:time", "value") or ""):
            problems.append(
                ("legalAuthenticator/time absent ou illisible", "/ClinicalDocument/legalAuthenticator/time")
            )
        if _attr(legal, "h:signatureCode", "code") != "S":
            problems.append(
                ("legalAuthenticator/signatureCode doit valoir S", "/ClinicalDocument/legalAuthenticator/signatureCode")
            )
        entity_id = legal.find("h:assignedEntity/h:id", NS)
        if entity_id is None or not entity_id.get("root"):
            problems.append(
                ("legalAuthenticator sans identifiant", "/ClinicalDocument/legalAuthenticator/assignedEntity/id")
            )
    return problems


@check(
    "cda.actors",
    requirements=("CDA-004",),
    title="Auteur, gardien et responsable identifiés",
    applies_to=("candidate.document",),
)
def actors(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _cda_check(evidence, context, _actor_rules)


# --- CDA-005 ---------------------------------------------------------------------------------------------
def _body_rules(root: Any) -> list[Rule]:
    component = root.find("h:component", NS)
    if component is None:
        return [("corps du document (component) absent", "/ClinicalDocument/component")]
    non_xml = component.find("h:nonXMLBody/h:text", NS)
    if non_xml is not None:
        return _non_xml_rules(non_xml)
    structured = component.find("h:structuredBody", NS)
    if structured is None:
        return [("ni nonXMLBody ni structuredBody", "/ClinicalDocument/component")]
    sections = structured.findall("h:component/h:section", NS)
    if not sections:
        return [("structuredBody sans section", "/ClinicalDocument/component/structuredBody/component")]
    problems: list[Rule] = []
    for index, section in enumerate(sections, start=1):
        where = f"/ClinicalDocument/component/structuredBody/component[{index}]/section"
        if section.find("h:code", NS) is None and section.find("h:templateId", NS) is None:
            problems.append(("section sans code ni templateId", where))
    return problems


def _non_xml_rules(text: Any) -> list[Rule]:
    where = "/ClinicalDocument/component/nonXMLBody/text"
    media_type, representation = text.get("mediaType"), text.get("representation")
    if representation != "B64":
        return [(f"nonXMLBody/text representation={representation!r} : B64 attendu", where)]
    payload = "".join((text.text or "").split())
    if len(payload) > MAX_PDF_BYTES * 4 // 3 + 4:
        return [(f"contenu embarqué au-delà de {MAX_PDF_BYTES // (1024 * 1024)} Mo", where)]
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        return [(f"contenu base64 invalide : {exc}", where)]
    if not data:
        return [("contenu embarqué vide", where)]
    if media_type == "application/pdf":
        if not data.startswith(b"%PDF-"):
            return [("le contenu déclaré application/pdf n'est pas un PDF (signature %PDF- absente)", where)]
        if b"%%EOF" not in data[-2048:]:
            return [("PDF tronqué : marqueur de fin %%EOF absent", where)]
        try:
            from pypdf import PdfReader  # imported when a PDF is met: it costs start-up to every ``check``

            pages = len(PdfReader(io.BytesIO(data), strict=False).pages)
        except Exception as exc:  # pypdf raises many types on broken files; all mean "not a readable PDF"
            return [(f"PDF illisible : {type(exc).__name__}: {exc}", where)]
        if pages < 1:
            return [("PDF sans page", where)]
    elif media_type not in ("text/plain", "text/rtf", "image/jpeg", "image/tiff"):
        return [(f"mediaType {media_type!r} non prévu par le CI-SIS pour un corps non structuré", where)]
    return []


@check(
    "cda.body",
    requirements=("CDA-005",),
    title="Corps structuré du volet ou PDF embarqué valide",
    applies_to=("candidate.document",),
)
def body(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _cda_check(evidence, context, _body_rules)


# --- CDA-009 ---------------------------------------------------------------------------------------------
PRESCRIPTION = "57833-6"  # LOINC, Prescription de produits de santé (JDV_J07)
EP_MED_DM = "1.2.250.1.213.1.1.1.39"  # CI-SIS volet eP-MED-DM
PRESCRIBED_MEDICINE = "1.2.250.1.213.1.1.3.83"  # its entry FR-Traitement-prescrit


@check(
    "cda.prescription_n3",
    requirements=("CDA-009",),
    title="Prescription de produits de santé structurée en N3 selon le volet eP-MED-DM",
    applies_to=("candidate.document",),
)
def prescription_n3(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A prescription of health products is a CDA R2 level 3 per eP-MED-DM: the volet's templateId, and each medicine
    as a structured entry (FR-Traitement-prescrit) in a structured body, not a PDF a pharmacist's software cannot read
    (LGC.PRESC.02). Its conformity to the volet's schematron is CDA-006's."""
    found = _clinical_document(evidence, context)
    if isinstance(found, list):
        return found
    root, exchange = found
    if _attr(root, "h:code", "code") != PRESCRIPTION:
        return [omitted("pas une prescription de produits de santé", exchange.id)]
    problems = []
    if root.find(f"h:templateId[@root='{EP_MED_DM}']", NS) is None:
        problems.append(f"templateId {EP_MED_DM} (eP-MED-DM) absent")
    medicines = root.findall(
        f".//h:structuredBody//h:substanceAdministration/h:templateId[@root='{PRESCRIBED_MEDICINE}']", NS
    )
    if not medicines:
        problems.append(
            f"aucun médicament en entrée structurée ({PRESCRIBED_MEDICINE}) : la prescription n'est pas en N3"
        )
    if problems:
        return [failed("prescription : " + " ; ".join(problems) + " (volet eP-MED-DM, LGC.PRESC.02)", exchange.id, "/")]
    return [passed(f"prescription en N3 eP-MED-DM : {len(medicines)} médicament(s) structuré(s)", exchange.id)]


# --- CDA-006 ---------------------------------------------------------------------------------------------
@check("cda.schematron", requirements=("CDA-006",), title="Schématron officiel du volet (paquet CI-SIS)")
def schematron(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    exchange = context.focus
    if exchange is None or "document" not in exchange.files:
        return [omitted("aucun document CDA dans cette preuve")]
    try:
        root = _document(evidence, exchange)
    except UnsafeXmlError as exc:
        return [failed(f"document illisible : {exc}", exchange.id)]
    if (not_cda := _not_cda(root, exchange)) is not None:
        return not_cda
    folder = context.pack.schematron_dir() if context.pack else None
    if folder is None:
        return [
            skipped(
                "schématron non exécuté : aucun paquet de validation CI-SIS avec schématrons (--pack)",
                exchange.id,
            )
        ]
    index = volet_index(str(folder))
    if context.schematron:
        volet = next((v for v in index if v.name == context.schematron), None)
        if volet is None:
            return [
                errored(
                    f"schématron {context.schematron!r} absent du paquet {folder}",
                    exchange.id,
                )
            ]
    else:
        template_ids = {t.get("root") for t in root.findall("h:templateId", NS)}
        volet = pick_volet(index, template_ids)
    if volet is None:
        suggestions = volets_for_code(index, _attr(root, "h:code", "code"))
        hint = (
            f" ; par son code, il pourrait relever de : {', '.join(suggestions)} (--schematron)" if suggestions else ""
        )
        message = f"aucun schématron de volet ne correspond aux templateId du document{hint}"
        return [skipped(message, exchange.id)]
    try:
        if _is_wrapped(evidence, exchange):
            assertions = _schematron_on_tree(volet.path, root)
        else:
            document = evidence.path(exchange, "document")
            assert document is not None  # checked above: the exchange has a document part
            assertions = SchematronEngine.shared().validate(volet.path, document)
    except SchematronUnavailable as exc:
        return [errored(str(exc), exchange.id)]
    failures = [a for a in assertions if a.blocking]
    if not failures:
        warnings = len(assertions)
        note = f" ({warnings} avertissement(s))" if warnings else ""
        return [passed(f"schématron {volet.name} respecté{note}", exchange.id)]
    return [
        failed(
            f"{volet.name} [{a.id or a.pattern or '?'}] {a.message}",
            exchange.id,
            a.location,
        )
        for a in failures
    ]


def _is_wrapped(evidence: Evidence, exchange: Exchange) -> bool:
    return embedded_document(evidence.xml(exchange, "document")) is not None


def _schematron_on_tree(schematron_path: Any, root: Any) -> list[Any]:
    """The schematron on a document that is not a file of its own (the ClinicalDocument of an auto-présentable one)."""
    with tempfile.TemporaryDirectory(prefix="segur-bench-cda-") as folder:
        document = Path(folder) / "embedded.xml"
        document.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        return SchematronEngine.shared().validate(schematron_path, document)


CDA_CHECKS = ("cda.schema", "cda.header", "cda.record_target", "cda.actors", "cda.body", "cda.schematron")


# CDA-008 -------------------------------------------------------------------------------------------------------
@check(
    "cda.recipients_named",
    requirements=("CDA-008",),
    title="Chaque destinataire nommé dans le document (informationRecipient)",
)
def recipients_named(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """A document written to correspondents names each of them in its header (CDA R2 ``informationRecipient``), here
    by the MSSanté address the bench gave (``intendedRecipient/telecom`` ``mailto:``), as LGC.DOC.02 asks."""
    from bench.actions.core import DOCUMENT_REQUEST

    exchange = context.focus
    asked = [
        x
        for x in evidence.select(channel="candidate", transactions=(DOCUMENT_REQUEST,))
        if exchange and x.seq < exchange.seq
    ]
    recipients = [str(r) for r in (evidence.json(asked[-1], "request") or {}).get("recipients") or []] if asked else []
    if not recipients:
        return [omitted("aucun destinataire demandé pour ce document", exchange.id if exchange else None)]

    def unnamed(root: Any) -> list[Rule]:
        named = {
            (telecom.get("value") or "").removeprefix("mailto:").strip().lower()
            for telecom in root.iterfind("h:informationRecipient/h:intendedRecipient/h:telecom", NS)
        }
        missing = [r for r in recipients if r.lower() not in named]
        if not missing:
            return []
        return [(f"destinataire(s) non nommé(s) dans le document : {', '.join(missing)}", "/ClinicalDocument")]

    return _cda_check(evidence, context, unnamed)
