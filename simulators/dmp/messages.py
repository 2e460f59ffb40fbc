"""What the DMP simulator reads from requests and writes in answers, apart from the ebRIM metadata (xds.py).

XDS.b messages follow IHE ITI TF-2b §3.18 (Registry Stored Query), §3.41 (Provide and Register), §3.43 (Retrieve)
and ITI TF-2 Supplement XDS Metadata Update §3.57, with ebRS 3.0 RegistryResponse and IHE error codes
(ITI TF-3 Table 4.2.4.1-2).

The DMP's own services (TD0.2 on ``patients``, TD0.3 on ``habilitations``) are in patients.py and habilitations.py.
Actions are those of the official WSDL annex and GIE SESAM-Vitale example messages, answers included (ITI-57 answers
``urn:ihe:iti:2010:UpdateDocumentSet-Response`` in the official TD3.3c/TD3.3d examples).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from simulators.dmp import habilitations, patients
from simulators.dmp.xds import LCM, QUERY, RIM, RS, XDSB

ACTIONS = {
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "dmp.iti41",
    "urn:ihe:iti:2007:RegistryStoredQuery": "dmp.iti18",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "dmp.iti43",
    "urn:ihe:iti:2010:UpdateDocumentSet": "dmp.iti57",
    **dict.fromkeys(patients.REQUEST_ACTIONS, "dmp.td02"),
    habilitations.REQUEST_ACTION: "dmp.td03",
}
RESPONSE_ACTIONS = {
    "dmp.iti41": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
    "dmp.iti18": "urn:ihe:iti:2007:RegistryStoredQueryResponse",
    "dmp.iti43": "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
    "dmp.iti57": "urn:ihe:iti:2010:UpdateDocumentSet-Response",
    "dmp.td02": patients.RESPONSE_ACTION,
    "dmp.td03": habilitations.RESPONSE_ACTION,
}
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
# The DMP's business answers, as the bench names them (the GI DMP's own code list is not in the public sources at
# hand; the IHE code comes first so that any XDS client understands the refusal).
STATE_ERRORS = {
    "absent": ("XDSUnknownPatientId", "DMP_INEXISTANT", "Le patient n'a pas de DMP."),
    "ferme": ("XDSRegistryError", "DMP_FERME", "Le DMP du patient est fermé."),
    "opposition": ("XDSRegistryError", "DMP_OPPOSITION", "Le patient s'est opposé à l'accès à son DMP."),
    "non_autorise": (
        "XDSRegistryError",
        "DMP_ACCES_NON_AUTORISE",
        "Le professionnel n'est pas autorisé à accéder à ce DMP.",
    ),
}


@dataclass(frozen=True)
class RegistryError:
    """One RegistryError of a RegistryResponse (IHE ITI TF-3 §4.2.4.1)."""

    code: str
    context: str
    location: str = ""


def registry_response(errors: list[RegistryError], *, partial: bool = False) -> str:
    status = SUCCESS if not errors else PARTIAL if partial else FAILURE
    return f'<rs:RegistryResponse xmlns:rs="{RS}" status="{status}">{_error_list(errors)}</rs:RegistryResponse>'


def _error_list(errors: list[RegistryError]) -> str:
    if not errors:
        return ""
    items = "".join(
        f"<rs:RegistryError errorCode={quoteattr(e.code)} codeContext={quoteattr(e.context)} "
        f'severity="{ERROR}" location={quoteattr(e.location)}/>'
        for e in errors
    )
    return f"<rs:RegistryErrorList>{items}</rs:RegistryErrorList>"


def query_response(objects: list[bytes], errors: list[RegistryError]) -> str:
    status = SUCCESS if not errors else FAILURE
    inner = b"".join(objects).decode("utf-8")
    return (
        f'<query:AdhocQueryResponse xmlns:query="{QUERY}" xmlns:rim="{RIM}" xmlns:rs="{RS}" status="{status}">'
        f"{_error_list(errors)}<rim:RegistryObjectList>{inner}</rim:RegistryObjectList></query:AdhocQueryResponse>"
    )


def object_ref(entry_uuid: str) -> bytes:
    return f"<rim:ObjectRef xmlns:rim={quoteattr(RIM)} id={quoteattr(entry_uuid)}/>".encode()


@dataclass(frozen=True)
class RetrievedDocument:
    repository: str
    unique_id: str
    mime_type: str
    cid: str


def retrieve_response(documents: list[RetrievedDocument], errors: list[RegistryError]) -> str:
    status = SUCCESS if not errors else PARTIAL if documents else FAILURE
    items = "".join(
        f"<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>{escape(d.repository)}</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{escape(d.unique_id)}</xdsb:DocumentUniqueId>"
        f"<xdsb:mimeType>{escape(d.mime_type)}</xdsb:mimeType>"
        f'<xdsb:Document><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:{d.cid}"/>'
        "</xdsb:Document></xdsb:DocumentResponse>"
        for d in documents
    )
    return (
        f'<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{XDSB}" xmlns:rs="{RS}">'
        f'<rs:RegistryResponse status="{status}">{_error_list(errors)}</rs:RegistryResponse>{items}'
        "</xdsb:RetrieveDocumentSetResponse>"
    )


# ITI-18 --------------------------------------------------------------------------------------------------------
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class StoredQuery:
    query_id: str
    return_type: str
    parameters: dict[str, list[str]]

    def values(self, name: str) -> list[str]:
        return self.parameters.get(name, [])


def read_stored_query(body: Any) -> StoredQuery:
    """Parameters of an AdhocQueryRequest: each slot's values unquoted ('a' and ('a','b') forms, ITI TF-2a
    §3.18.4.1.2.3.5)."""
    option = body.find(f"{{{QUERY}}}ResponseOption")
    query = body.find(f"{{{RIM}}}AdhocQuery")
    parameters: dict[str, list[str]] = {}
    if query is not None:
        for slot in query.findall(f"{{{RIM}}}Slot"):
            values: list[str] = []
            for value in slot.findall(f"{{{RIM}}}ValueList/{{{RIM}}}Value"):
                text = (value.text or "").strip()
                quoted = _QUOTED.findall(text)
                values += [q.replace("''", "'") for q in quoted] if quoted else [text.strip("()")]
            parameters[slot.get("name") or ""] = values
    return StoredQuery(
        query_id=query.get("id", "") if query is not None else "",
        return_type=option.get("returnType", "") if option is not None else "",
        parameters=parameters,
    )


def retrieve_requests(body: Any) -> list[tuple[str, str]]:
    """(repositoryUniqueId, documentUniqueId) pairs of a RetrieveDocumentSetRequest."""
    pairs = []
    for request in body.findall(f"{{{XDSB}}}DocumentRequest"):
        repository = (request.findtext(f"{{{XDSB}}}RepositoryUniqueId") or "").strip()
        unique_id = (request.findtext(f"{{{XDSB}}}DocumentUniqueId") or "").strip()
        pairs.append((repository, unique_id))
    return pairs


def submit_request(body: Any) -> Any | None:
    """The SubmitObjectsRequest of an ITI-41 or ITI-57 body."""
    if body.tag == f"{{{LCM}}}SubmitObjectsRequest":
        return body
    return body.find(f"{{{LCM}}}SubmitObjectsRequest")
