"""The action vocabulary every candidate adapter implements.

This is the contract between the bench and a candidate software: the runner asks for business actions a
professional would perform ("register this patient", "look up the INS", "produce the consultation report"),
and the candidate performs them against the simulators over the network. Read-only queries
(``read_patient_record``) let the bench see what the software stored. docs/candidate-actions.md documents it.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

IdentityStatus = Literal["provisoire", "recuperee", "validee", "qualifiee"]
IDENTITY_STATUSES: tuple[str, ...] = get_args(IdentityStatus)
SearchMethod = Literal["traits", "vitale"]


class AdapterError(RuntimeError):
    """The adapter could not get the candidate to perform an action (the bench cannot judge: ``error``)."""


class ActionNotPerformed(AdapterError):
    """The person at the keyboard says they could not do the action in the software (operator mode): its own
    outcome, counted and listed in the report; what the step would have proven is not tested, never a bench error."""


@dataclass(frozen=True)
class VitaleReading:
    """What the software reads from the patient's Vitale card."""

    beneficiary: str | None = None
    insured: str | None = None
    rank: str = "1"


@dataclass(frozen=True)
class HeldIns:
    """An INS the software already holds for the patient (from an earlier qualification)."""

    matricule: str
    oid: str


@dataclass(frozen=True)
class PatientInput:
    """A patient as a professional registers them: traits as typed, optionally a card and a held INS."""

    ref: str
    birth_name: str
    first_names: list[str]
    sex: str
    birth_date: str
    birth_place: str | None = None
    vitale: VitaleReading | None = None
    held_ins: HeldIns | None = None


@dataclass(frozen=True)
class DocumentView:
    """A document the software holds in a patient's record: its own, one integrated from the DMP, or one received over
    MSSanté (``mss``, API 1.4): how the record tells internal from external documents."""

    unique_id: str
    title: str
    origin: Literal["own", "dmp", "mss"]
    # own documents: "alimente", "en_attente", "a_envoyer", "refuse", "non_partage", "supprime"; integrated: "integre"
    dmp_status: str
    # How the record files and sorts it (API 1.5; SC.CDA/INT.04, SC.DMP/UX.38): its type (the CDA code), its date (the
    # CDA effectiveTime's day, YYYY-MM-DD) and its author as shown; None when the software does not say.
    type_code: str | None = None
    date: str | None = None
    author: str | None = None
    # A newer version that replaced it, the old one being kept (API 1.5; SC.MSS/CDA.03): the new version's unique id.
    replaced_by: str | None = None
    # What the DMP now says of a document integrated from it (API 1.5; SC.DMP/UX.39-42): "remplace" (a newer version
    # was published), "supprime" (no longer in the DMP); None: unchanged, or not checked.
    dmp_change: str | None = None


@dataclass(frozen=True)
class PatientRecordView:
    """What the software holds for a patient, as its read-only query answers."""

    ref: str
    status: IdentityStatus
    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str
    birth_place: str | None
    ins_matricule: str | None = None
    ins_oid: str | None = None
    identity_document_checked: bool = False
    messages: list[str] = field(default_factory=list)
    dmp_access: str | None = None  # what the last DMP access test said ("autorise", "refus:...")
    # What the record shows of the patient's DMP with no click (API 1.4): "actif", "absent", "non_autorise", "ferme";
    # None when the software does not say (an operator reads the screen).
    dmp_state: str | None = None
    # Documents held; None when the adapter cannot list them (a person reads the screen): not judged, never "none".
    documents: list[DocumentView] | None = field(default_factory=list)


@dataclass(frozen=True)
class ReceivedDocument:
    """A document received over MSSanté, as the software's reception queue shows it."""

    message_id: str  # the Message-ID of the mail that carried it
    unique_id: str | None  # the CDA's id (root^extension) when the package could be read
    patient_ref: str | None  # the record it is filed in; None while it awaits matching
    reason: str | None = None  # why it awaits matching (unknown patient, ambiguous, unreadable package...)
    subject: str | None = None  # the message's subject as the list shows it (API 1.4)
    type_code: str | None = None  # the sub-folder it is filed in: its document type (CDA code, XDS typeCode; API 1.4)


@dataclass(frozen=True)
class Notification:
    """A delivery or read notification the software received for a message it sent, as it shows it."""

    original_message_id: str  # the Message-ID of the message it reports on
    kind: str  # "remise" (DSN delivered), "echec" (DSN failed), "lecture" (MDN displayed)
    recipient: str  # who it was delivered to, failed for, or read by
    reason: str | None = None  # for a failure: why, as shown to the user


