"""How the reference candidate uses the DMP, as wave 2 asks (GI DMP; REM vague 2): the access test (TD0.2) when a
qualified patient's record opens, systematic background feeding of every document it produces, replacement with
RPLC, masking on request (ITI-57), consultation from the record with the record's INS and integration of what it
retrieves, never republishing it. Defect switches make it misbehave one requirement at a time."""

from __future__ import annotations

import collections
import datetime as dt
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bench.candidates.base import AdapterError, DocumentView, Environment
from bench.candidates.reference.dmp_client import (
    HABILITATIONS,
    RIM,
    XDSB,
    DmpClient,
    DmpRefused,
    DmpUnavailable,
)
from bench.candidates.reference.filing import FilingKeys
from bench.candidates.reference.psc_client import PscIdentity
from bench.fixtures.documents import Lineage, Practitioner
from bench.fixtures.kinds import DOCUMENT_KINDS, LOINC
from bench.fixtures.vihf import VihfContext, build_vihf
from bench.fixtures.volets import ORDER_PLACER_ROOT, REFERENCE_ORDER
from bench.fixtures.xds import SubmissionContext, provide_and_register, read_header
from simulators.common.namespaces import HL7
from simulators.insi.ins import normalise_trait

SOFTWARE = ("segur-bench-reference", "0.1.0", "HOMOLOGATION-DMP-TEST-0001")
PROFESSIONS = {"10": "Médecin", "21": "Pharmacien"}  # TRE_G15-ProfessionSante display names
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
CONFIDENTIALITY_SCHEME = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
RETRIES_OF_A_STORM = 5
RETRY_EVERY_S = 0.2  # queued feeds are retried in the background (SC.DMP/ALI/PROG.01)


@dataclass
class HeldDocument:
    kind: str
    data: bytes
    unique_id: str
    title: str
    origin: str = "own"
    entry_uuid: str | None = None
    dmp_status: str = "non_partage"
    dmp_change: str | None = None  # integrated from the DMP, since replaced or deleted there (SC.DMP/UX.39-42)


@dataclass
class DmpPatient:
    """What the software knows of one patient's DMP."""

    ins: str
    oid: str
    local_id: str
    access: str | None = None  # "autorise", "refus:<why>" or "a_confirmer" (identity traits differ from the DMP's)
    traits: tuple[str, str, str, str] = ("", "", "", "")  # the record's birth name, first name, sex, birth date
    documents: list[HeldDocument] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def patient_id(self) -> str:
        return f"{self.ins}^^^&{self.oid}&ISO^NH"  # as every official DMP example writes the INS

    def views(self, *, imports_dated_on_receipt: bool = False) -> list[DocumentView]:
        """The record's documents, each under its type, date and author (``imports_dated_on_receipt``: the defect
        that files what came from the DMP under the day it was integrated)."""
        views = []
        for d in self.documents:
            external = d.origin == "dmp"
            keys = FilingKeys.of(d.data, dated_on_receipt=external and imports_dated_on_receipt)
            origin: Literal["own", "dmp"] = "dmp" if external else "own"
            views.append(
                DocumentView(
                    d.unique_id,
                    d.title,
                    origin,
                    d.dmp_status,
                    keys.type_code,
                    keys.date,
                    keys.author,
                    dmp_change=d.dmp_change,
                )
            )
        return views


