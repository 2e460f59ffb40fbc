"""The DMP's answers to each transaction, given the parsed request, the verified VIHF and the registry.

Each function returns the SOAP body to answer, the attachments (ITI-43) and what the journal should note. Business
rules: a transaction is about the VIHF's patient only; the patient's DMP state (absent, closed, opposition, not
authorised) refuses feeds and consultations; a document masked to professionals (MASQUE_PS) is seen only by the
professional who fed it; RPLC deprecates the replaced entry (IHE ITI TF-3 §4.2.2.2.1).
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from simulators.common.mtom import MtomError, MtomMessage
from simulators.common.xmlsafe import parse_xml
from simulators.dmp.cx import cx_key, parse_cx, reference_key
from simulators.dmp.habilitations import (
    ALREADY_PRESENT,
    OK,
    REFUSALS,
    read_set_authorization,
    set_authorization_response,
)
from simulators.dmp.messages import (
    STATE_ERRORS,
    RegistryError,
    RetrievedDocument,
    StoredQuery,
    object_ref,
    query_response,
    read_stored_query,
    registry_response,
    retrieve_requests,
    submit_request,
)
from simulators.dmp.patients import AccessTestAnswer, access_test_response, read_access_test
from simulators.dmp.registry import DmpRegistry, StoredEntry
from simulators.dmp.vihf import Vihf
from simulators.dmp.xds import (
    FIND_DOCUMENTS,
    GET_DOCUMENTS,
    REPLACE,
    RIM,
    SCHEMES,
    SIGNS,
    STATUS_APPROVED,
    STATUS_DEPRECATED,
    XDSB,
    read_entry,
    read_submission,
)

REPOSITORY_ID = "1.2.250.1.213.4.1.1.1.2"  # the DMP's repositoryUniqueId in the GIE SESAM-Vitale TD3.1/TD3.2 examples
MASKED_TO_PROFESSIONALS = "MASQUE_PS"
UPDATE_AVAILABILITY = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
# Deletion through ITI-57 as the DMP's CI-SIS profile names it (verify against the GI DMP).
STATUS_DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
# Archiving (GIE SESAM-Vitale TD3.3d "Archiver un document"): the entry leaves Approved queries, and comes back when
# set Approved again.
STATUS_ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
_CONFIDENTIALITY_SCHEME = next(k for k, v in SCHEMES.items() if v == "confidentialityCode")


@dataclass
class Outcome:
    """A transaction's answer and what the journal files about it."""

    body: str
    outcome: str
    patient: str | None = None
    errors: list[str] = field(default_factory=list)
    attachments: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    fault: tuple[str, str] | None = None  # (subcode, reason): answered as a SOAP Sender fault, not a body


def patient_ins(patient_id: str | None) -> str | None:
    """The INS matricule of an XDS patientId (``INS^^^&OID&ISO^NH``, later components ignored)."""
    parsed = parse_cx(patient_id)
    return parsed.id.upper() if parsed else None


def _refusal(errors: list[RegistryError], patient: str | None) -> Outcome:
    return Outcome(registry_response(errors), "failure", patient, [e.code for e in errors])


def _state_errors(registry: DmpRegistry, ins: str, vihf: Vihf) -> list[RegistryError]:
    state = registry.patient_state_for(ins, vihf.subject or "")
    if state == "actif":
        return []
    code, dmp_code, text = STATE_ERRORS[state]
    return [RegistryError(code, f"{dmp_code} : {text}")]


def _same_patient(vihf: Vihf, ins: str | None) -> list[RegistryError]:
    if ins and vihf.patient_ins and ins != vihf.patient_ins.upper():
        return [
            RegistryError("XDSPatientIdDoesNotMatch", "le patient de la requête n'est pas celui du VIHF (resource-id)")
        ]
    return []