@dataclass(frozen=True)
class ReceivedDocumentsView:
    """The read-only reception query: what was filed in which record, what awaits matching by a person, and the
    delivery and read notifications shown with the messages they report on."""

    filed: list[ReceivedDocument] = field(default_factory=list)
    pending: list[ReceivedDocument] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


@dataclass
class DashboardView:
    """The read-only dashboard query (GEN-003): each count the software shows, by the domains' counter keys
    (``dmp_feeds``, ``mss_messages``, ``insi_calls``...), since the practice was last reset."""

    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    """Bytes the candidate produced (a document, a message) and hands to the bench."""

    data: bytes
    media_type: str
    name: str


@dataclass(frozen=True)
class Environment:
    """Where the simulators are and how to reach them, given to the adapter before any action. ``endpoints`` holds
    what each domain gives the candidate, by key (``insi_url``, ``dmp_url``, ``mss_smtp_url``...: the candidate
    API's names; MSSanté URLs in curl's spelling, smtp:// and imap:// meaning STARTTLS); ``labels`` describes each
    for a person."""

    client_tls: ssl.SSLContext | None
    ca_file: str
    client_cert_file: str
    client_key_file: str
    endpoints: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        """The endpoint ``key``, or an empty string when no registered domain gives it."""
        return self.endpoints.get(key, "")


# Optional capabilities an adapter declares (never probed): ``attest``, a person answers the operator checklists;
# ``waiting``, a person is shown a countdown while the bench waits for an exchange; ``settles``, the candidate can
# say when it has finished everything it started (so that a window in which nothing must come can end early).
Capability = Literal["attest", "waiting", "settles"]


