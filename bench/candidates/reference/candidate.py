"""The reference candidate: registers patients, calls INSi over mutual TLS, applies the RNIV identity-status
rules, keeps its patient records and produces documents. Defect switches make it misbehave on purpose."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.candidates.base import (
    AdapterError,
    Artifact,
    Capability,
    DashboardView,
    DocumentView,
    Environment,
    IdentityStatus,
    PatientInput,
    PatientRecordView,
    ReceivedDocumentsView,
    SearchMethod,
)
from bench.candidates.reference.defects import unknown_defects
from bench.candidates.reference.dmp_practice import DmpPatient, DmpPractice, HeldDocument, document_identity
from bench.candidates.reference.filing import FilingKeys
from bench.candidates.reference.insi_client import InsiAnswer, InsiClient, InsiUnavailable
from bench.candidates.reference.mss_practice import LocalPatient, MssPractice
from bench.candidates.reference.psc_client import PscSignIn
from bench.fixtures.documents import DocumentDefects, Practitioner, RecordTargetData, build_cda
from bench.fixtures.kinds import DOCUMENT_KINDS
from simulators.insi.ins import OID_NIA, OID_NIR, OID_TEST_NIA, OID_TEST_NIR

_PRODUCTION_OID = {OID_TEST_NIR: OID_NIR, OID_TEST_NIA: OID_NIA}
_TEST_NIR_OID = "1.2.250.1.213.1.4.10"


@dataclass
class _Record:
    """One patient's identity in the practice software (RNIV: identity status, strict traits, INS)."""

    local_id: str
    typed: PatientInput
    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str
    birth_place: str | None
    status: IdentityStatus = "provisoire"
    ins_matricule: str | None = None
    ins_oid: str | None = None
    document_checked: bool = False
    messages: list[str] = field(default_factory=list)
    dmp: DmpPatient | None = None
    produced: dict[str, bytes] = field(default_factory=dict)  # last document of each kind
    dmp_opposed: bool = False  # the patient opposes professionals' access to their DMP (SC.DMP/CONF.06)
    mss_opposed: bool = False  # the patient opposes sending their documents by secure messaging (MSS/va1.20)

    def dmp_patient(self) -> DmpPatient | None:
        """The patient's DMP side, only for a qualified identity (INS-005: nothing shared otherwise)."""
        if self.status != "qualifiee" or not self.ins_matricule or not self.ins_oid:
            return None
        if self.dmp is None or self.dmp.ins != self.ins_matricule:
            self.dmp = DmpPatient(self.ins_matricule, self.ins_oid, self.local_id)
        self.dmp.traits = (self.birth_name, self.first_name, self.sex, self.birth_date)
        return self.dmp

    def refresh_status(self) -> None:
        """RNIV statuses: an INS from INSi makes the identity 'récupérée', a checked document 'validée', both
        'qualifiée'."""
        if self.ins_matricule and self.document_checked:
            self.status = "qualifiee"
        elif self.ins_matricule:
            self.status = "recuperee"
        elif self.document_checked:
            self.status = "validee"
        else:
            self.status = "provisoire"


def _business_moment(day: str) -> dt.datetime:
    """A historical document's date (SC.DMP/HISTO.03): its day, at 9:00 in Paris."""
    try:
        moment = dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    except ValueError as exc:
        raise AdapterError(f"date métier {day!r} : AAAA-MM-JJ attendu") from exc
    return moment


def _dmp_state(access: str | None, confused: bool) -> str | None:
    """What the record shows of the DMP from the last access test (SC.DMP/UX.11-13); ``confused``: the defect that
    shows a refusal of access as an absent DMP."""
    if access is None:
        return None
    if access in ("autorise", "a_confirmer"):
        return "actif"
    if access == "refus:DMP inexistant":
        return "absent"
    if access == "refus:DMP fermé":
        return "ferme"
    if access.startswith("refus:autorisation"):
        return "absent" if confused else "non_autorise"
    return None


def _opposed(choice: str) -> bool:
    if choice not in ("opposition", "accord"):
        raise AdapterError(f"choix du patient {choice!r} : opposition ou accord attendu")
    return choice == "opposition"