class DmpPractice:
    """``signed_in``: who is signed in through Pro Santé Connect, if anyone; the VIHF then carries that identity in
    the AIR mode (SC.DMP/PSC.01), else the practitioner's in the INDIRECTE mode."""

    def __init__(
        self,
        environment: Environment,
        defects: frozenset[str],
        practitioner: Practitioner,
        signed_in: Callable[[], PscIdentity | None] = lambda: None,
    ) -> None:
        if not environment.get("dmp_url") or environment.client_tls is None:
            raise AdapterError("le candidat de référence exige l'adresse du DMP et TLS mutuel")
        self.defects = defects
        self.practitioner = practitioner
        self._signed_in = signed_in
        self._environment = environment
        # Parsed once: signing with a PEM re-parses the key at every VIHF (issue 21: 27 ms → 0.5 ms a signature).
        key = load_pem_private_key(Path(environment.client_key_file).read_bytes(), password=None)
        if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
            raise AdapterError(f"clé client {type(key).__name__} : RSA ou EC attendue pour signer le VIHF")
        self._key = key
        self._cert = Path(environment.client_cert_file).read_bytes()
        self.answered: collections.Counter[str] = collections.Counter()  # across endpoints (GEN-003)
        self._client = self._new_client(environment.get("dmp_url"))
        # Feeds waiting for the DMP to come back, flushed by a background thread with no user action.
        self._lock = threading.RLock()
        self._pending: list[tuple[DmpPatient, HeldDocument, HeldDocument | None]] = []
        self._stopped = threading.Event()
        self._flusher = threading.Thread(target=self._flush_forever, name="reference-dmp-queue", daemon=True)
        if "dmp.no_deferred_feed" not in defects:
            self._flusher.start()

    def _new_client(self, url: str) -> DmpClient:
        tls = self._environment.client_tls
        assert tls is not None
        if "dmp.no_server_verification" in self.defects:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
            tls.load_cert_chain(self._environment.client_cert_file, self._environment.client_key_file)
        return DmpClient(url, tls, answered=self.answered)

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            self._client.close()

    def forget(self) -> None:
        """A new practice: nothing waits for the DMP any more."""
        with self._lock:
            self._pending.clear()

    def idle(self, timeout: float) -> bool:
        """Whether nothing waits for the DMP and no call is in flight (a flush holds the lock while it feeds), asked for
        at most ``timeout`` seconds: a queued feed will be retried, so the practice is not idle while one waits."""
        deadline = time.monotonic() + timeout
        while True:
            if self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
                try:
                    if not self._pending:
                        return True
                finally:
                    self._lock.release()
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(0.01, max(deadline - time.monotonic(), 0.0)))

    def configure(self, url: str) -> None:
        with self._lock:
            self._client.close()
            self._client = self._new_client(url)

    def _flush_forever(self) -> None:
        while not self._stopped.wait(RETRY_EVERY_S):
            with self._lock:
                waiting, self._pending = self._pending, []
                for patient, document, replaces in waiting:
                    self.feed(patient, document, replaces=replaces, user_request=True)

    # calls ---------------------------------------------------------------------------------------------------
    def _vihf(self, patient: DmpPatient, *, access_mode: str = "normal", unsigned: bool = False) -> Any:
        who = self.practitioner
        national_id, name, profession, mode = who.national_id, f"{who.family} {who.given}", who.profession_code, None
        psc = None if "dmp.vihf_ignores_psc" in self.defects else self._signed_in()
        if psc is not None:  # AIR: the identity PSC's UserInfo gives (as ANS's DRIMbox builds its VIHF)
            national_id, name, profession, mode = psc.national_id, psc.name, psc.profession, "INDIRECTE_RENFORCEE"
        context = VihfContext(
            professional_id=national_id,
            professional_name=name,
            profession=(profession, "1.2.250.1.71.1.2.7", PROFESSIONS.get(profession, profession)),
            structure_id=who.practice_id,
            activity_sector="SA07^1.2.250.1.71.4.2.4",
            patient_ins=patient.ins,
            patient_oid=patient.oid,
            software_name=SOFTWARE[0],
            software_version=SOFTWARE[1],
            approval_number=SOFTWARE[2],
            access_mode=access_mode,
            authentication_mode=mode or "INDIRECTE",
        )
        assertion = build_vihf(context, self._key, self._cert)
        if unsigned:
            signature = assertion.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
            assertion.remove(signature)
        return assertion

    def access_test(self, patient: DmpPatient) -> bool:
        """TD0.2 (HL7v3 PRPA_IN201307UV02, as the GIE SESAM-Vitale example): does the patient have a DMP this
        professional may use? Remembers the answer; asks for the authorisation (TD0.3) when none is recorded."""
        try:
            with self._lock:
                answer = self._client.call("td02", _access_test_query(patient), self._vihf(patient))
        except DmpUnavailable as exc:
            patient.access = None  # unknown: tested again before the next use
            patient.messages.append(f"DMP injoignable, test d'accès à renouveler : {exc}")
            return False
        except DmpRefused as exc:
            patient.access = f"refus:{exc}"
            patient.messages.append(f"DMP : test d'accès impossible : {exc}")
            return False
        code = answer.body.find(f"{{{HL7}}}controlActProcess/{{{HL7}}}queryAck/{{{HL7}}}queryResponseCode")
        status = answer.body.find(f".//{{{HL7}}}subject1/{{{HL7}}}patient/{{{HL7}}}statusCode")
        authorisation = ""
        for line in answer.body.iterfind(f"{{{HL7}}}attentionLine"):
            keyword = line.find(f"{{{HL7}}}keyWordText")
            value = line.find(f"{{{HL7}}}value")
            if keyword is not None and keyword.get("code") == "AUTORISATION" and value is not None:
                authorisation = value.get("code", "")
        if code is None or code.get("code") != "OK":
            patient.access = "refus:DMP inexistant"
            patient.messages.append("DMP : le patient n'a pas de DMP")
            return False
        if status is not None and status.get("code") == "terminated":
            patient.access = "refus:DMP fermé"
            patient.messages.append("DMP : le DMP du patient est fermé")
            return False
        divergence = _traits_divergence(answer.body, patient.traits)
        if divergence and "dmp.ignore_traits_divergence" not in self.defects:
            # SC.DMP/CONF.01: traced and shown; nothing is fed until the professional confirms the identity.
            patient.access = "a_confirmer"
            patient.messages.append(
                f"DMP : traits d'identité divergents entre le dossier et le DMP ({divergence}) : "
                "confirmer l'identité avant d'alimenter le DMP"
            )
            return False
        if authorisation not in ("VALIDE", "INTERDIT") and "dmp.no_authorisation_request" not in self.defects:
            authorisation = self._request_authorisation(patient) or authorisation
        if authorisation != "VALIDE":
            patient.access = f"refus:autorisation {authorisation or 'absente'}"
            patient.messages.append(f"DMP : accès non autorisé (autorisation {authorisation or 'absente'})")
            return False
        patient.access = "autorise"
        return True

    def _request_authorisation(self, patient: DmpPatient) -> str | None:
        """TD0.3 AJOUT: the professional records the authorisation the patient gave (GI DMP; SC.DMP/UX.05)."""
        body = f'<setAuthorization xmlns="{HABILITATIONS}"><action>AJOUT</action></setAuthorization>'
        try:
            answer = self._client.call("td03", body, self._vihf(patient))
        except (DmpUnavailable, DmpRefused) as exc:
            patient.messages.append(f"DMP : autorisation d'accès non enregistrée : {exc}")
            return None
        status = answer.body.findtext(f"{{{HABILITATIONS}}}output/{{{HABILITATIONS}}}status", default="")
        if status.upper() != "DMPOK":
            context = answer.body.findtext(f"{{{HABILITATIONS}}}output/{{{HABILITATIONS}}}context", default="")
            patient.messages.append(f"DMP : autorisation d'accès refusée ({status} : {context})")
            return None
        return "VALIDE"

    def feed(
        self,
        patient: DmpPatient,
        document: HeldDocument,
        *,
        replaces: HeldDocument | None = None,
        user_request: bool = False,
    ) -> None:
        """Send the document to the DMP in the background of the professional's work (no click)."""
        if "dmp.feed_on_user_request" in self.defects and not user_request:
            document.dmp_status = "a_envoyer"
            return
        if replaces is not None and replaces.dmp_status == "a_envoyer":
            self.feed(patient, replaces, user_request=True)
        with self._lock:
            self._feed(patient, document, replaces)

    def _feed(self, patient: DmpPatient, document: HeldDocument, replaces: HeldDocument | None) -> None:
        if patient.access is None and "dmp.no_access_test" not in self.defects:
            self.access_test(patient)
            if patient.access is None:
                self._queue(patient, document, replaces)
                return
        if patient.access == "a_confirmer":
            document.dmp_status = "a_envoyer"  # held until the professional confirms the identity
            return
        if patient.access is not None and patient.access != "autorise" and "dmp.retry_storm" not in self.defects:
            document.dmp_status = "refuse"
            return
        context = SubmissionContext(
            source_id=self.practitioner.practice_id,
            replaces_entry=replaces.entry_uuid
            if replaces is not None and "dmp.replace_without_rplc" not in self.defects
            else None,
            omit=frozenset(
                field
                for field, defect in (
                    ("classCode", "dmp.metadata_without_class"),
                    ("imagingReferences", "dmp.imaging_references_missing"),
                )
                if defect in self.defects
            ),
            wrong_hash="dmp.wrong_hash" in self.defects,
        )
        submission = provide_and_register(document.data, context)
        document.entry_uuid = submission.entry_uuid
        attempts = RETRIES_OF_A_STORM if "dmp.retry_storm" in self.defects and patient.access != "autorise" else 1
        unsigned = "dmp.feed_vihf_unsigned" in self.defects
        for _ in range(attempts):
            try:
                self._client.call(
                    "iti41",
                    submission.body,
                    self._vihf(patient, unsigned=unsigned),
                    (submission.document_cid, document.data),
                )
            except DmpUnavailable:
                self._queue(patient, document, replaces)
                return
            except DmpRefused as exc:
                document.dmp_status = "refuse"
                if "dmp.retry_storm" not in self.defects:
                    patient.messages.append(f"DMP : document refusé : {exc}")
                continue
            document.dmp_status = "alimente"
            return

    def _queue(self, patient: DmpPatient, document: HeldDocument, replaces: HeldDocument | None) -> None:
        document.dmp_status = "en_attente"
        if "dmp.no_deferred_feed" in self.defects:
            patient.messages.append("DMP injoignable : document non envoyé, à renvoyer manuellement")
            return
        if not any(held is document for _p, held, _r in self._pending):
            patient.messages.append("DMP injoignable : document mis en file d'attente, envoi automatique au retour")
            self._pending.append((patient, document, replaces))

    def mask(self, patient: DmpPatient, document: HeldDocument) -> None:
        with self._lock:
            self._mask(patient, document)

    def _mask(self, patient: DmpPatient, document: HeldDocument) -> None:
        """ITI-57: a new version of the entry's metadata adding MASQUE_PS (masked to other professionals)."""
        if "dmp.mask_ignored" in self.defects:
            return
        if document.dmp_status == "a_envoyer":
            self.feed(patient, document, user_request=True)
        if document.entry_uuid is None:
            return
        header = read_header(document.data)
        new_version, package = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        codes = [header.confidentiality, ("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé")]
        classifications = "".join(
            f'<rim:Classification classificationScheme="{CONFIDENTIALITY_SCHEME}" classifiedObject="{new_version}" '
            f'id="urn:uuid:{uuid.uuid4()}" nodeRepresentation="{code}"><rim:Slot name="codingScheme"><rim:ValueList>'
            f"<rim:Value>{system}</rim:Value></rim:ValueList></rim:Slot><rim:Name><rim:LocalizedString "
            f'value="{display}"/></rim:Name></rim:Classification>'
            for code, system, display in codes
        )
        version = (
            f'<rim:ExtrinsicObject id="{new_version}" lid="{document.entry_uuid}" mimeType="text/xml" '
            f'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">{classifications}</rim:ExtrinsicObject>'
        )
        member = (
            f'<rim:Association associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
            f'id="urn:uuid:{uuid.uuid4()}" sourceObject="{package}" targetObject="{new_version}">'
            '<rim:Slot name="SubmissionSetStatus"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList>'
            '</rim:Slot><rim:Slot name="PreviousVersion"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList>'
            "</rim:Slot></rim:Association>"
        )
        self._update(patient, package, version, member, "masquage")

    def _update(self, patient: DmpPatient, package: str, before: str, after: str, what: str) -> bool:
        """ITI-57: the submission set ``package`` between ``before`` and ``after`` (registry objects); False, and the
        user told, when the DMP refuses or cannot be reached."""
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        body = (
            f'<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="{RIM}">'
            f'<rim:RegistryObjectList>{before}<rim:RegistryPackage id="{package}"><rim:Slot name="submissionTime">'
            f"<rim:ValueList><rim:Value>{now}</rim:Value></rim:ValueList></rim:Slot></rim:RegistryPackage>{after}"
            "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
        )
        try:
            self._client.call("iti57", body, self._vihf(patient))
        except (DmpUnavailable, DmpRefused) as exc:
            patient.messages.append(f"DMP : {what} impossible : {exc}")
            return False
        return True

    def delete(self, patient: DmpPatient, document: HeldDocument) -> None:
        """TD3.3c: ITI-57 setting the entry's availability status to Deleted; the record then says so."""
        with self._lock:
            if "dmp.delete_locally_only" in self.defects or document.entry_uuid is None:
                document.dmp_status = "supprime"  # the defect: gone from the screen, still in the DMP
                return
            package = f"urn:uuid:{uuid.uuid4()}"
            status = (
                f'<rim:Association associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" '
                f'id="urn:uuid:{uuid.uuid4()}" sourceObject="{package}" targetObject="{document.entry_uuid}">'
                f'<rim:Slot name="OriginalStatus"><rim:ValueList><rim:Value>{APPROVED}</rim:Value></rim:ValueList>'
                '</rim:Slot><rim:Slot name="NewStatus"><rim:ValueList>'
                "<rim:Value>urn:asip:ci-sis:2010:StatusType:Deleted</rim:Value></rim:ValueList></rim:Slot>"
                "</rim:Association>"
            )
            if self._update(patient, package, "", status, "suppression"):
                document.dmp_status = "supprime"

    def search(self, patient: DmpPatient, type_code: tuple[str, str], since: str) -> int:
        """The multicriteria search (TD3.1): documents of one type created since a date; the user sees how many."""
        criteria = {"$XDSDocumentEntryCreationTimeFrom": since.replace("-", "")}
        if "dmp.search_without_criteria" not in self.defects:
            criteria["$XDSDocumentEntryTypeCode"] = f"('{type_code[0]}^^{type_code[1]}')"
        return self._find(patient, criteria, "document(s) trouvé(s)")

    def find_order_reports(self, patient: DmpPatient, order: str) -> int:
        """The imaging reports of an imaging request: one FindDocuments selecting its order placer number among the
        entries' references (IHE ITI TF-2a §3.18.4.1.2.3.7.1, DB/RIS.16); the practice placed the order under its
        own order number authority."""
        if "dmp.order_query_unselective" in self.defects:  # every imaging report of the patient, sorted locally
            criteria = {"$XDSDocumentEntryTypeCode": f"('{DOCUMENT_KINDS['imaging-report'].code}^^{LOINC}')"}
        else:
            reference = f"{order}^^^&{ORDER_PLACER_ROOT}&ISO^{REFERENCE_ORDER}"
            criteria = {"$XDSDocumentEntryReferenceIdList": f"('{reference}')"}
        return self._find(patient, criteria, f"compte(s) rendu(s) pour la demande {order}")

    def _find(self, patient: DmpPatient, criteria: dict[str, str], found_what: str) -> int:
        """One FindDocuments with ``criteria`` after the access test; the user is told how many were found."""
        with self._lock:
            if patient.access is None:
                self.access_test(patient)
            if patient.access is not None and patient.access != "autorise":
                return 0
            try:
                answer = self._client.call("iti18", _find_documents(patient.patient_id, criteria), self._vihf(patient))
            except (DmpUnavailable, DmpRefused) as exc:
                patient.messages.append(f"DMP : recherche impossible : {exc}")
                return 0
            found = len(list(answer.body.iter(f"{{{RIM}}}ExtrinsicObject")))
            patient.messages.append(f"DMP : {found} {found_what}")
            return found

    def consult(self, patient: DmpPatient, access_mode: str) -> None:
        with self._lock:
            self._consult(patient, access_mode)

    def _consult(self, patient: DmpPatient, access_mode: str) -> None:
        """ITI-18 FindDocuments for the record's INS, then ITI-43 for what the record does not hold yet; retrieved
        documents are integrated as the DMP's, never fed back as the software's own."""
        if patient.access is None and "dmp.no_access_test" not in self.defects:
            self.access_test(patient)
        if patient.access is not None and patient.access != "autorise":
            return
        mode = (
            "bris_de_glace" if access_mode == "bris_de_glace" or "dmp.always_break_glass" in self.defects else "normal"
        )
        patient_id = patient.patient_id
        if "dmp.consult_local_id" in self.defects:
            patient_id = f"{patient.local_id}^^^&1.2.250.1.999.1.1&ISO^PI"
        query = _find_documents(patient_id)
        try:
            answer = self._client.call("iti18", query, self._vihf(patient, access_mode=mode))
        except (DmpUnavailable, DmpRefused) as exc:
            patient.messages.append(f"DMP : consultation impossible : {exc}")
            return
        held = {d.unique_id for d in patient.documents}
        wanted = [w for w in _listed(answer.body) if w[1] not in held]
        self._retrieve(patient, wanted, mode, "récupération")

    def _retrieve(self, patient: DmpPatient, wanted: list[tuple[str, str, str]], mode: str, what: str) -> None:
        """ITI-43 for ``wanted`` (repository, unique id, title), integrated as the DMP's documents, never fed back."""
        if not wanted:
            return
        requests = "".join(
            f"<xdsb:DocumentRequest><xdsb:RepositoryUniqueId>{repository}</xdsb:RepositoryUniqueId>"
            f"<xdsb:DocumentUniqueId>{unique_id}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>"
            for repository, unique_id, _t in wanted
        )
        body = f'<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="{XDSB}">{requests}</xdsb:RetrieveDocumentSetRequest>'
        try:
            retrieved = self._client.call("iti43", body, self._vihf(patient, access_mode=mode))
        except (DmpUnavailable, DmpRefused) as exc:
            patient.messages.append(f"DMP : {what} impossible : {exc}")
            return
        titles = {unique_id: title for _r, unique_id, title in wanted}
        for response in retrieved.body.iter(f"{{{XDSB}}}DocumentResponse"):
            unique_id = response.findtext(f"{{{XDSB}}}DocumentUniqueId", default="")
            element = response.find(f"{{{XDSB}}}Document")
            if element is None:
                continue
            data = retrieved.content(element)
            document = HeldDocument("dmp", data, unique_id, titles.get(unique_id, ""), "dmp", dmp_status="integre")
            patient.documents.append(document)
            if "dmp.republish_integrated" in self.defects:
                self.feed(patient, HeldDocument("dmp", data, unique_id, document.title))

    def integrate(self, patient: DmpPatient, type_code: tuple[str, str]) -> None:
        """SC.DMP/UX.31, UX.36: the user picks the DMP's document of one type in the list and integrates it alone; one
        already in the record is not retrieved again (the user is warned, the attempt traced)."""
        with self._lock:
            if patient.access is None and "dmp.no_access_test" not in self.defects:
                self.access_test(patient)
            if patient.access is not None and patient.access != "autorise":
                return
            criteria = {"$XDSDocumentEntryTypeCode": f"('{type_code[0]}^^{type_code[1]}')"}
            if "dmp.integrate_everything" in self.defects:
                criteria = {}  # takes the whole list instead of the user's pick
            try:
                answer = self._client.call("iti18", _find_documents(patient.patient_id, criteria), self._vihf(patient))
            except (DmpUnavailable, DmpRefused) as exc:
                patient.messages.append(f"DMP : liste des documents impossible : {exc}")
                return
            listed = _listed(answer.body)
            held = {d.unique_id for d in patient.documents}
            duplicates = [w for w in listed if w[1] in held]
            if duplicates and "dmp.integrate_duplicates" not in self.defects:
                titles = ", ".join(title or unique_id for _r, unique_id, title in duplicates)
                patient.messages.append(f"DMP : déjà intégré au dossier, pas de second exemplaire : {titles}")
                listed = [w for w in listed if w[1] not in held]
            self._retrieve(patient, listed, "normal", "intégration")

    def refresh(self, patient: DmpPatient, document: HeldDocument) -> None:
        """SC.DMP/UX.39-42: opening a document integrated from the DMP, ask the DMP about it by its unique id (ITI-18
        GetDocuments): deprecated there means a newer version replaced it, absent means it was deleted."""
        if "dmp.integrated_changes_ignored" in self.defects:
            return
        with self._lock:
            try:
                answer = self._client.call("iti18", _get_document(document.unique_id), self._vihf(patient))
            except (DmpUnavailable, DmpRefused) as exc:
                patient.messages.append(f"DMP : vérification du document impossible : {exc}")
                return
            entries = list(answer.body.iter(f"{{{RIM}}}ExtrinsicObject"))
            change = None
            if not entries:
                change = "supprime"
                patient.messages.append(f"DMP : « {document.title} » n'est plus dans le DMP (supprimé par son auteur)")
            elif entries[0].get("status") == DEPRECATED:
                change = "remplace"
                patient.messages.append(f"DMP : « {document.title} » a été remplacé ; intégrer la nouvelle version ?")
            for held in patient.documents:
                if held.origin == "dmp" and held.unique_id == document.unique_id:
                    held.dmp_change = change


