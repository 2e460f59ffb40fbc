"""A sample hook service: the candidate API served over HTTP in front of the reference candidate.

Vendors read it as an example of what to expose in front of their own software; the bench's tests drive it
through the ``http-hook`` adapter over a real socket.
"""

from __future__ import annotations

import base64
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.candidates.api.models import (
    ApiAction,
    ApiDmpConsultation,
    ApiDmpEndpoint,
    ApiDmpSearch,
    ApiDocument,
    ApiDocumentRequest,
    ApiEnvironment,
    ApiHeldDocument,
    ApiIdentityDocument,
    ApiInsSearch,
    ApiMssEndpoints,
    ApiMssReply,
    ApiMssSending,
    ApiNotification,
    ApiOrderReports,
    ApiPatient,
    ApiPatientChoice,
    ApiPatientRecord,
    ApiReceivedDocument,
    ApiReceivedDocuments,
    environment_endpoints,
)
from bench.candidates.base import AdapterError, Artifact, Environment, HeldIns, PatientInput, VitaleReading
from bench.candidates.reference import ReferenceCandidate

MAX_BODY = 1024 * 1024
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request, model: type[M]) -> M:
    data = await request.body()
    if len(data) > MAX_BODY:
        raise ValueError(f"corps au-delà de {MAX_BODY} octets")
    return model.model_validate_json(data or b"{}")


def _guard(handler: Handler) -> Handler:
    """Map failures to the API's error answers: invalid input 422, unknown patient or refused action 409."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ValidationError as exc:
            return _error(422, f"requête invalide : {exc.error_count()} erreur(s) : {exc.errors()[0]['msg']}")
        except ValueError as exc:
            return _error(422, f"requête invalide : {exc}")
        except AdapterError as exc:
            return _error(409, str(exc))

    return guarded


def _document_response(artifact: Artifact) -> Response:
    """A produced document as the API's Document (bytes in base64)."""
    payload = ApiDocument(
        name=artifact.name, media_type=artifact.media_type, content_base64=base64.b64encode(artifact.data).decode()
    )
    return JSONResponse(payload.model_dump())


