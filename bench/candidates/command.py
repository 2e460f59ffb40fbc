"""The ``command`` adapter: one shell command template per action, for vendors who drive their software from
scripts. Each command gets the action's data as JSON on standard input and in ``SEGUR_*`` environment variables;
``produce_document`` and ``read_patient_record`` print JSON on standard output in the shapes of the candidate API
(``Document``, ``PatientRecord``). A non-zero exit, a timeout or unreadable output is an AdapterError."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError

from bench.actions import registry as actions
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

OPTIONAL = ("start", "stop", "reset")


def known_actions() -> tuple[str, ...]:
    """What a command may be configured for: the lifecycle and every action the candidate performs."""
    return (*OPTIONAL, *(name for name, spec in actions.all_actions().items() if spec.by == "candidate"))


PLACEHOLDER = re.compile(r"\{(ref|method|kind|document)\}")


class CommandAdapter:
    """``templates`` maps action names to shell command templates; ``{ref}``, ``{method}``, ``{kind}`` and
    ``{document}`` are replaced by shell-quoted values."""

    name = "command"
    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, templates: dict[str, str], *, timeout: float = 120.0, cwd: str | None = None) -> None:
        unknown = set(templates) - set(known_actions())
        if unknown:
            raise AdapterError(f"actions inconnues dans la configuration : {', '.join(sorted(unknown))}")
        self._templates = templates
        self._timeout = timeout
        self._cwd = cwd
        self._env: dict[str, str] = {}

    def _run(self, action: str, payload: dict[str, Any], **values: str) -> str:
        template = self._templates.get(action)
        if template is None:
            if action in OPTIONAL:
                return ""
            raise AdapterError(f"aucune commande configurée pour l'action {action}")
        # Only the documented placeholders are replaced: other braces (JSON, shell) stay as written.
        command = PLACEHOLDER.sub(
            lambda m: shlex.quote(values[m.group(1)]) if m.group(1) in values else m.group(0), template
        )
        env = {**os.environ, **self._env, "SEGUR_ACTION": action}
        try:
            completed = subprocess.run(
                command,
                shell=True,
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                timeout=self._timeout,
                env=env,
                cwd=self._cwd,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AdapterError(f"{action} : la commande n'a pas fini en {self._timeout:g} s") from exc
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip()[-500:]
            raise AdapterError(f"{action} : la commande a échoué (code {completed.returncode}) : {tail}")
        return completed.stdout

    def start(self, environment: Environment) -> None:
        files = {
            "ca_file": environment.ca_file,
            "client_cert_file": environment.client_cert_file,
            "client_key_file": environment.client_key_file,
        }
        given = {**environment.endpoints, **files}  # each domain's endpoints, by the candidate API's names
        self._env = {f"SEGUR_{key.upper()}": value for key, value in given.items()}
        self._run("start", given)

    def stop(self) -> None:
        self._run("stop", {})

    def reset(self) -> None:
        self._run("reset", {})

    def register_patient(self, patient: PatientInput) -> None:
        self._run("register_patient", asdict(patient), ref=patient.ref)

    def record_identity_document(self, ref: str, document: str) -> None:
        self._run("record_identity_document", {"document": document}, ref=ref, document=document)

    def search_ins(self, ref: str, method: SearchMethod) -> None:
        self._run("search_ins", {"method": method}, ref=ref, method=method)

    def verify_ins(self, ref: str) -> None:
        self._run("verify_ins", {}, ref=ref)

    def produce_document(
        self, ref: str, kind: str, *, business_date: str | None = None, recipients: Sequence[str] = ()
    ) -> Artifact:
        said: dict[str, object] = {"kind": kind, **({"business_date": business_date} if business_date else {})}
        if recipients:
            said["recipients"] = list(recipients)
        return self._document(self._run("produce_document", said, ref=ref, kind=kind), "produce_document")

    @staticmethod
    def _document(output: str, action: str) -> Artifact:
        try:
            document = ApiDocument.model_validate_json(output)
            data = base64.b64decode(document.content_base64, validate=True)
        except (ValidationError, ValueError) as exc:
            raise AdapterError(f"{action} : sortie non conforme (JSON Document attendu) : {exc}") from exc
        return Artifact(data=data, media_type=document.media_type, name=document.name)

    def read_patient_record(self, ref: str) -> PatientRecordView:
        output = self._run("read_patient_record", {}, ref=ref)
        try:
            record = ApiPatientRecord.model_validate_json(output)
        except ValidationError as exc:
            raise AdapterError(
                f"read_patient_record : sortie non conforme (JSON PatientRecord attendu) : {exc}"
            ) from exc
        return record_view(record)

    def open_patient_record(self, ref: str) -> None:
        self._run("open_patient_record", {}, ref=ref)

    def consult_dmp(self, ref: str, access_mode: str) -> None:
        self._run("consult_dmp", {"access_mode": access_mode}, ref=ref, mode=access_mode)

    def replace_document(self, ref: str, kind: str) -> Artifact:
        return self._document(self._run("replace_document", {"kind": kind}, ref=ref, kind=kind), "replace_document")

    def mask_document(self, ref: str, kind: str) -> None:
        self._run("mask_document", {"kind": kind}, ref=ref, kind=kind)

    def delete_document(self, ref: str, kind: str) -> None:
        self._run("delete_document", {"kind": kind}, ref=ref, kind=kind)

    def integrate_dmp_document(self, ref: str, kind: str) -> None:
        self._run("integrate_dmp_document", {"kind": kind}, ref=ref, kind=kind)

    def open_dmp_document(self, ref: str, kind: str) -> None:
        self._run("open_dmp_document", {"kind": kind}, ref=ref, kind=kind)

    def configure_dmp(self, url: str) -> None:
        self._run("configure_dmp", {"dmp_url": url}, url=url)

    def send_document(self, ref: str, kind: str, recipient: str, *, no_reply: bool = False) -> None:
        said = {"kind": kind, "recipient": recipient, "no_reply": no_reply}
        self._run("send_document", said, ref=ref, kind=kind, recipient=recipient)

    def check_mailbox(self) -> None:
        self._run("check_mailbox", {})

    def reply_to_message(self, message_id: str, subject: str) -> None:
        self._run("reply_to_message", {"message_id": message_id, "subject": subject})

    def record_dmp_choice(self, ref: str, choice: str) -> None:
        self._run("record_dmp_choice", {"choice": choice}, ref=ref)

    def record_mss_choice(self, ref: str, choice: str) -> None:
        self._run("record_mss_choice", {"choice": choice}, ref=ref)

    def search_dmp(self, ref: str, kind: str, since: str) -> None:
        self._run("search_dmp", {"kind": kind, "since": since}, ref=ref, kind=kind)

    def find_order_reports(self, ref: str, order: str) -> None:
        self._run("find_order_reports", {"order": order}, ref=ref)

    def psc_sign_in(self) -> None:
        self._run("psc_sign_in", {})

    def psc_sign_out(self) -> None:
        self._run("psc_sign_out", {})

    def read_received_documents(self) -> ReceivedDocumentsView:
        output = self._run("read_received_documents", {})
        try:
            return received_view(ApiReceivedDocuments.model_validate_json(output))
        except ValidationError as exc:
            raise AdapterError(
                f"read_received_documents : sortie non conforme (JSON ReceivedDocuments) : {exc}"
            ) from exc

    def read_dashboard(self) -> DashboardView:
        output = self._run("read_dashboard", {})
        try:
            return dashboard_view(ApiDashboard.model_validate_json(output))
        except (ValidationError, ValueError) as exc:
            raise AdapterError(f"read_dashboard : sortie non conforme (JSON Dashboard) : {exc}") from exc

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        self._run("configure_mss", {"smtp_url": smtp_url, "imap_url": imap_url}, smtp_url=smtp_url, imap_url=imap_url)

    def perform(self, action: str, ref: str | None, params: Mapping[str, str]) -> Mapping[str, Any] | None:
        """The command configured for ``action``: ``{"ref": ..., <params>}`` on standard input, placeholders from the
        parameters; its standard output, if any, is a JSON object."""
        values = {k: str(v) for k, v in params.items()}
        printed = self._run(action, {"ref": ref, **params}, **({"ref": ref} if ref else {}), **values).strip()
        if not printed:
            return None
        try:
            answer = json.loads(printed)
        except ValueError as exc:
            raise AdapterError(f"{action} : sortie illisible : {exc}") from exc
        if not isinstance(answer, dict):
            raise AdapterError(f"{action} : un objet JSON était attendu sur la sortie standard")
        return answer