def _listed(body: Any) -> list[tuple[str, str, str]]:
    """(repository, unique id, title) of each document an ITI-18 answer lists."""
    listed = []
    for entry in body.iter(f"{{{RIM}}}ExtrinsicObject"):
        unique_id = _identifier(entry, "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab")
        repository = _slot(entry, "repositoryUniqueId")
        if unique_id and repository:
            title = entry.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
            listed.append((repository, unique_id, title.get("value", "") if title is not None else ""))
    return listed


def _get_document(unique_id: str) -> str:
    """An ITI-18 GetDocuments for one document by its unique id, whatever its status (ITI TF-2a §3.18.4.1.2.3.7.5)."""
    return (
        '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        f'xmlns:rim="{RIM}"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>'
        f'<rim:AdhocQuery id="{GET_DOCUMENTS}"><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList>'
        f"<rim:Value>('{escape(unique_id)}')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery>"
        "</query:AdhocQueryRequest>"
    )


def _find_documents(patient_id: str, criteria: dict[str, str] | None = None) -> str:
    """An ITI-18 FindDocuments for approved documents of ``patient_id``, with further criteria (slot -> value as
    IHE ITI TF-2a §3.18.4.1.2.3.7.1 writes it)."""
    slots = {
        "$XDSDocumentEntryPatientId": f"'{patient_id}'",
        "$XDSDocumentEntryStatus": f"('{APPROVED}')",
        **(criteria or {}),
    }
    written = "".join(
        f'<rim:Slot name="{name}"><rim:ValueList><rim:Value>{escape(value)}</rim:Value></rim:ValueList></rim:Slot>'
        for name, value in slots.items()
    )
    return (
        '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        f'xmlns:rim="{RIM}"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>'
        f'<rim:AdhocQuery id="{FIND_DOCUMENTS}">{written}</rim:AdhocQuery></query:AdhocQueryRequest>'
    )


