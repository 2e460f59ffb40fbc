"""Pydantic models of the candidate hook API; they mirror ``candidate-api.yaml`` (a test keeps the two in step)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bench.candidates.base import (
    DashboardView,
    DocumentView,
    Notification,
    PatientRecordView,
    ReceivedDocument,
    ReceivedDocumentsView,
)
from bench.fixtures.kinds import DocumentKindName

REF_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiError(_Strict):
    error: str


class ApiEnvironment(BaseModel):
    """The start body: the PEM material, and each domain's endpoints (further domains add their own keys)."""

    model_config = ConfigDict(extra="allow")

    insi_url: str
    dmp_url: str | None = None
    mss_smtp_url: str | None = None
    mss_imap_url: str | None = None
    mss_address: str | None = None
    mss_password: str | None = None
    ca_pem: str
    client_cert_pem: str
    client_key_pem: str


class ApiVitaleReading(_Strict):
    beneficiary: str | None = Field(default=None, pattern=r"^[0-9][0-9AB0-9]{12}")
    insured: str | None = Field(default=None, pattern=r"^[0-9][0-9AB0-9]{12}")
    rank: str = Field(default="1", pattern=r"^[0-9]{1,2}$")


class ApiHeldIns(_Strict):
    matricule: str = Field(pattern=r"^[0-9][0-9AB]{14}$|^[0-9]{15}$")
    oid: str = Field(pattern=r"^[0-9]+(\.[0-9]+)*$")


class ApiPatient(_Strict):
    ref: str = Field(pattern=REF_PATTERN)
    birth_name: str = Field(min_length=1, max_length=200)
    first_names: list[str] = Field(min_length=1, max_length=10)
    sex: Literal["M", "F"]
    birth_date: str = Field(pattern=DATE_PATTERN)
    birth_place: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]{3}$")
    vitale: ApiVitaleReading | None = None
    held_ins: ApiHeldIns | None = None


class ApiIdentityDocument(_Strict):
    document: str = Field(min_length=1, max_length=200)


class ApiInsSearch(_Strict):
    method: Literal["traits", "vitale"]


class ApiDocumentRequest(_Strict):
    kind: DocumentKindName
    business_date: str | None = Field(default=None, pattern=DATE_PATTERN)  # 1.4: a historical document's date
    recipients: list[str] = Field(default_factory=list, max_length=10)  # 1.4: the correspondents it is written to


class ApiDocument(_Strict):
    name: str
    media_type: str
    content_base64: str


class ApiPatientRecord(_Strict):
    ref: str
    status: Literal["provisoire", "recuperee", "validee", "qualifiee"]
    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str = Field(pattern=DATE_PATTERN)
    birth_place: str | None = None
    ins_matricule: str | None = None
    ins_oid: str | None = None
    identity_document_checked: bool = False
    messages: list[str] = Field(default_factory=list)
    dmp_access: str | None = None
    dmp_state: Literal["actif", "absent", "non_autorise", "ferme"] | None = None  # 1.4
    documents: list[ApiHeldDocument] = Field(default_factory=list)


class ApiHeldDocument(_Strict):
    unique_id: str
    title: str
    origin: Literal["own", "dmp", "mss"]
    dmp_status: str
    type_code: str | None = None  # 1.5
    date: str | None = Field(None, pattern=DATE_PATTERN)  # 1.5
    author: str | None = None  # 1.5
    replaced_by: str | None = None  # 1.5
    dmp_change: Literal["remplace", "supprime"] | None = None  # 1.5


class ApiDmpConsultation(_Strict):
    access_mode: Literal["normal", "bris_de_glace"]


class ApiDmpEndpoint(_Strict):
    dmp_url: str


class ApiMssSending(_Strict):
    recipient: str = Field(min_length=1, max_length=320)
    no_reply: bool = False


class ApiPatientChoice(_Strict):
    choice: Literal["opposition", "accord"]


class ApiDmpSearch(_Strict):
    kind: DocumentKindName
    since: str = Field(pattern=DATE_PATTERN)


class ApiOrderReports(_Strict):
    order: str = Field(pattern=r"^[A-Za-z0-9-]{1,30}$")  # 1.6: an imaging request's order placer number


class ApiMssReply(_Strict):
    message_id: str = Field(min_length=3, max_length=998)
    subject: str = Field(default="", max_length=998)


class ApiMssEndpoints(_Strict):
    smtp_url: str
    imap_url: str


class ApiReceivedDocument(_Strict):
    message_id: str
    unique_id: str | None = None
    patient_ref: str | None = None
    reason: str | None = None
    subject: str | None = Field(default=None, max_length=998)
    type_code: str | None = Field(default=None, max_length=64)


class ApiNotification(_Strict):
    original_message_id: str = Field(min_length=1, max_length=998)
    kind: Literal["remise", "echec", "lecture"]
    recipient: str = Field(max_length=320)
    reason: str | None = Field(default=None, max_length=2000)


class ApiReceivedDocuments(_Strict):
    filed: list[ApiReceivedDocument] = Field(default_factory=list)
    pending: list[ApiReceivedDocument] = Field(default_factory=list)
    notifications: list[ApiNotification] = Field(default_factory=list)  # API 1.4


class ApiDashboard(BaseModel):
    """The dashboard's counts by counter key (``dmp_feeds``, ``mss_messages``, ``insi_calls``; further domains add
    theirs)."""

    model_config = ConfigDict(extra="allow")

    def counters(self) -> dict[str, int]:
        extra = self.model_extra or {}
        bad = [k for k, v in extra.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0]
        if bad:
            raise ValueError(f"compteurs non entiers : {', '.join(sorted(bad))}")
        return {str(k): int(v) for k, v in extra.items()}


def dashboard_view(answer: ApiDashboard) -> DashboardView:
    return DashboardView(counters=answer.counters())


def received_view(received: ApiReceivedDocuments) -> ReceivedDocumentsView:
    return ReceivedDocumentsView(
        filed=[ReceivedDocument(**d.model_dump()) for d in received.filed],
        pending=[ReceivedDocument(**d.model_dump()) for d in received.pending],
        notifications=[Notification(**n.model_dump()) for n in received.notifications],
    )


def record_view(record: ApiPatientRecord) -> PatientRecordView:
    """The adapters' view of a record the API returned."""
    fields = record.model_dump(exclude={"documents"})
    documents = [DocumentView(**d.model_dump()) for d in record.documents]
    return PatientRecordView(**fields, documents=documents)


PEM_FIELDS = ("ca_pem", "client_cert_pem", "client_key_pem")


def environment_endpoints(env: ApiEnvironment) -> dict[str, str]:
    """Every endpoint of the start body (the known fields and those of further domains), without the PEM material."""
    values = env.model_dump(exclude=set(PEM_FIELDS))
    return {key: value for key, value in values.items() if isinstance(value, str) and value}


class ApiAction(_Strict):
    """The generic action body: the patient, if the action is about one, and the action's parameters."""

    ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    params: dict[str, str] = Field(default_factory=dict)