# TD0.2 --------------------------------------------------------------------------------------------------------
def access_test(body: Any, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    request = read_access_test(body)
    if isinstance(request, str):
        return Outcome("", "failure", None, fault=("dmp:RequeteInvalide", request))
    ins = request.patient_extension.upper()
    if vihf.patient_ins and (ins != vihf.patient_ins.upper() or request.patient_root != vihf.patient_oid):
        text = "le patient de la requête n'est pas celui du VIHF (resource-id)"
        return Outcome("", "failure", ins, fault=("dmp:PatientNonConcordant", text))
    state = registry.patient_state_for(ins, vihf.subject or "")
    authorisation = {"opposition": "INTERDIT", "non_autorise": "AUCUNE"}.get(state, "VALIDE")
    answer = AccessTestAnswer(
        found=state != "absent",
        closed=state == "ferme",
        authorisation=authorisation,
        traits=registry.traits(ins),
    )
    outcome = "NF" if not answer.found else f"{'FERME' if answer.closed else 'ACTIF'}:{authorisation}"
    return Outcome(access_test_response(request, answer), outcome, ins, meta={"dmp_state": state})


# TD0.3 --------------------------------------------------------------------------------------------------------
def set_authorization(body: Any, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    request = read_set_authorization(body)
    if isinstance(request, str):
        return Outcome("", "failure", None, fault=("dmp:RequeteInvalide", request))
    ins = (vihf.patient_ins or "").upper()
    professional = vihf.subject or ""
    state = registry.patient_state(ins)
    if state in REFUSALS:
        status, context = REFUSALS[state]
        return Outcome(set_authorization_response(status, context), f"refus:{status}", ins, [status])
    wanted = request.action == "AJOUT"
    if registry.patient_state_for(ins, professional) == ("actif" if wanted else "non_autorise"):
        context = ALREADY_PRESENT if wanted else "Autorisation absente aucune action effectuée"
    else:
        registry.set_authorisation(ins, professional, wanted)
        context = "Autorisation ajoutée" if wanted else "Autorisation supprimée"
    meta = {"action": request.action}
    return Outcome(set_authorization_response(OK, context), f"{OK}:{request.action}", ins, meta=meta)


# ITI-41 -------------------------------------------------------------------------------------------------------
def provide_and_register(body: Any, message: MtomMessage, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    submit = submit_request(body)
    if submit is None:
        return _refusal([RegistryError("XDSRegistryMetadataError", "SubmitObjectsRequest absent")], None)
    submission = read_submission(submit)
    set_patient = (
        patient_ins(submission.submission_set.identifiers.get("patientId")) if submission.submission_set else None
    )
    errors: list[RegistryError] = []
    if not submission.entries:
        errors.append(RegistryError("XDSRegistryMetadataError", "aucune fiche de document (DocumentEntry)"))
    if submission.submission_set is None:
        errors.append(RegistryError("XDSRegistryMetadataError", "lot de soumission (SubmissionSet) absent"))
    errors += _same_patient(vihf, set_patient)
    if errors:
        return _refusal(errors, set_patient)
    if state_errors := _state_errors(registry, set_patient or vihf.patient_ins or "", vihf):
        return _refusal(state_errors, set_patient)
    documents = {d.get("id"): d for d in body.findall(f"{{{XDSB}}}Document")}
    elements = {e.get("id"): e for e in submit.iter(f"{{{RIM}}}ExtrinsicObject")}
    stored: list[StoredEntry] = []
    contents: dict[str, bytes] = {}
    for entry in submission.entries:
        where = f"DocumentEntry {entry.id}"
        ins = patient_ins(entry.identifiers.get("patientId"))
        unique_id = entry.identifiers.get("uniqueId", "")
        if ins is None or ins != set_patient:
            errors.append(RegistryError("XDSPatientIdDoesNotMatch", "patientId différent de celui du lot", where))
        if not unique_id:
            errors.append(RegistryError("XDSRegistryMetadataError", "uniqueId absent", where))
        elif registry.unique_id_taken(unique_id) or unique_id in contents:
            errors.append(RegistryError("XDSDuplicateUniqueIdInRegistry", f"uniqueId {unique_id} déjà enregistré"))
        errors += [RegistryError("XDSRegistryMetadataError", problem, where) for problem in _missing_metadata(entry)]
        document = documents.get(entry.id)
        try:
            data = message.content(document) if document is not None else None
        except MtomError as exc:
            errors.append(RegistryError("XDSMissingDocument", str(exc), where))
            continue
        if data is None:
            errors.append(RegistryError("XDSMissingDocument", "aucun Document pour cette fiche", where))
            continue
        digest = hashlib.sha1(data).hexdigest()  # XDS hash is SHA-1 (ITI TF-3 Table 4.3.1-3)
        declared_hash, declared_size = entry.slot("hash"), entry.slot("size")
        if declared_hash and declared_hash.lower() != digest:
            errors.append(RegistryError("XDSNonIdenticalHash", f"hash déclaré {declared_hash}, calculé {digest}"))
        if declared_size and declared_size != str(len(data)):
            errors.append(RegistryError("XDSNonIdenticalSize", f"size déclarée {declared_size}, reçue {len(data)}"))
        confidentiality = [(c.code, c.scheme) for c in entry.codes.get("confidentialityCode", [])]
        stored.append(
            StoredEntry(
                entry_uuid=entry.id if entry.id.startswith("urn:uuid:") else f"urn:uuid:{uuid.uuid4()}",
                unique_id=unique_id,
                patient_id=cx_key(entry.identifiers.get("patientId")) or "",
                status=STATUS_APPROVED,
                confidentiality=confidentiality,
                submitter=vihf.subject or "",
                hash=digest,
                size=len(data),
                mime_type=entry.mime_type or "application/octet-stream",
                metadata=_registered(elements[entry.id], digest, len(data)),
            )
        )
        contents[unique_id] = data
    deprecate = []
    submitted = {e.id for e in submission.entries}
    set_id = submission.submission_set.id if submission.submission_set else None
    for association in submission.associations:
        if association.type == SIGNS and (
            association.source not in submitted or association.target not in {*submitted, set_id}
        ):
            text = f"association signs {association.source} → {association.target} : fiche ou lot inconnu"
            errors.append(RegistryError("UnresolvedReferenceException", text))
        if association.type != REPLACE or association.source not in submitted:
            continue
        target = registry.entry(entry_uuid=association.target)
        if target is None or patient_ins(target.patient_id) != set_patient:
            errors.append(
                RegistryError("UnresolvedReferenceException", f"document remplacé {association.target} inconnu")
            )
        elif target.status != STATUS_APPROVED:
            errors.append(
                RegistryError(
                    "XDSRegistryDeprecatedDocumentError", f"document remplacé {association.target} déjà obsolète"
                )
            )
        else:
            deprecate.append(association.target)
    if errors:
        return _refusal(errors, set_patient)
    # The registry keeps the entry under the id the candidate gave when it is a UUID; symbolic ids get one.
    for kept, element_id in zip(stored, [e.id for e in submission.entries], strict=True):
        if kept.entry_uuid != element_id:
            kept.metadata = kept.metadata.replace(f'id="{element_id}"'.encode(), f'id="{kept.entry_uuid}"'.encode())
    registry.store(stored, contents, deprecate)
    meta = {"documents": [e.unique_id for e in stored], "replaced": deprecate}
    return Outcome(registry_response([]), "success", set_patient, meta=meta)


# DocumentEntry attributes a registry requires on ITI-42 (IHE ITI TF-3 Table 4.3.1-3, "R" for XDS.b); the DMP
# requires the same (GI DMP, alimentation). patientId and uniqueId are checked above.
_REQUIRED_CODES = ("classCode", "confidentialityCode", "formatCode", "healthcareFacilityTypeCode",
                   "practiceSettingCode", "typeCode")  # fmt: skip
_REQUIRED_SLOTS = ("creationTime", "languageCode", "sourcePatientId")


def _missing_metadata(entry: Any) -> list[str]:
    missing = [f"{name} absent" for name in _REQUIRED_CODES if not entry.codes.get(name)]
    missing += [f"{name} absent" for name in _REQUIRED_SLOTS if not entry.slot(name)]
    if not entry.mime_type:
        missing.append("mimeType absent")
    return missing


def _registered(element: Any, digest: str, size: int) -> bytes:
    """The entry as the registry returns it: Approved, with hash, size and repositoryUniqueId (ITI-42 adds them)."""
    entry = copy.deepcopy(element)
    entry.set("status", STATUS_APPROVED)
    present = {slot.get("name") for slot in entry.findall(f"{{{RIM}}}Slot")}
    for name, value in (("hash", digest), ("size", str(size)), ("repositoryUniqueId", REPOSITORY_ID)):
        if name not in present:
            slot = etree.Element(f"{{{RIM}}}Slot", name=name)
            etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
            entry.insert(0, slot)
    return bytes(etree.tostring(entry, encoding="utf-8"))


# ITI-18 -------------------------------------------------------------------------------------------------------
def _visible(entry: StoredEntry, vihf: Vihf) -> bool:
    return not entry.has_code(MASKED_TO_PROFESSIONALS) or entry.submitter == (vihf.subject or "")


def _with_status(entry: StoredEntry) -> bytes:
    return re.sub(rb'status="[^"]*"', f'status="{entry.status}"'.encode(), entry.metadata, count=1)


# IHE ITI TF-2a §3.18.4.1.2.3.7.1, FindDocuments' optional criteria (the multicriteria search of the DMP's TD3.1):
# coded ones list codes (code^^scheme, matched on the code), the creation time bounds are DTM (From inclusive, To
# exclusive).
_CODE_CRITERIA = {
    "$XDSDocumentEntryClassCode": "classCode",
    "$XDSDocumentEntryTypeCode": "typeCode",
    "$XDSDocumentEntryFormatCode": "formatCode",
    "$XDSDocumentEntryPracticeSettingCode": "practiceSettingCode",
    "$XDSDocumentEntryHealthcareFacilityTypeCode": "healthcareFacilityTypeCode",
    "$XDSDocumentEntryEventCodeList": "eventCodeList",
}


# ITI TF-2a §3.18.4.1.2.3.7.1 (ITI CP-1074): $XDSDocumentEntryReferenceIdList selects entries whose referenceIdList
# holds one of the values (CXi: id^^^&OID&ISO^type), as a RIS or DPI finds the reports of an order (DRIMbox DB/RIS.16).
REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"


def _meets_criteria(entry: StoredEntry, query: StoredQuery) -> bool:
    codes = {name: {v.split("^")[0] for v in query.values(p)} for p, name in _CODE_CRITERIA.items() if query.values(p)}
    time_from = query.values("$XDSDocumentEntryCreationTimeFrom")
    time_to = query.values("$XDSDocumentEntryCreationTimeTo")
    references = {reference_key(v) for v in query.values("$XDSDocumentEntryReferenceIdList")}
    if not codes and not time_from and not time_to and not references:
        return True
    stored = read_entry(parse_xml(entry.metadata))
    for name, wanted in codes.items():
        if not any(code.code in wanted for code in stored.codes.get(name, [])):
            return False
    if references and not references & {reference_key(v) for v in stored.slots.get(REFERENCE_ID_LIST, [])}:
        return False
    created = _dtm(stored.slot("creationTime") or "")
    if time_from and (not created or created < _dtm(time_from[0])):
        return False
    return not (time_to and (not created or created >= _dtm(time_to[0])))


def _dtm(value: str) -> str:
    """An HL7 DTM (YYYY[MM[DD[hh[mm[ss]]]]]) padded so that two compare as instants."""
    digits = "".join(c for c in value if c.isdigit())[:14]
    return digits.ljust(14, "0") if digits else ""


def stored_query(body: Any, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    query = read_stored_query(body)

    def refuse(code: str, text: str, patient: str | None = None) -> Outcome:
        error = RegistryError(code, text)
        return Outcome(query_response([], [error]), "failure", patient, [code], meta={"query": query.query_id})

    if query.query_id == FIND_DOCUMENTS:
        patient_values = query.values("$XDSDocumentEntryPatientId")
        statuses = query.values("$XDSDocumentEntryStatus")
        if len(patient_values) != 1 or not statuses:
            return refuse("XDSStoredQueryParamNumber", "$XDSDocumentEntryPatientId et $XDSDocumentEntryStatus requis")
        asked = parse_cx(patient_values[0])
        ins = asked.id.upper() if asked else None
        if asked is None or ins is None:
            return refuse("XDSStoredQueryParamNumber", f"patientId {patient_values[0]!r} mal formé")
        if errors := _same_patient(vihf, ins) + _state_errors(registry, ins, vihf):
            return refuse(errors[0].code, errors[0].context, ins)
        wanted = {v.split("^")[0] for v in query.values("$XDSDocumentEntryConfidentialityCode")}
        entries = [
            e
            for e in registry.entries(asked.key)
            if e.status in statuses
            and _visible(e, vihf)
            and (not wanted or any(e.has_code(c) for c in wanted))
            and _meets_criteria(e, query)
        ]
    elif query.query_id == GET_DOCUMENTS:
        uuids, unique_ids = query.values("$XDSDocumentEntryEntryUUID"), query.values("$XDSDocumentEntryUniqueId")
        if bool(uuids) == bool(unique_ids):
            return refuse("XDSStoredQueryParamNumber", "$XDSDocumentEntryEntryUUID ou $XDSDocumentEntryUniqueId requis")
        found = [registry.entry(entry_uuid=u) for u in uuids] + [registry.entry(unique_id=u) for u in unique_ids]
        entries = [e for e in found if e is not None and _visible(e, vihf)]
        ins = vihf.patient_ins.upper() if vihf.patient_ins else None
        entries = [e for e in entries if patient_ins(e.patient_id) == ins]
        if ins and (errors := _state_errors(registry, ins, vihf)):
            return refuse(errors[0].code, errors[0].context, ins)
    else:
        return refuse("XDSUnknownStoredQuery", f"requête stockée {query.query_id!r} non prise en charge")
    objects = [_with_status(e) if query.return_type == "LeafClass" else object_ref(e.entry_uuid) for e in entries]
    meta = {"query": query.query_id, "returned": [e.unique_id for e in entries]}
    return Outcome(query_response(objects, []), f"success:{len(entries)}", ins, meta=meta)


# ITI-43 -------------------------------------------------------------------------------------------------------
def retrieve(body: Any, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    from simulators.dmp.messages import retrieve_response

    documents: list[RetrievedDocument] = []
    attachments: dict[str, tuple[bytes, str]] = {}
    errors: list[RegistryError] = []
    ins = vihf.patient_ins.upper() if vihf.patient_ins else None
    requests = retrieve_requests(body)
    if not requests:
        errors.append(RegistryError("XDSRepositoryMetadataError", "aucune DocumentRequest"))
    if ins and (state_errors := _state_errors(registry, ins, vihf)):
        requests, errors = [], state_errors
    for repository, unique_id in requests:
        entry = registry.entry(unique_id=unique_id)
        if repository != REPOSITORY_ID:
            errors.append(RegistryError("XDSUnknownRepositoryId", f"entrepôt {repository!r} inconnu", unique_id))
        elif entry is None or patient_ins(entry.patient_id) != ins or not _visible(entry, vihf):
            errors.append(RegistryError("XDSDocumentUniqueIdError", f"document {unique_id!r} introuvable", unique_id))
        else:
            cid = f"doc{len(documents) + 1}.{uuid.uuid4().hex}@dmp.segur-bench"
            data = registry.content(unique_id) or b""
            attachments[cid] = (data, entry.mime_type)
            documents.append(RetrievedDocument(REPOSITORY_ID, unique_id, entry.mime_type, cid))
    outcome = "success" if not errors else ("partial" if documents else "failure")
    meta = {"returned": [d.unique_id for d in documents]}
    return Outcome(retrieve_response(documents, errors), outcome, ins, [e.code for e in errors], attachments, meta)


# ITI-57 -------------------------------------------------------------------------------------------------------
def update(body: Any, vihf: Vihf, registry: DmpRegistry) -> Outcome:
    submit = submit_request(body)
    if submit is None:
        return _refusal([RegistryError("XDSRegistryMetadataError", "SubmitObjectsRequest absent")], None)
    ins = vihf.patient_ins.upper() if vihf.patient_ins else None
    if ins and (state_errors := _state_errors(registry, ins, vihf)):
        return _refusal(state_errors, ins)
    errors: list[RegistryError] = []
    changes: list[str] = []
    for association in submit.iter(f"{{{RIM}}}Association"):
        if association.get("associationType") != UPDATE_AVAILABILITY:
            continue
        target = registry.entry(entry_uuid=association.get("targetObject") or "")
        new_status = _slot(association, "NewStatus")
        if target is None or patient_ins(target.patient_id) != ins:
            errors.append(
                RegistryError("UnresolvedReferenceException", f"document {association.get('targetObject')} inconnu")
            )
        elif (original := _slot(association, "OriginalStatus")) and original != target.status:
            errors.append(
                RegistryError(
                    "XDSMetadataUpdateError",
                    f"OriginalStatus {original!r} : le document {target.unique_id} est {target.status!r}",
                )
            )
        elif new_status == STATUS_DELETED:
            registry.delete(target.entry_uuid)
            changes.append(f"suppression {target.unique_id}")
        elif new_status in (STATUS_APPROVED, STATUS_DEPRECATED, STATUS_ARCHIVED):
            registry.set_status(target.entry_uuid, new_status)
            changes.append(f"statut {new_status.rsplit(':', 1)[-1]} {target.unique_id}")
        else:
            errors.append(RegistryError("XDSMetadataUpdateError", f"NewStatus {new_status!r} non pris en charge"))
    for element in submit.iter(f"{{{RIM}}}ExtrinsicObject"):
        target = registry.entry(entry_uuid=element.get("lid") or "")
        if target is None or patient_ins(target.patient_id) != ins:
            errors.append(
                RegistryError("UnresolvedReferenceException", f"document logique {element.get('lid')} inconnu")
            )
            continue
        codes = [
            ((c.get("nodeRepresentation") or ""), (_slot(c, "codingScheme") or ""))
            for c in element.findall(f"{{{RIM}}}Classification")
            if c.get("classificationScheme") == _CONFIDENTIALITY_SCHEME
        ]
        if not codes:
            errors.append(RegistryError("XDSMetadataUpdateError", "confidentialityCode absent de la nouvelle version"))
            continue
        registry.set_confidentiality(target.entry_uuid, codes, _recoded(target.metadata, element))
        changes.append(f"confidentialité {'+'.join(c for c, _s in codes)} {target.unique_id}")
    if errors:
        return _refusal(errors, ins)
    return Outcome(registry_response([]), "success", ins, meta={"changes": changes})


def _slot(element: Any, name: str) -> str | None:
    value = element.find(f"{{{RIM}}}Slot[@name='{name}']/{{{RIM}}}ValueList/{{{RIM}}}Value")
    return (value.text or "").strip() if value is not None else None


def _recoded(metadata: bytes, version: Any) -> bytes:
    """The stored entry with the confidentiality classifications of the new version."""
    entry = etree.fromstring(metadata)
    for old in entry.findall(f"{{{RIM}}}Classification[@classificationScheme='{_CONFIDENTIALITY_SCHEME}']"):
        entry.remove(old)
    for new in version.findall(f"{{{RIM}}}Classification[@classificationScheme='{_CONFIDENTIALITY_SCHEME}']"):
        clone = copy.deepcopy(new)
        clone.set("classifiedObject", entry.get("id") or "")
        entry.append(clone)
    return bytes(etree.tostring(entry, encoding="utf-8"))