def _nir_key_without_corsica_rule(nir13: str) -> str:
    digits = nir13.upper().replace("A", "0").replace("B", "0")
    return f"{97 - int(digits) % 97:02d}"


def _nir_key(nir13: str) -> str:
    department = {"2A": "19", "2B": "18"}.get(nir13[5:7].upper(), nir13[5:7])
    return f"{97 - int(nir13[:5] + department + nir13[7:]) % 97:02d}"


class ReferenceCandidate:
    """Adapter and implementation in one: the bench drives it in-process, it talks to simulators over TLS."""

    name = "reference"
    # It knows when it is done: its actions are synchronous, and its only background work is the DMP retry queue.
    capabilities: frozenset[Capability] = frozenset({"settles"})

    def __init__(self, defects: list[str] | None = None) -> None:
        unknown = unknown_defects(defects or [])
        if unknown:
            raise AdapterError(f"défauts inconnus : {', '.join(unknown)}")
        self.defects = frozenset(defects or [])
        self._records: dict[str, _Record] = {}
        self._insi: InsiClient | None = None
        self._dmp: DmpPractice | None = None
        self._mss: MssPractice | None = None
        self._psc: PscSignIn | None = None
        self._practitioner = Practitioner()
        self._dashboard_base: dict[str, int] = {}
        self._frozen = False

    # lifecycle -----------------------------------------------------------------------------------------
    def start(self, environment: Environment) -> None:
        if environment.client_tls is None:
            raise AdapterError("le candidat de référence exige TLS mutuel")
        self._insi = InsiClient(environment.get("insi_url"), environment.client_tls)
        if environment.get("psc_discovery_url"):
            self._psc = PscSignIn(
                environment.get("psc_discovery_url"),
                environment.get("psc_client_id"),
                environment.get("psc_client_secret"),
                self._practitioner.national_id,
                environment.ca_file,
                self.defects,
            )
        if environment.get("dmp_url"):
            signed_in = self._psc.identity if self._psc is not None else (lambda: None)
            self._dmp = DmpPractice(environment, self.defects, self._practitioner, signed_in)
        if environment.get("mss_smtp_url"):
            # The mailbox is opened with the professional's PSC token (SC.MSS/CONF.07), or its password by defect.
            token = self._psc.checked_access_token if self._psc and "mss.password_auth" not in self.defects else None
            self._mss = MssPractice(environment, self.defects, self._verify_received, token)

    def settled(self, timeout: float) -> bool:
        return (self._dmp is None or self._dmp.idle(timeout)) and (self._mss is None or self._mss.idle(timeout))

    def stop(self) -> None:
        if self._insi is not None:
            self._insi.close()
        if self._dmp is not None:
            self._dmp.close()
        if self._psc is not None:
            self._psc.close()

    def reset(self) -> None:
        self._records.clear()
        self._frozen = False
        if "gen.dashboard_not_reset" not in self.defects:
            self._dashboard_base = self._dashboard_totals()  # a new practice's dashboard starts at zero
        if self._dmp is not None:
            self._dmp.forget()
        if self._mss is not None:
            self._mss.forget()

    # actions -------------------------------------------------------------------------------------------
    def register_patient(self, patient: PatientInput) -> None:
        record = _Record(
            local_id=f"REF{len(self._records) + 1:06d}",
            typed=patient,
            birth_name=patient.birth_name,
            first_name=patient.first_names[0] if patient.first_names else "",
            first_names=" ".join(patient.first_names),
            sex=patient.sex,
            birth_date=patient.birth_date,
            birth_place=patient.birth_place,
        )
        if patient.held_ins is not None:
            record.ins_matricule, record.ins_oid = patient.held_ins.matricule, patient.held_ins.oid
        record.refresh_status()
        self._records[patient.ref] = record

    def record_identity_document(self, ref: str, document: str) -> None:
        record = self._record(ref)
        record.document_checked = True
        record.refresh_status()

    def search_ins(self, ref: str, method: SearchMethod) -> None:
        record = self._record(ref)
        typed = record.typed
        if method == "vitale":
            if typed.vitale is None:
                raise AdapterError("recherche par carte Vitale demandée pour un patient sans carte")
            if "ins.qualify_without_insi" in self.defects and typed.vitale.beneficiary:
                nir = typed.vitale.beneficiary[:13]
                record.ins_matricule, record.ins_oid = nir + _nir_key(nir), _TEST_NIR_OID
                record.refresh_status()
                return
            fields = []
            if typed.vitale.beneficiary:
                fields.append(("MatriculeIndividu/NumIdentifiant", typed.vitale.beneficiary[:13]))
            if typed.vitale.insured:
                fields.append(("MatriculeOD/NumIdentifiant", typed.vitale.insured[:13]))
            fields += [("DateNaissance", typed.birth_date), ("RangNaissance", typed.vitale.rank)]
        else:
            fields = [("NomNaissance", typed.birth_name)]
            fields += [("Prenom", name) for name in typed.first_names[:1]]
            fields += [("Sexe", typed.sex), ("DateNaissance", typed.birth_date)]
            if typed.birth_place:
                fields.append(("LieuNaissance", typed.birth_place))
        self._apply_insi(record, lambda: self._client().call(method, fields))

    def verify_ins(self, ref: str) -> None:
        record = self._record(ref)
        if not record.ins_matricule:
            raise AdapterError("vérification demandée pour un patient sans INS")
        if "ins.skip_verify" in self.defects or self._frozen:
            record.messages.append("INS vérifiée")
            return
        traits = {
            "birth_name": record.birth_name,
            "first_name": record.first_name,
            "sex": record.sex,
            "birth_date": record.birth_date,
            "birth_place": record.birth_place or "",
        }
        try:
            confirmed = self._ins_confirmed(record.ins_matricule, record.ins_oid or "", traits)
        except InsiUnavailable as exc:
            record.messages.append(f"Vérification INSi impossible : {exc}")
            return
        if not confirmed:
            # RNIV: an INS that INSi does not confirm must no longer be used.
            record.messages.append("INS non confirmée par INSi : identité rétrogradée")
            record.ins_matricule = record.ins_oid = None
        record.refresh_status()

    def _ins_confirmed(self, matricule: str, oid: str, traits: dict[str, str]) -> bool:
        """INSi has no verification operation (CNAM WSDL: two searches): a held INS is verified by a traits search on
        the identity it belongs to, whose single answer must be that very INS and OID."""
        fields = [("NomNaissance", traits.get("birth_name", "")), ("Prenom", traits.get("first_name", ""))]
        fields += [("Sexe", traits.get("sex", "")), ("DateNaissance", traits.get("birth_date", ""))]
        if traits.get("birth_place"):
            fields.append(("LieuNaissance", traits["birth_place"]))
        answer = self._client().call("traits", fields)
        return answer.cr == "00" and answer.matricule == matricule and answer.oid == oid

    def produce_document(
        self, ref: str, kind: str, *, business_date: str | None = None, recipients: Sequence[str] = ()
    ) -> Artifact:
        named = () if "cda.recipients_unnamed" in self.defects else tuple(recipients)
        return self._produce(ref, kind, None, business_date, named)

    def _produce(
        self,
        ref: str,
        kind: str,
        replaces: HeldDocument | None,
        business_date: str | None = None,
        recipients: tuple[str, ...] = (),
    ) -> Artifact:
        record = self._record(ref)
        share_ins = record.status == "qualifiee" or (
            "ins.share_unqualified" in self.defects and record.ins_matricule is not None
        )
        oid = record.ins_oid
        if oid and "ins.production_oid" in self.defects:
            oid = _PRODUCTION_OID.get(oid, oid)
        wrong = DocumentDefects(
            schema_order="cda.schema_order" in self.defects,
            no_timezone="cda.no_timezone" in self.defects,
            gender_without_system="cda.gender_without_system" in self.defects,
            author_without_national_id="cda.author_without_national_id" in self.defects,
            body_not_pdf="cda.body_not_pdf" in self.defects,
            vaccine_without_lot="cda.vaccine_without_lot" in self.defects,
            lab_result_unnamed="cda.lab_result_unnamed" in self.defects,
            imaging_without_conclusion="cda.imaging_without_conclusion" in self.defects,
            discharge_without_treatments="cda.discharge_without_treatments" in self.defects,
            prescription_as_pdf="cda.prescription_as_pdf" in self.defects,
        )
        data = build_cda(
            kind,
            RecordTargetData(
                local_id=record.local_id,
                ins_matricule=record.ins_matricule if share_ins else None,
                ins_oid=oid if share_ins else None,
                birth_name=record.birth_name,
                first_name=record.first_name,
                first_names=record.first_names,
                sex=record.sex,
                birth_date=record.birth_date,
                birth_place=record.birth_place,
            ),
            defects=wrong,
            now=_business_moment(business_date)
            if business_date and "dmp.history_dated_today" not in self.defects
            else None,
            replaces=document_identity(replaces.data)[1] if replaces is not None else None,
            recipients=recipients,
        )
        record.produced[kind] = data
        patient = record.dmp_patient()
        if patient is not None and self._dmp is not None and not self._frozen:
            unique_id = document_identity(data)[0]
            held = HeldDocument(kind, data, unique_id, kind)
            patient.documents.append(held)
            self._dmp.feed(patient, held, replaces=replaces, user_request=replaces is not None)
        return Artifact(data=data, media_type="application/xml", name=f"{kind}.xml")

    def open_patient_record(self, ref: str) -> None:
        record = self._record(ref)
        patient = record.dmp_patient()
        if patient is not None and not self._dmp_refused(record) and "dmp.no_access_test" not in self.defects:
            self._dmp_practice().access_test(patient)

    def consult_dmp(self, ref: str, access_mode: str) -> None:
        record = self._record(ref)
        patient = record.dmp_patient()
        if patient is None:
            raise AdapterError("consultation du DMP demandée pour un patient sans identité qualifiée")
        if not self._dmp_refused(record):
            self._dmp_practice().consult(patient, access_mode)

    def _dmp_refused(self, record: _Record) -> bool:
        """The patient opposes access to their DMP: nothing is consulted, and the user is told (not an error)."""
        if not record.dmp_opposed or "dmp.ignores_opposition" in self.defects:
            return False
        record.messages.append("DMP : le patient s'oppose à l'accès à son DMP, aucune consultation")
        return True

    def replace_document(self, ref: str, kind: str) -> Artifact:
        return self._produce(ref, kind, self._own_document(ref, kind))

    def mask_document(self, ref: str, kind: str) -> None:
        document = self._own_document(ref, kind)
        patient = self._record(ref).dmp_patient()
        assert patient is not None  # _own_document found one, so the identity is qualified
        self._dmp_practice().mask(patient, document)

    def delete_document(self, ref: str, kind: str) -> None:
        document = self._own_document(ref, kind)
        patient = self._record(ref).dmp_patient()
        assert patient is not None  # _own_document found one, so the identity is qualified
        self._dmp_practice().delete(patient, document)

    def configure_dmp(self, url: str) -> None:
        self._dmp_practice().configure(url)

    def send_document(self, ref: str, kind: str, recipient: str, *, no_reply: bool = False) -> None:
        record = self._record(ref)
        document = record.produced.get(kind)
        if document is None:
            raise AdapterError(f"aucun document « {kind} » produit pour ce patient")
        if record.mss_opposed and "mss.ignores_opposition" not in self.defects:
            record.messages.append("MSSanté : envoi bloqué, le patient s'oppose à l'envoi de ses documents")
            return
        sent = self._mss_practice().send(self._local(ref, record), document, recipient, no_reply=no_reply)
        record.messages.append(sent)
        if sent.startswith("Message non envoyé") and "mss.outage_freezes" in self.defects:
            self._frozen = True  # the defect: a messaging error leaves the rest of the software stuck

    def check_mailbox(self) -> None:
        self._mss_practice().check_mailbox([self._local(ref, r) for ref, r in self._records.items()])

    def read_received_documents(self) -> ReceivedDocumentsView:
        return self._mss_practice().view()

    def read_dashboard(self) -> DashboardView:
        totals = self._dashboard_totals()
        return DashboardView(counters={k: v - self._dashboard_base.get(k, 0) for k, v in totals.items()})

    def _dashboard_totals(self) -> dict[str, int]:
        """What reached each service since the software started (GEN-003 counts since the practice's reset)."""
        return {
            "dmp_feeds": self._dmp.answered["iti41"] if self._dmp is not None else 0,
            "mss_messages": self._mss.sent if self._mss is not None else 0,
            "insi_calls": self._insi.answered if self._insi is not None else 0,
        }

    def psc_sign_in(self) -> None:
        self._psc_session().sign_in()

    def psc_sign_out(self) -> None:
        self._psc_session().sign_out()

    def _psc_session(self) -> PscSignIn:
        if self._psc is None:
            raise AdapterError("le candidat n'a pas reçu l'adresse de Pro Santé Connect")
        return self._psc

    def reply_to_message(self, message_id: str, subject: str) -> None:
        self._mss_practice().reply(message_id)

    def record_dmp_choice(self, ref: str, choice: str) -> None:
        self._record(ref).dmp_opposed = _opposed(choice)

    def record_mss_choice(self, ref: str, choice: str) -> None:
        self._record(ref).mss_opposed = _opposed(choice)

    def search_dmp(self, ref: str, kind: str, since: str) -> None:
        found = DOCUMENT_KINDS.get(kind)
        if found is None or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", since):
            raise AdapterError("search_dmp : kind (type de document) et since (AAAA-MM-JJ) attendus")
        record = self._record(ref)
        patient = record.dmp_patient()
        if patient is None:
            raise AdapterError("recherche dans le DMP demandée pour un patient sans identité qualifiée")
        if not self._dmp_refused(record):
            self._dmp_practice().search(patient, (found.code, found.code_system), since)

    def find_order_reports(self, ref: str, order: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,30}", order):
            raise AdapterError("find_order_reports : numéro de demande (Order Placer Number) attendu")
        record = self._record(ref)
        patient = record.dmp_patient()
        if patient is None:
            raise AdapterError("recherche dans le DMP demandée pour un patient sans identité qualifiée")
        if not self._dmp_refused(record):
            self._dmp_practice().find_order_reports(patient, order)

    def integrate_dmp_document(self, ref: str, kind: str) -> None:
        found = DOCUMENT_KINDS.get(kind)
        if found is None:
            raise AdapterError(f"integrate_dmp_document : type de document inconnu {kind!r}")
        record = self._record(ref)
        patient = record.dmp_patient()
        if patient is None:
            raise AdapterError("intégration depuis le DMP demandée pour un patient sans identité qualifiée")
        if not self._dmp_refused(record):
            self._dmp_practice().integrate(patient, (found.code, found.code_system))

    def open_dmp_document(self, ref: str, kind: str) -> None:
        found = DOCUMENT_KINDS.get(kind)
        patient = self._record(ref).dmp_patient()
        integrated = [
            d
            for d in (patient.documents if patient else [])
            if d.origin == "dmp" and found is not None and FilingKeys.of(d.data).type_code == found.code
        ]
        if patient is None or not integrated:
            raise AdapterError(f"aucun document « {kind} » intégré du DMP dans ce dossier")
        self._dmp_practice().refresh(patient, integrated[-1])

    def perform(self, action: str, ref: str | None, params: Mapping[str, str]) -> Mapping[str, Any] | None:
        raise AdapterError(f"le candidat de référence ne réalise pas l'action {action}")

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        self._mss_practice().configure(smtp_url, imap_url)

    def _verify_received(self, matricule: str, oid: str, traits: dict[str, str]) -> bool:
        """INSi verification of the identity a received document carries (SC.MSS/UX.03)."""
        try:
            return self._ins_confirmed(matricule, oid, traits)
        except InsiUnavailable:
            return False

    @staticmethod
    def _local(ref: str, record: _Record) -> LocalPatient:
        return LocalPatient(ref, record.status, record.ins_matricule, record.birth_name, record.birth_date)

    def _mss_practice(self) -> MssPractice:
        if self._mss is None:
            raise AdapterError("le candidat n'a pas reçu l'adresse des serveurs MSSanté")
        return self._mss

    def _own_document(self, ref: str, kind: str) -> HeldDocument:
        patient = self._record(ref).dmp_patient()
        own = [d for d in (patient.documents if patient else []) if d.origin == "own" and d.kind == kind]
        if not own:
            raise AdapterError(f"aucun document « {kind} » produit pour ce patient")
        return own[-1]

    def _dmp_practice(self) -> DmpPractice:
        if self._dmp is None:
            raise AdapterError("le candidat n'a pas reçu l'adresse du DMP")
        return self._dmp

    def read_patient_record(self, ref: str) -> PatientRecordView:
        record = self._record(ref)
        return PatientRecordView(
            ref=ref,
            status=record.status,
            birth_name=record.birth_name,
            first_name=record.first_name,
            first_names=record.first_names,
            sex=record.sex,
            birth_date=record.birth_date,
            birth_place=record.birth_place,
            ins_matricule=record.ins_matricule,
            ins_oid=record.ins_oid,
            identity_document_checked=record.document_checked,
            messages=list(record.messages) + (list(record.dmp.messages) if record.dmp else []),
            dmp_access=record.dmp.access if record.dmp else None,
            dmp_state=_dmp_state(record.dmp.access if record.dmp else None, "dmp.state_confused" in self.defects),
            documents=(record.dmp.views(imports_dated_on_receipt=self._dated_on_receipt) if record.dmp else [])
            + self._received_views(ref),
        )

    def _received_views(self, ref: str) -> list[DocumentView]:
        """Documents received over MSSanté and filed in this record, shown as external (SC.MSS/CDA.06)."""
        if self._mss is None:
            return []
        origin: Literal["own", "mss"] = "own" if "mss.received_shown_as_own" in self.defects else "mss"
        views = []
        for d in self._mss.filed:
            if d.patient_ref != ref or not d.unique_id:
                continue
            keys = FilingKeys.of(self._mss.documents.get(d.unique_id, b""), dated_on_receipt=self._dated_on_receipt)
            replaced_by = self._mss.replaced.get(d.unique_id)
            views.append(
                DocumentView(
                    d.unique_id,
                    d.subject or "",
                    origin,
                    "non_partage",
                    keys.type_code,
                    keys.date,
                    keys.author,
                    replaced_by=replaced_by,
                )
            )
        return views

    @property
    def _dated_on_receipt(self) -> bool:
        return "cda.imports_dated_on_receipt" in self.defects

    # internals -----------------------------------------------------------------------------------------
    def _record(self, ref: str) -> _Record:
        try:
            return self._records[ref]
        except KeyError:
            raise AdapterError(f"patient inconnu du candidat : {ref}") from None

    def _client(self) -> InsiClient:
        if self._insi is None:
            raise AdapterError("le candidat n'a pas été démarré")
        return self._insi

    def _apply_insi(self, record: _Record, call: Callable[[], InsiAnswer]) -> None:
        """Apply an INSi answer to the record per the RNIV rules (and the defects switched on)."""
        try:
            answer = call()
        except InsiUnavailable as exc:
            record.messages.append(f"Téléservice INSi indisponible : {exc}")
            if "ins.ignore_fault" in self.defects and record.typed.vitale and record.typed.vitale.beneficiary:
                nir = record.typed.vitale.beneficiary[:13]
                record.ins_matricule, record.ins_oid = nir + _nir_key(nir), _TEST_NIR_OID
                record.refresh_status()
            return
        if answer.cr == "00" and answer.matricule:
            matricule = answer.matricule
            if "ins.corsica_key" in self.defects:
                matricule = matricule[:13] + _nir_key_without_corsica_rule(matricule[:13])
            record.ins_matricule, record.ins_oid = matricule, answer.oid
            if "ins.keep_typed_traits" not in self.defects:
                record.birth_name = answer.birth_name or record.birth_name
                record.first_name = answer.first_name or record.first_name
                record.first_names = answer.first_names or record.first_names
                record.sex = answer.sex or record.sex
                record.birth_date = answer.birth_date or record.birth_date
                record.birth_place = answer.birth_place or record.birth_place
            record.refresh_status()
        elif answer.cr == "02" and "ins.qualify_on_multiple" in self.defects:
            record.status = "qualifiee"
        else:
            record.messages.append(f"INSi : retour {answer.cr}, identité non qualifiable")