class CandidateAdapter(Protocol):
    """What a candidate adapter must answer. Every method may raise AdapterError."""

    name: str
    capabilities: frozenset[Capability]

    def start(self, environment: Environment) -> None: ...

    def stop(self) -> None: ...

    def reset(self) -> None:
        """Forget every patient (each scenario starts from an empty practice)."""
        ...

    def register_patient(self, patient: PatientInput) -> None: ...

    def record_identity_document(self, ref: str, document: str) -> None:
        """The professional checked a high-trust identity document (RNIV: passport, ID card, residence permit)."""
        ...

    def search_ins(self, ref: str, method: SearchMethod) -> None:
        """The professional asks for the patient's INS (INSi search by traits or by Vitale card)."""
        ...

    def verify_ins(self, ref: str) -> None:
        """The professional asks to verify the INS the software holds (INSi verification)."""
        ...

    def produce_document(
        self, ref: str, kind: str, *, business_date: str | None = None, recipients: Sequence[str] = ()
    ) -> Artifact:
        """The professional produces a document for the patient; the bench gets its bytes. With ``business_date``
        (YYYY-MM-DD), a historical document: dated of that day (its production or validation), not of today. With
        ``recipients`` (MSSanté addresses), the correspondents it is written to: each named in it."""
        ...

    def read_patient_record(self, ref: str) -> PatientRecordView: ...

    def open_patient_record(self, ref: str) -> None:
        """The professional opens the patient's record (wave 2: the DMP access test runs with no click)."""
        ...

    def consult_dmp(self, ref: str, access_mode: str) -> None:
        """The professional consults the patient's DMP from the record (``normal`` or ``bris_de_glace``) and the
        software integrates what it retrieves."""
        ...

    def replace_document(self, ref: str, kind: str) -> Artifact:
        """The professional corrects the last document of ``kind``: a new version replaces it."""
        ...

    def mask_document(self, ref: str, kind: str) -> None:
        """The professional asks that the last document of ``kind`` be masked to other professionals."""
        ...

    def delete_document(self, ref: str, kind: str) -> None:
        """The professional deletes from the DMP the last document of ``kind`` the software sent (TD3.3c: ITI-57 to
        the Deleted status); the record then shows it deleted."""
        ...

    def integrate_dmp_document(self, ref: str, kind: str) -> None:
        """The professional picks, in the list of the patient's DMP, its document of ``kind`` and integrates it in the
        record, filed by its CDA metadata; one already integrated is not taken again (a warning, no second copy)."""
        ...

    def open_dmp_document(self, ref: str, kind: str) -> None:
        """The professional opens the document of ``kind`` integrated from the DMP: the software asks the DMP about it
        by its unique id and, if it was replaced or deleted there since, says so and offers to follow (the record's
        ``dmp_change``)."""
        ...

    def configure_dmp(self, url: str) -> None:
        """The DMP endpoint the software must use from now on (the bench may point it to a rogue server)."""
        ...

    def send_document(self, ref: str, kind: str, recipient: str, *, no_reply: bool = False) -> None:
        """The professional sends the last document of ``kind`` over MSSanté to ``recipient``: an MSSanté address,
        or ``patient`` for the patient's *Mon espace santé* mailbox (the software forms it from the INS); with
        ``no_reply``, the professional does not want the patient to answer (``X-MSS-MES: FIN``, SC.MSS/CONF.21)."""
        ...

    def check_mailbox(self) -> None:
        """The software reads its MSSanté mailbox (IMAP) and integrates what it received."""
        ...

    def reply_to_message(self, message_id: str, subject: str) -> None:
        """The professional answers, in plain text over MSSanté, the received message ``message_id`` (``subject``
        to find it on screen); the answer names it (``In-Reply-To``, ``References``, RFC 5322 §3.6.4)."""
        ...

    def record_dmp_choice(self, ref: str, choice: str) -> None:
        """Record the patient's ``opposition`` to professionals' access to their DMP, or their ``accord`` that lifts
        it. While opposed, no consultation transaction leaves for them; a refusal is told to the user (no error)."""
        ...

    def record_mss_choice(self, ref: str, choice: str) -> None:
        """Record the patient's ``opposition`` to sending their documents by secure messaging, or their ``accord``
        that lifts it. While opposed, no message about them leaves; a blocked sending is told to the user."""
        ...

    def search_dmp(self, ref: str, kind: str, since: str) -> None:
        """Search the patient's DMP for documents of ``kind`` created since ``since`` (YYYY-MM-DD): the ITI-18
        itself carries both criteria (TD3.1)."""
        ...

    def find_order_reports(self, ref: str, order: str) -> None:
        """Find in the patient's DMP the imaging reports of the imaging request ``order`` (its order placer number):
        one ITI-18 FindDocuments selecting that reference (``$XDSDocumentEntryReferenceIdList``, DB/RIS.16)."""
        ...

    def read_received_documents(self) -> ReceivedDocumentsView:
        """Read-only: which received documents are filed in which record, and which await matching."""
        ...

    def read_dashboard(self) -> DashboardView:
        """Read-only: the counts the software's dashboard shows since the practice was reset (DMP feeds, MSSanté
        messages, INSi calls: one per call that reached the service, whatever its answer)."""
        ...

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        """The MSSanté servers the software must use from now on (the bench may point it to rogue servers)."""
        ...

    def psc_sign_in(self) -> None:
        """The professional signs in to the software through Pro Santé Connect (CIBA on the card or the e-CPS
        application, or the code flow with PKCE); from then on the DMP and MSSanté are reached with that identity."""
        ...

    def psc_sign_out(self) -> None:
        """The professional signs out from the software: the Pro Santé Connect session ends."""
        ...

    def perform(self, action: str, ref: str | None, params: Mapping[str, str]) -> Mapping[str, Any] | None:
        """An action with no dedicated method (a domain added to the bench): ``action`` by its registry name, about
        patient ``ref`` (if any), with its validated parameters; the answer is JSON, or None."""
        ...


class AttestingAdapter(CandidateAdapter, Protocol):
    """An adapter with the ``attest`` capability."""

    def attest(self, requirement_id: str, title: str, checklist: list[str]) -> list[tuple[str, bool, str]]: ...


class Waiting(Protocol):
    """A wait a person follows: they can end it (done, or cannot do it) and are told how it ended."""

    def stopped(self) -> bool:
        """Whether the person has said they are done (Enter): waiting longer would not help."""
        ...

    def ended(self, received: str | None, waited_s: float, *, must_come: bool) -> bool:
        """Tell the person what came (``received``: what arrived, or None); when an exchange that must come did not,
        True if they ask to wait again."""
        ...


class WaitingAdapter(CandidateAdapter, Protocol):
    """An adapter with the ``waiting`` capability: a person acts, at a person's pace."""

    patience: float  # how long a person is given for an exchange that must come (``operator_timeout``)

    def at_step(self, where: str) -> None:
        """Where the campaign is (``INS-SC-01 (1/8) · étape 3/10 : …``), for the person to see in every panel."""
        ...

    def waiting(self, what: str, seconds: float) -> AbstractContextManager[Waiting]: ...


class SettlingAdapter(CandidateAdapter, Protocol):
    """An adapter with the ``settles`` capability."""

    def settled(self, timeout: float) -> bool:
        """True once the candidate has finished everything it started, in the last action or on its own (calls in
        flight, background retries), so that nothing more will reach a simulator unless the bench asks; False when
        it cannot say so within ``timeout`` seconds (the bench then waits the whole window). Never a guess."""
        ...
