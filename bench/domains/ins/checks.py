"""INS checks (Référentiel INS; RNIV; ANS FAQ on INS/va1.53): matricule form, fidelity of the strict traits to
what INSi answered, and the identity-status rules that govern qualification and sharing."""

from __future__ import annotations

from typing import Any

from bench.actions.core import DOCUMENT, RECORD
from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import Verdict, check, errored, failed, omitted, passed, skipped
from simulators.common.journal import Exchange
from simulators.common.namespaces import HL7
from simulators.common.xmlsafe import UnsafeXmlError
from simulators.insi.ins import (
    INS_OIDS,
    OID_NIR,
    OID_TEST_NIA,
    OID_TEST_NIR,
    PRODUCTION_OIDS,
    TEST_OIDS,
    matricule_problems,
    traits_key,
)
from simulators.insi.messages import InsiIdentity, read_result, request_from_envelope

NS = {"h": HL7}
INSI_CALLS = ("insi.search_traits", "insi.search_vitale")
SHARED_STATUSES = ("recuperee", "qualifiee")
STATUS_LABELS = {"provisoire": "provisoire", "recuperee": "récupérée", "validee": "validée", "qualifiee": "qualifiée"}


def _focus(context: CheckContext, *transactions: str) -> Exchange | None:
    if context.focus is not None and context.focus.transaction in transactions:
        return context.focus
    return None


def _patient_keys(context: CheckContext) -> frozenset[str] | None:
    return context.patient.keys if context.patient else None


def _insi_answers(evidence: Evidence, context: CheckContext, before_seq: int) -> list[tuple[Exchange, Any]]:
    """INSi calls about the patient before ``before_seq``, with their parsed results (None when unreadable)."""
    answers = []
    for exchange in evidence.select(
        channel="insi", transactions=INSI_CALLS, keys=_patient_keys(context), before_seq=before_seq
    ):
        response = evidence.part(exchange, "response")
        try:
            answers.append((exchange, read_result(response) if response else None))
        except UnsafeXmlError:
            answers.append((exchange, None))
    return answers


def _record(evidence: Evidence, exchange: Exchange) -> dict[str, Any]:
    data = evidence.json(exchange, "record")
    return data if isinstance(data, dict) else {}


def _document_patient(evidence: Evidence, exchange: Exchange) -> dict[str, Any] | None:
    """The recordTarget of a produced CDA document, as plain values with the XPath each came from."""
    if "document" not in exchange.files:
        return None
    root = evidence.xml(exchange, "document")
    role = root.find("h:recordTarget/h:patientRole", NS)
    if role is None:
        return {"ids": [], "missing": True}
    patient = role.find("h:patient", NS)

    def value(path: str, attr: str | None = None) -> str | None:
        if patient is None:
            return None
        element = patient.find(path, NS)
        if element is None:
            return None
        return element.get(attr) if attr else (element.text or "").strip()

    return {
        "ids": [(el.get("root"), el.get("extension")) for el in role.findall("h:id", NS)],
        "birth_name": value("h:name/h:family[@qualifier='BR']"),
        "first_names": _given_without_qualifier(patient) if patient is not None else None,
        "first_name": value("h:name/h:given[@qualifier='BR']"),
        "sex": value("h:administrativeGenderCode", "code"),
        "birth_date": value("h:birthTime", "value"),
        "birth_place": value("h:birthplace/h:place/h:addr/h:county"),
    }


def _given_without_qualifier(root: Any) -> str | None:
    for given in root.findall("h:name/h:given", NS):
        if given.get("qualifier") is None:
            return str(given.text or "").strip()
    return None


# --- INS-006 ---------------------------------------------------------------------------------------------
def _emitted_ins(evidence: Evidence, exchange: Exchange) -> list[tuple[str, str | None, str]]:
    """(matricule, OID, pointer) for every INS the candidate put in ``exchange``."""
    if exchange.transaction == RECORD:
        record = _record(evidence, exchange)
        if record.get("ins_matricule"):
            return [(record["ins_matricule"], record.get("ins_oid"), "dossier patient : INS enregistrée")]
        return []
    if exchange.transaction == DOCUMENT:
        patient = _document_patient(evidence, exchange) or {"ids": []}
        return [
            (ext or "", root, f"recordTarget/patientRole/id[@root='{root}']")
            for root, ext in patient["ids"]
            if root in INS_OIDS or (root or "").startswith("1.2.250.1.213.1.4.")
        ]
    return []


def _returned_oids(evidence: Evidence, context: CheckContext, before_seq: int) -> dict[str, set[str]]:
    """The OIDs INSi returned with each matricule for the patient, before ``before_seq``."""
    returned: dict[str, set[str]] = {}
    for _exchange, result in _insi_answers(evidence, context, before_seq):
        if result is not None and result.cr == "00" and result.identity is not None:
            returned.setdefault(result.identity.matricule.upper(), set()).add(result.identity.oid)
    return returned