def _traits_divergence(answer: Any, traits: tuple[str, str, str, str]) -> str:
    """What differs between the record's traits and the patient the DMP answered in TD0.2 ("" when nothing does)."""
    person = answer.find(f".//{{{HL7}}}patient/{{{HL7}}}patientPerson")
    if person is None or not any(traits):
        return ""
    birth_name, first_name, sex, birth_date = traits
    gender = person.find(f"{{{HL7}}}administrativeGenderCode")
    born = person.find(f"{{{HL7}}}birthTime")
    compared = {
        "nom de naissance": (person.findtext(f"{{{HL7}}}name/{{{HL7}}}family", "") or "", birth_name),
        "prénom": (person.findtext(f"{{{HL7}}}name/{{{HL7}}}given", "") or "", first_name),
        "sexe": (gender.get("code", "") if gender is not None else "", sex),
        "date de naissance": ((born.get("value", "") if born is not None else "")[:8], birth_date.replace("-", "")),
    }
    # Compared as INSi compares traits: no case, no diacritics.
    differ = [name for name, (dmp, own) in compared.items() if dmp and normalise_trait(dmp) != normalise_trait(own)]
    return ", ".join(differ)


def _access_test_query(patient: DmpPatient) -> str:
    """TD0.2's PRPA_IN201307UV02, shaped as the GIE SESAM-Vitale example (reasonCode TEST_EXST, patientIdentifier)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return (
        f'<PRPA_IN201307UV02 xmlns="{HL7}" ITSVersion="XML_1.0">'
        f'<id root="1.2.250.1.999.1.1.1" extension="{uuid.uuid4()}"/><creationTime value="{now}"/>'
        '<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201307UV02"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="AL"/>'
        '<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.250.1.213.4.1.1.1"/>'
        "<softwareName>DMP</softwareName></device></receiver>"
        '<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.250.1.999.1.1"/>'
        f"<softwareName>{SOFTWARE[0]}</softwareName></device></sender>"
        '<controlActProcess classCode="CACT" moodCode="EVN">'
        '<reasonCode code="TEST_EXST" codeSystem="1.2.250.1.213.1.1.4.11" displayName="Test d\'existence de dossier"/>'
        f'<queryByParameter><queryId root="1.2.250.1.999.1.1.2" extension="{uuid.uuid4()}"/>'
        '<statusCode code="new"/><parameterList><patientIdentifier>'
        f'<value root="{patient.oid}" extension="{patient.ins}"/><semanticsText>Patient.id</semanticsText>'
        "</patientIdentifier></parameterList></queryByParameter></controlActProcess></PRPA_IN201307UV02>"
    )


def _identifier(entry: Any, scheme: str) -> str | None:
    found = entry.find(f"{{{RIM}}}ExternalIdentifier[@identificationScheme='{scheme}']")
    return found.get("value") if found is not None else None


def _slot(entry: Any, name: str) -> str | None:
    value = entry.find(f"{{{RIM}}}Slot[@name='{name}']/{{{RIM}}}ValueList/{{{RIM}}}Value")
    return (value.text or "").strip() if value is not None else None


def document_identity(data: bytes) -> tuple[str, Lineage]:
    """(uniqueId, lineage) of a CDA document the software produced."""
    return read_header(data).unique_id, Lineage.of(data)
