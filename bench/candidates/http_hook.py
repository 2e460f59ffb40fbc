"""The ``http-hook`` adapter: drives a vendor's software through the small HTTP service it exposes
(``bench/candidates/api/candidate-api.yaml``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from bench.candidates.api.models import (
    ApiDashboard,
    ApiDocument,
    ApiPatientRecord,
    ApiReceivedDocuments,
    dashboard_view,
    received_view,
    record_view,
)
from bench.candidates.base import (
    AdapterError,
    Artifact,
    Capability,
    DashboardView,
    Environment,
    PatientInput,
    PatientRecordView,
    ReceivedDocumentsView,
    SearchMethod,
)


class HttpHookAdapter:
    """Calls ``base_url`` for every action; any transport error or non-2xx answer is an AdapterError."""

    name = "http-hook"
    capabilities: frozenset[Capability] = frozenset({"settles"})

    def __init__(self, base_url: str, *, timeout: float = 60.0, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)
        self._says_settled = True  # until the service shows it does not implement the optional operation

    def settled(self, timeout: float) -> bool:
        """The service's own answer (API 1.2, optional): without the operation, or on any doubt, False (the bench
        then waits the whole window)."""
        if not self._says_settled:
            return False
        try:
            response = self._http.get("/v1/session/settled", params={"timeout": f"{min(timeout, 5.0):.3f}"})
        except httpx.HTTPError:
            return False
        if response.status_code in (404, 405, 501):
            self._says_settled = False
            return False
        try:
            return response.status_code == 200 and response.json().get("settled") is True
        except (ValueError, AttributeError):
            return False

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise AdapterError(f"service du candidat injoignable ({method} {path}) : {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text[:500]
            raise AdapterError(f"{method} {path} : HTTP {response.status_code} : {detail}")
        return response

    def start(self, environment: Environment) -> None:
        self._call(
            "POST",
            "/v1/session/start",
            {
                **{key: value or None for key, value in environment.endpoints.items()},  # each domain's endpoints
                "ca_pem": Path(environment.ca_file).read_text(),
                "client_cert_pem": Path(environment.client_cert_file).read_text(),
                "client_key_pem": Path(environment.client_key_file).read_text(),
            },
        )

    def stop(self) -> None:
        try:
            self._call("POST", "/v1/session/stop")
        finally:
            self._http.close()

    def reset(self) -> None:
        self._call("POST", "/v1/session/reset")

    def register_patient(self, patient: PatientInput) -> None:
        self._call("POST", "/v1/patients", asdict(patient))

    def record_identity_document(self, ref: str, document: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/identity-document", {"document": document})

    def search_ins(self, ref: str, method: SearchMethod) -> None:
        self._call("POST", f"/v1/patients/{ref}/ins-search", {"method": method})

    def verify_ins(self, ref: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/ins-verification")

    def produce_document(
        self, ref: str, kind: str, *, business_date: str | None = None, recipients: Sequence[str] = ()
    ) -> Artifact:
        body: dict[str, object] = {"kind": kind}
        if business_date:
            body["business_date"] = business_date  # 1.4: a historical document
        if recipients:
            body["recipients"] = list(recipients)  # 1.4: the correspondents it is written to
        return self._document(self._call("POST", f"/v1/patients/{ref}/documents", body))

    @staticmethod
    def _document(response: httpx.Response) -> Artifact:
        try:
            document = ApiDocument.model_validate_json(response.content)
            data = base64.b64decode(document.content_base64, validate=True)
        except (ValidationError, ValueError) as exc:
            raise AdapterError(f"document renvoyé non conforme à l'API : {exc}") from exc
        return Artifact(data=data, media_type=document.media_type, name=document.name)

    def read_patient_record(self, ref: str) -> PatientRecordView:
        response = self._call("GET", f"/v1/patients/{ref}/record")
        try:
            record = ApiPatientRecord.model_validate_json(response.content)
        except ValidationError as exc:
            raise AdapterError(f"dossier renvoyé non conforme à l'API : {exc}") from exc
        return record_view(record)

    def open_patient_record(self, ref: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/opening")

    def consult_dmp(self, ref: str, access_mode: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-consultation", {"access_mode": access_mode})

    def replace_document(self, ref: str, kind: str) -> Artifact:
        return self._document(self._call("POST", f"/v1/patients/{ref}/documents/{kind}/replacement"))

    def mask_document(self, ref: str, kind: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/documents/{kind}/masking")

    def delete_document(self, ref: str, kind: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/documents/{kind}/deletion")

    def integrate_dmp_document(self, ref: str, kind: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-documents/{kind}/integration")

    def open_dmp_document(self, ref: str, kind: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-documents/{kind}/opening")

    def configure_dmp(self, url: str) -> None:
        self._call("POST", "/v1/session/dmp-endpoint", {"dmp_url": url})

    def send_document(self, ref: str, kind: str, recipient: str, *, no_reply: bool = False) -> None:
        body: dict[str, object] = {"recipient": recipient}
        if no_reply:
            body["no_reply"] = True  # API 1.3: a service written for 1.2 never sees the field it does not know
        self._call("POST", f"/v1/patients/{ref}/documents/{kind}/sending", body)

    def check_mailbox(self) -> None:
        self._call("POST", "/v1/mailbox/check")

    def reply_to_message(self, message_id: str, subject: str) -> None:
        self._call("POST", "/v1/mailbox/reply", {"message_id": message_id, "subject": subject})

    def record_dmp_choice(self, ref: str, choice: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-choice", {"choice": choice})

    def record_mss_choice(self, ref: str, choice: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/mss-choice", {"choice": choice})

    def search_dmp(self, ref: str, kind: str, since: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-search", {"kind": kind, "since": since})

    def find_order_reports(self, ref: str, order: str) -> None:
        self._call("POST", f"/v1/patients/{ref}/dmp-order-reports", {"order": order})

    def psc_sign_in(self) -> None:
        self._call("POST", "/v1/session/psc-sign-in")

    def psc_sign_out(self) -> None:
        self._call("POST", "/v1/session/psc-sign-out")

    def read_received_documents(self) -> ReceivedDocumentsView:
        response = self._call("GET", "/v1/mailbox/received-documents")
        try:
            return received_view(ApiReceivedDocuments.model_validate_json(response.content))
        except ValidationError as exc:
            raise AdapterError(f"file de réception non conforme à l'API : {exc}") from exc

    def read_dashboard(self) -> DashboardView:
        response = self._call("GET", "/v1/dashboard")
        try:
            return dashboard_view(ApiDashboard.model_validate_json(response.content))
        except (ValidationError, ValueError) as exc:
            raise AdapterError(f"tableau de bord non conforme à l'API : {exc}") from exc

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        self._call("POST", "/v1/session/mss-endpoints", {"smtp_url": smtp_url, "imap_url": imap_url})

    def perform(self, action: str, ref: str | None, params: Mapping[str, str]) -> Mapping[str, Any] | None:
        """POST /v1/actions/{action} with the patient and parameters; 204 or a JSON object."""
        response = self._call("POST", f"/v1/actions/{action}", {"ref": ref, "params": dict(params)})
        if response.status_code == 204 or not response.content:
            return None
        try:
            answer = response.json()
        except ValueError as exc:
            raise AdapterError(f"{action} : réponse illisible : {exc}") from exc
        if not isinstance(answer, dict):
            raise AdapterError(f"{action} : un objet JSON était attendu")
        return answer