def create_hook_app(defects: list[str] | None = None) -> Starlette:
    candidate = ReferenceCandidate(defects=defects)
    material = tempfile.TemporaryDirectory(prefix="segur-bench-hook-")

    async def start(request: Request) -> Response:
        env = await _body(request, ApiEnvironment)
        folder = Path(material.name)
        files = {"ca": env.ca_pem, "cert": env.client_cert_pem, "key": env.client_key_pem}
        for name, pem in files.items():
            (folder / f"{name}.pem").write_text(pem)
        try:
            context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
            context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        except (ssl.SSLError, ValueError) as exc:
            raise ValueError(f"certificats illisibles : {exc}") from exc
        candidate.start(
            Environment(
                context,
                str(folder / "ca.pem"),
                str(folder / "cert.pem"),
                str(folder / "key.pem"),
                endpoints=environment_endpoints(env),
            )
        )
        return Response(status_code=204)

    async def stop(request: Request) -> Response:
        candidate.stop()
        return Response(status_code=204)

    async def settled(request: Request) -> Response:
        try:
            timeout = min(max(float(request.query_params.get("timeout", "0")), 0.0), 5.0)
        except ValueError:
            return _error(422, "timeout : un nombre de secondes est attendu")
        return JSONResponse({"settled": candidate.settled(timeout)})

    async def reset(request: Request) -> Response:
        candidate.reset()
        return Response(status_code=204)

    async def register(request: Request) -> Response:
        patient = await _body(request, ApiPatient)
        candidate.register_patient(
            PatientInput(
                ref=patient.ref,
                birth_name=patient.birth_name,
                first_names=list(patient.first_names),
                sex=patient.sex,
                birth_date=patient.birth_date,
                birth_place=patient.birth_place,
                vitale=VitaleReading(**patient.vitale.model_dump()) if patient.vitale else None,
                held_ins=HeldIns(**patient.held_ins.model_dump()) if patient.held_ins else None,
            )
        )
        return Response(status_code=204)

    async def identity_document(request: Request) -> Response:
        body = await _body(request, ApiIdentityDocument)
        candidate.record_identity_document(request.path_params["ref"], body.document)
        return Response(status_code=204)

    async def search(request: Request) -> Response:
        body = await _body(request, ApiInsSearch)
        candidate.search_ins(request.path_params["ref"], body.method)
        return Response(status_code=204)

    async def verify(request: Request) -> Response:
        candidate.verify_ins(request.path_params["ref"])
        return Response(status_code=204)

    async def document(request: Request) -> Response:
        body = await _body(request, ApiDocumentRequest)
        ref = request.path_params["ref"]
        artifact = candidate.produce_document(
            ref, body.kind, business_date=body.business_date, recipients=body.recipients
        )
        return _document_response(artifact)

    async def record(request: Request) -> Response:
        view = candidate.read_patient_record(request.path_params["ref"])
        fields = {**view.__dict__, "documents": [ApiHeldDocument(**d.__dict__) for d in view.documents or []]}
        return JSONResponse(ApiPatientRecord(**fields).model_dump())

    async def opening(request: Request) -> Response:
        candidate.open_patient_record(request.path_params["ref"])
        return Response(status_code=204)

    async def consultation(request: Request) -> Response:
        body = await _body(request, ApiDmpConsultation)
        candidate.consult_dmp(request.path_params["ref"], body.access_mode)
        return Response(status_code=204)

    async def replacement(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        artifact = candidate.replace_document(request.path_params["ref"], kind)
        return _document_response(artifact)

    async def masking(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        candidate.mask_document(request.path_params["ref"], kind)
        return Response(status_code=204)

    async def dmp_integration(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        candidate.integrate_dmp_document(request.path_params["ref"], kind)
        return Response(status_code=204)

    async def dmp_opening(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        candidate.open_dmp_document(request.path_params["ref"], kind)
        return Response(status_code=204)

    async def deletion(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        candidate.delete_document(request.path_params["ref"], kind)
        return Response(status_code=204)

    async def dmp_endpoint(request: Request) -> Response:
        body = await _body(request, ApiDmpEndpoint)
        candidate.configure_dmp(body.dmp_url)
        return Response(status_code=204)

    async def sending(request: Request) -> Response:
        kind = ApiDocumentRequest(kind=request.path_params["kind"]).kind
        body = await _body(request, ApiMssSending)
        candidate.send_document(request.path_params["ref"], kind, body.recipient, no_reply=body.no_reply)
        return Response(status_code=204)

    async def mailbox_check(request: Request) -> Response:
        candidate.check_mailbox()
        return Response(status_code=204)

    async def mailbox_reply(request: Request) -> Response:
        body = await _body(request, ApiMssReply)
        candidate.reply_to_message(body.message_id, body.subject)
        return Response(status_code=204)

    async def dmp_choice(request: Request) -> Response:
        body = await _body(request, ApiPatientChoice)
        candidate.record_dmp_choice(request.path_params["ref"], body.choice)
        return Response(status_code=204)

    async def mss_choice(request: Request) -> Response:
        body = await _body(request, ApiPatientChoice)
        candidate.record_mss_choice(request.path_params["ref"], body.choice)
        return Response(status_code=204)

    async def dmp_search(request: Request) -> Response:
        body = await _body(request, ApiDmpSearch)
        candidate.search_dmp(request.path_params["ref"], body.kind, body.since)
        return Response(status_code=204)

    async def dmp_order_reports(request: Request) -> Response:
        body = await _body(request, ApiOrderReports)
        candidate.find_order_reports(request.path_params["ref"], body.order)
        return Response(status_code=204)

    async def psc_sign_in(request: Request) -> Response:
        candidate.psc_sign_in()
        return Response(status_code=204)

    async def psc_sign_out(request: Request) -> Response:
        candidate.psc_sign_out()
        return Response(status_code=204)

    async def dashboard(request: Request) -> Response:
        return JSONResponse(candidate.read_dashboard().counters)

    async def received(request: Request) -> Response:
        view = candidate.read_received_documents()
        return JSONResponse(
            ApiReceivedDocuments(
                filed=[ApiReceivedDocument(**d.__dict__) for d in view.filed],
                pending=[ApiReceivedDocument(**d.__dict__) for d in view.pending],
                notifications=[ApiNotification(**n.__dict__) for n in view.notifications],
            ).model_dump()
        )

    async def mss_endpoints(request: Request) -> Response:
        body = await _body(request, ApiMssEndpoints)
        candidate.configure_mss(body.smtp_url, body.imap_url)
        return Response(status_code=204)

    async def generic(request: Request) -> Response:
        body = await _body(request, ApiAction)
        answer = candidate.perform(request.path_params["action"], body.ref, body.params)
        return JSONResponse(dict(answer)) if answer is not None else Response(status_code=204)

    routes: list[tuple[str, Handler, str]] = [
        ("/v1/session/start", start, "POST"),
        ("/v1/session/stop", stop, "POST"),
        ("/v1/session/reset", reset, "POST"),
        ("/v1/session/settled", settled, "GET"),
        ("/v1/patients", register, "POST"),
        ("/v1/patients/{ref}/identity-document", identity_document, "POST"),
        ("/v1/patients/{ref}/ins-search", search, "POST"),
        ("/v1/patients/{ref}/ins-verification", verify, "POST"),
        ("/v1/patients/{ref}/documents", document, "POST"),
        ("/v1/patients/{ref}/record", record, "GET"),
        ("/v1/patients/{ref}/opening", opening, "POST"),
        ("/v1/patients/{ref}/dmp-consultation", consultation, "POST"),
        ("/v1/patients/{ref}/documents/{kind}/replacement", replacement, "POST"),
        ("/v1/patients/{ref}/documents/{kind}/masking", masking, "POST"),
        ("/v1/patients/{ref}/documents/{kind}/deletion", deletion, "POST"),
        ("/v1/patients/{ref}/dmp-documents/{kind}/integration", dmp_integration, "POST"),
        ("/v1/patients/{ref}/dmp-documents/{kind}/opening", dmp_opening, "POST"),
        ("/v1/session/dmp-endpoint", dmp_endpoint, "POST"),
        ("/v1/patients/{ref}/documents/{kind}/sending", sending, "POST"),
        ("/v1/mailbox/check", mailbox_check, "POST"),
        ("/v1/mailbox/reply", mailbox_reply, "POST"),
        ("/v1/patients/{ref}/dmp-choice", dmp_choice, "POST"),
        ("/v1/patients/{ref}/mss-choice", mss_choice, "POST"),
        ("/v1/patients/{ref}/dmp-search", dmp_search, "POST"),
        ("/v1/patients/{ref}/dmp-order-reports", dmp_order_reports, "POST"),
        ("/v1/session/psc-sign-in", psc_sign_in, "POST"),
        ("/v1/session/psc-sign-out", psc_sign_out, "POST"),
        ("/v1/mailbox/received-documents", received, "GET"),
        ("/v1/dashboard", dashboard, "GET"),
        ("/v1/session/mss-endpoints", mss_endpoints, "POST"),
        ("/v1/actions/{action}", generic, "POST"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        return _error(status, str(getattr(exc, "detail", "erreur")))

    app = Starlette(
        routes=[Route(path, _guard(handler), methods=[method]) for path, handler, method in routes],
        exception_handlers={404: http_error, 405: http_error},
    )
    app.state.material = material  # keep the temporary folder alive as long as the app

    return app