@check(
    "ins.matricule_format",
    requirements=("INS-006",),
    title="Matricule INS bien formé, OID connu, OID de test en test",
    applies_to=("candidate.document",),
)
def matricule_format(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    targets = [context.focus] if context.focus else evidence.select(channel="candidate", keys=_patient_keys(context))
    findings = []
    for exchange in targets:
        try:
            emitted = _emitted_ins(evidence, exchange)
        except UnsafeXmlError as exc:
            message = f"document illisible, l'INS qu'il porte ne peut être contrôlée : {exc}"
            findings.append(failed(message, exchange))
            continue
        returned = _returned_oids(evidence, context, exchange.seq)
        for matricule, oid, pointer in emitted:
            problems = [p.message for p in matricule_problems(matricule)]
            said = returned.get(matricule.upper())
            if oid not in INS_OIDS:
                problems.append(f"OID {oid!r} inconnu : attendu un OID d'autorité d'affectation INS (NIR ou NIA)")
            elif said is not None:
                # INSi's answer is the reference: the qualification platform returns production OIDs for its test
                # identities, and the software must keep and emit exactly what INSi returned.
                if oid not in said:
                    problems.append(f"OID {oid} différent de celui qu'INSi a renvoyé ({', '.join(sorted(said))})")
            elif context.test_mode and oid in PRODUCTION_OIDS:
                expected = OID_TEST_NIR if oid == OID_NIR else OID_TEST_NIA
                problems.append(f"OID de production {oid} émis avec des données de test : attendu {expected}")
            elif not context.test_mode and oid in TEST_OIDS:
                problems.append(f"OID de test {oid} émis en production")
            if problems:
                message = f"INS {matricule!r} ({pointer}) : " + " ; ".join(problems)
                findings.append(failed(message, exchange, pointer))
            else:
                findings.append(
                    passed(
                        f"INS bien formée ({pointer}), OID {oid}",
                        exchange,
                        pointer,
                    )
                )
    if not findings:
        return [omitted("aucune INS émise dans cette preuve", context.focus)]
    return findings


# --- INS-003 ---------------------------------------------------------------------------------------------
_TRAIT_LABELS = {
    "birth_name": "nom de naissance",
    "first_name": "premier prénom de naissance",
    "first_names": "liste des prénoms de naissance",
    "sex": "sexe",
    "birth_date": "date de naissance",
    "birth_place": "lieu de naissance (COG)",
    "matricule": "matricule INS",
}


def _expected_traits(identity: InsiIdentity, *, cda: bool) -> dict[str, str]:
    return {
        "birth_name": identity.birth_name,
        "first_name": identity.first_name,
        "first_names": identity.first_names,
        "sex": identity.sex,
        "birth_date": identity.birth_date.replace("-", "") if cda else identity.birth_date,
        "birth_place": identity.birth_place,
        "matricule": identity.matricule,
    }


@check(
    "ins.traits_fidelity", requirements=("INS-003",), title="Traits stricts et INS conservés tels que renvoyés par INSi"
)
def traits_fidelity(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    exchange = _focus(context, RECORD, DOCUMENT)
    if exchange is None:
        return [omitted("ni dossier ni document à comparer", context.focus)]
    identity = None
    for _call, result in reversed(_insi_answers(evidence, context, exchange.seq)):
        if result is not None and result.cr == "00" and result.identity is not None:
            identity = result.identity
            break
    if identity is None:
        return [
            skipped(
                "aucune réponse INSi 00 pour ce patient : pas de référence à comparer",
                exchange,
            )
        ]
    is_document = exchange.transaction == DOCUMENT
    expected = _expected_traits(identity, cda=is_document)
    if is_document:
        try:
            patient = _document_patient(evidence, exchange)
        except UnsafeXmlError as exc:
            return [failed(f"document illisible : {exc}", exchange)]
        if patient is None or patient.get("missing"):
            return [
                failed(
                    "document sans recordTarget/patientRole",
                    exchange,
                    "recordTarget",
                )
            ]
        ins_ids = [ext for root, ext in patient["ids"] if root in INS_OIDS]
        actual = {key: patient.get(key) for key in expected if key != "matricule"}
        if ins_ids:
            actual["matricule"] = ins_ids[0]
        else:
            expected.pop("matricule")
        where = "recordTarget/patientRole"
    else:
        record = _record(evidence, exchange)
        actual = {key: record.get(key) for key in expected if key != "matricule"}
        if record.get("ins_matricule"):
            actual["matricule"] = record["ins_matricule"]
        else:
            expected.pop("matricule")
        where = "dossier patient"
    differences = [
        f"{_TRAIT_LABELS[key]} : INSi a renvoyé {value!r}, le candidat a {actual.get(key)!r}"
        for key, value in expected.items()
        if actual.get(key) != value
    ]
    if differences:
        message = f"{where} : traits différents de la réponse INSi — " + " ; ".join(differences)
        return [failed(message, exchange, where)]
    return [
        passed(
            f"{where} : traits et INS identiques à la réponse INSi",
            exchange,
            where,
        )
    ]


# --- INS-001 ---------------------------------------------------------------------------------------------
@check(
    "ins.qualification_after_insi",
    requirements=("INS-001",),
    title="Identité récupérée ou qualifiée seulement après un appel INSi (et une pièce d'identité pour qualifier)",
)
def qualification_after_insi(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    insi_call = _focus(context, *INSI_CALLS)
    if insi_call is not None:
        return [
            passed(
                f"appel INSi reçu ({insi_call.transaction}, {insi_call.outcome})",
                insi_call,
            )
        ]
    exchange = _focus(context, RECORD)
    if exchange is None:
        return [omitted("aucun dossier à juger", context.focus)]
    record = _record(evidence, exchange)
    status = record.get("status")
    if status not in SHARED_STATUSES:
        return [
            omitted(
                f"identité au statut « {STATUS_LABELS.get(str(status), status)} » : rien à qualifier",
                exchange,
            )
        ]
    calls = _insi_answers(evidence, context, exchange.seq)
    if not calls:
        return [
            failed(
                f"identité au statut « {STATUS_LABELS[status]} » sans aucun appel INSi préalable pour ce "
                "patient : l'INS doit être recherchée via le téléservice INSi",
                exchange,
                "status",
            )
        ]
    if status == "qualifiee" and not record.get("identity_document_checked"):
        return [
            failed(
                "identité « qualifiée » sans contrôle d'une pièce d'identité à haut niveau de confiance (RNIV)",
                exchange,
                "status",
            )
        ]
    return [
        passed(
            f"statut « {STATUS_LABELS[status]} » précédé de {len(calls)} appel(s) INSi",
            exchange,
            "status",
        )
    ]


# --- INS-002 ---------------------------------------------------------------------------------------------
# INSi has no verification operation (CNAM WSDL DESIR_ICIR_EXP_1.5.0: two searches). Verifying a held INS is a
# search on the traits of the identity it belongs to; the software then keeps the INS only if INSi answered it.
@check("ins.verify_request", requirements=("INS-002",), title="Vérification INSi de l'INS détenue, sur ses traits")
def verify_request(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    exchange = _focus(context, "insi.search_traits")
    if exchange is None:
        return [omitted("aucune recherche INSi de vérification à juger", context.focus)]
    raw = evidence.part(exchange, "request") or b""
    try:
        request = request_from_envelope(raw, max_bytes=len(raw) + 1)
    except ValueError as exc:
        return [failed(f"recherche de vérification illisible : {exc}", exchange)]
    missing = [
        label
        for label, value in (
            ("NomNaissance", request.birth_name),
            ("Prenom", request.first_names[0] if request.first_names else None),
            ("Sexe", request.sex),
            ("DateNaissance", request.birth_date),
        )
        if not value
    ]
    if missing:
        return [failed("recherche de vérification incomplète : " + ", ".join(missing) + " absent(s)", exchange)]
    keys = _patient_keys(context) or frozenset()
    if traits_key(request.birth_name or "", request.birth_date or "") not in keys:
        message = "la recherche ne porte pas sur les traits de l'identité détenue pour ce patient"
        return [failed(message, exchange)]
    message = f"vérification par recherche INSi sur les traits de l'identité détenue ({exchange.outcome})"
    return [passed(message, exchange)]


@check("ins.verify_decision", requirements=("INS-002",), title="Décision cohérente avec la réponse d'INSi")
def verify_decision(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    record_exchange = _focus(context, RECORD)
    if record_exchange is None:
        return [omitted("aucun dossier à juger", context.focus)]
    searches = _insi_answers(evidence, context, record_exchange.seq)
    searches = [(x, r) for x, r in searches if x.transaction == "insi.search_traits"]
    if not searches:
        return [failed("aucune recherche INSi avant la lecture du dossier : l'INS détenue n'a pas été vérifiée", None)]
    exchange, result = searches[-1]
    record = _record(evidence, record_exchange)
    kept = record.get("ins_matricule")
    answered = result.identity.matricule if result is not None and result.cr == "00" and result.identity else None
    if answered is None and kept:
        message = (
            f"INSi n'a pas confirmé l'INS détenue ({exchange.outcome}) et le dossier la garde : une INS non confirmée "
            "ne doit plus être utilisée (identité à rétrograder)"
        )
        return [failed(message, record_exchange, "ins_matricule")]
    if answered is not None and kept and kept != answered:
        message = f"INSi a répondu l'INS {answered} et le dossier garde {kept} : l'INS détenue n'est pas celle d'INSi"
        return [failed(message, record_exchange, "ins_matricule")]
    said = "INS confirmée et gardée" if kept else "INS non confirmée, retirée du dossier"
    return [passed(f"{said} ({exchange.outcome})", record_exchange, "ins_matricule")]


# --- INS-004 and INS-007 ---------------------------------------------------------------------------------
def _no_qualification(evidence: Evidence, context: CheckContext, *, faults: bool) -> list[Verdict]:
    exchange = _focus(context, RECORD)
    if exchange is None:
        return [omitted("aucun dossier à juger", context.focus)]
    calls = _insi_answers(evidence, context, exchange.seq)

    def is_fault(call: Exchange, result: Any) -> bool:
        return result is None or result.cr is None or (call.outcome or "").startswith("fault:")

    relevant = (
        [c for c, r in calls if is_fault(c, r)] if faults else [c for c, r in calls if r and r.cr in ("01", "02")]
    )
    if not calls or any(r is not None and r.cr == "00" for _c, r in calls) or len(relevant) != len(calls):
        return [omitted("cas non applicable à ce patient", exchange)]
    record = _record(evidence, exchange)
    status = record.get("status")
    outcomes = ", ".join(sorted({c.outcome or "?" for c in relevant}))
    if status in SHARED_STATUSES or record.get("ins_matricule"):
        label = STATUS_LABELS.get(str(status), status)
        message = (
            f"après {outcomes}, l'identité est « {label} »"
            + (f" avec l'INS {record.get('ins_matricule')}" if record.get("ins_matricule") else "")
            + " : aucune INS ne doit être retenue ni l'identité qualifiée"
        )
        return [failed(message, exchange, "status")]
    return [
        passed(
            f"après {outcomes}, identité laissée « {STATUS_LABELS.get(str(status), status)} », sans INS",
            exchange,
            "status",
        )
    ]


@check(
    "ins.no_qualification_on_01_02",
    requirements=("INS-004",),
    title="Aucune qualification ni INS sur un retour INSi 01 ou 02",
)
def no_qualification_on_01_02(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _no_qualification(evidence, context, faults=False)


@check(
    "ins.no_qualification_on_fault",
    requirements=("INS-007",),
    title="Aucune qualification ni INS sur une faute ou une indisponibilité INSi",
)
def no_qualification_on_fault(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    return _no_qualification(evidence, context, faults=True)


# --- INS-005 ---------------------------------------------------------------------------------------------
@check(
    "ins.shared_only_when_qualified",
    requirements=("INS-005",),
    title="L'INS n'est transmise que pour une identité qualifiée (INS/va1.53)",
)
def shared_only_when_qualified(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    exchange = _focus(context, DOCUMENT)
    if exchange is None:
        return [omitted("aucun document à juger", context.focus)]
    try:
        patient = _document_patient(evidence, exchange)
    except UnsafeXmlError as exc:
        return [
            failed(
                f"document illisible, l'absence d'INS ne peut être établie : {exc}",
                exchange,
            )
        ]
    records = evidence.select(channel="candidate", transactions=(RECORD,), keys=_patient_keys(context))
    after = [r for r in records if r.seq > exchange.seq]
    snapshot = after[0] if after else (records[-1] if records else None)
    if snapshot is None:
        return [
            errored(
                "statut d'identité inconnu au moment du document (dossier non lu)",
                exchange,
            )
        ]
    status = _record(evidence, snapshot).get("status")
    ins_ids = [(root, ext) for root, ext in (patient or {"ids": []})["ids"] if root in INS_OIDS]
    if ins_ids and status != "qualifiee":
        root, ext = ins_ids[0]
        return [
            failed(
                f"le document transmet l'INS {ext} (OID {root}) alors que l'identité est "
                f"« {STATUS_LABELS.get(str(status), status)} » : seule une identité qualifiée peut être "
                "référencée par son INS",
                exchange,
                f"recordTarget/patientRole/id[@root='{root}']",
            )
        ]
    shown = "avec" if ins_ids else "sans"
    return [
        passed(
            f"document {shown} INS pour une identité « {STATUS_LABELS.get(str(status), status)} »",
            exchange,
        )
    ]


# GEN-003 -------------------------------------------------------------------------------------------------------
@check("ins.dashboard_calls", requirements=("GEN-003",), title="Tableau de bord : les appels au téléservice INSi")
def dashboard_calls(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The dashboard counts every call that reached INSi, whatever INSi answered."""
    from bench.checks.dashboard import judge_counter

    calls = evidence.select(transactions=(*INSI_CALLS, "insi.invalid"))  # a malformed call reached INSi too
    return judge_counter(evidence, "insi_calls", "appel(s) INSi", calls)
