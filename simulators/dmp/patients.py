"""TD0.2, the DMP's existence and authorisation test, as the DMP speaks it: HL7v3 ``PRPA_IN201307UV02`` (patient
demographics query) on the ``patients`` service, answered by ``PRPA_IN201308UV02`` (GIE SESAM-Vitale example messages
v02.05.00 "TD0.2 - Test d'existence"; WSDL annex v2.01.04 GestionDossierPatientPartage.wsdl; codes in
``../shared/data/dmp/value-sets/DMP-HL7v3-codes-from-official-examples.json``).

What the answer says, and where each form comes from:
- the DMP exists: ``queryAck/queryResponseCode`` ``OK``; it does not: ``NF`` (official C# sample, IsDMPExist);
- open or closed: the patient's ``statusCode`` ``active`` / ``terminated`` (official example; TD1.4 answer);
- the professional's authorisation: ``attentionLine`` ``AUTORISATION`` (see ``AUTHORISATION_VALUES``);
- ``STATUT_MT`` (is the professional the patient's attending doctor), the web account and the Mon espace santé
  attachment as the example's ``attentionLine`` and ``administrativeObservation`` elements.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Both are sent by real clients: the official example sends the query's interaction, the official C# sample the
# answer's (PatientSoapService.IsDMPExist).
REQUEST_ACTIONS = ("urn:hl7-org:v3:PRPA_IN201307UV02", "urn:hl7-org:v3:PRPA_IN201308UV02")
RESPONSE_ACTION = "urn:hl7-org:v3:PRPA_IN201308UV02"
DMP_DEVICE = "1.2.250.1.213.4.1.1.1"  # the DMP's device id in the official answers
INS_NIR_OID = "1.2.250.1.213.1.4.10"
AUTHORISATION_KEYWORDS = "1.2.250.1.213.4.1.2.6.1"
AUTHORISATION_VALUES_SYSTEM = "1.2.250.1.213.4.1.2.6.2"
ATTENDING_KEYWORD_SYSTEM = "1.2.250.1.213.4.1.2.6.3"
# The AUTORISATION values, with their source. Only VALIDE appears in an official answer; INTERDIT is what ANS's
# DRIMbox tests for a professional the patient blocked; no public source gives the value for "no authorisation
# yet": AUCUNE is the bench's naming (docs/dmp-simulator.md).
AUTHORISATION_VALUES = {
    "VALIDE": "official TD0.2 answer (GIE SESAM-Vitale v02.05.00): high confidence",
    "INTERDIT": "ANS DRIMbox check-access.service.ts: medium confidence",
    "AUCUNE": "bench naming, no public source: low confidence",
}


@dataclass(frozen=True)
class AccessTestRequest:
    """What a TD0.2 query asks: for which patient, under which message and query ids (echoed in the answer)."""

    patient_root: str
    patient_extension: str
    message_id: tuple[str, str]  # (root, extension)
    query_id: tuple[str, str]
    sender: tuple[str, str]  # (device id root, software name)


def read_access_test(body: Any) -> AccessTestRequest | str:
    """The TD0.2 query of a SOAP body, or why it cannot be answered."""
    if body.tag != f"{{{HL7}}}PRPA_IN201307UV02":
        return f"élément {body.tag!r} : PRPA_IN201307UV02 attendu"
    ns = {"h": HL7}
    value = body.find("h:controlActProcess/h:queryByParameter/h:parameterList/h:patientIdentifier/h:value", ns)
    if value is None or not value.get("root") or not value.get("extension"):
        return "parameterList/patientIdentifier/value (root, extension) absent"

    def pair(path: str) -> tuple[str, str]:
        found = body.find(path, ns)
        return (found.get("root", ""), found.get("extension", "")) if found is not None else ("", "")

    sender = (pair("h:sender/h:device/h:id")[0], body.findtext("h:sender/h:device/h:softwareName", "", ns))
    return AccessTestRequest(
        patient_root=value.get("root", ""),
        patient_extension=value.get("extension", "").strip(),
        message_id=pair("h:id"),
        query_id=pair("h:controlActProcess/h:queryByParameter/h:queryId"),
        sender=sender,
    )


@dataclass(frozen=True)
class AccessTestAnswer:
    found: bool
    closed: bool = False
    authorisation: str = "VALIDE"  # a key of AUTHORISATION_VALUES
    attending: bool = False
    traits: dict[str, str] | None = None  # birth_name, first_name, sex, birth_date (AAAA-MM-JJ)
    web_account: bool = False
    attached_to_mes: bool = True  # the DMP is part of the patient's Mon espace santé


def _bl(value: bool) -> str:
    return f'<value value="{"true" if value else "false"}" xsi:type="BL"/>'


def _patient(request: AccessTestRequest, answer: AccessTestAnswer) -> str:
    traits = answer.traits or {}
    person = ""
    if traits:
        birth = traits.get("birth_date", "").replace("-", "")
        person = (
            '<patientPerson classCode="PSN" determinerCode="INSTANCE"><name>'
            f"<given>{escape(traits.get('first_name', ''))}</given>"
            f'<family qualifier="SP">{escape(traits.get("birth_name", ""))}</family></name>'
            f"<administrativeGenderCode code={quoteattr(traits.get('sex', 'U'))}/>"
            f"<birthTime value={quoteattr(birth)}/></patientPerson>"
        )
    observations = (
        '<subjectOf typeCode="SBJ"><administrativeObservation classCode="OBS" moodCode="EVN">'
        f'<code code="COMPTE_INTERNET_OUVERT" codeSystem="1.2.250.1.213.4.1.2.9"/>{_bl(answer.web_account)}'
        "</administrativeObservation></subjectOf>"
        '<subjectOf typeCode="SBJ"><administrativeObservation classCode="OBS" moodCode="EVN">'
        '<code code="RATTACHEMENT_ENS" codeSystem="1.2.250.1.213.4.1.2.3" '
        'displayName="information de rattachement du DMP à un ENS"/>'
        f"{_bl(answer.attached_to_mes)}</administrativeObservation></subjectOf>"
    )
    return (
        '<subject contextConductionInd="false" typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN">'
        '<statusCode code="completed"/><subject1 typeCode="SBJ"><patient classCode="PAT">'
        f"<id extension={quoteattr(request.patient_extension)} root={quoteattr(request.patient_root)}/>"
        f'<statusCode code="{"terminated" if answer.closed else "active"}"/>{person}{observations}'
        "</patient></subject1>"
        f'<custodian typeCode="CST"><assignedEntity classCode="ASSIGNED"><id root="{DMP_DEVICE}"/></assignedEntity>'
        "</custodian></registrationEvent></subject>"
    )


def access_test_response(request: AccessTestRequest, answer: AccessTestAnswer, now: dt.datetime | None = None) -> str:
    """The ``PRPA_IN201308UV02`` answering ``request``, shaped as the official TD0.2 answer."""
    moment = now or dt.datetime.now(dt.UTC)
    attention = ""
    if answer.found:
        attention = (
            f'<attentionLine><keyWordText code="AUTORISATION" codeSystem="{AUTHORISATION_KEYWORDS}"/>'
            f'<value code={quoteattr(answer.authorisation)} codeSystem="{AUTHORISATION_VALUES_SYSTEM}" '
            'xsi:type="CV"/></attentionLine>'
            f'<attentionLine><keyWordText code="STATUT_MT" codeSystem="{ATTENDING_KEYWORD_SYSTEM}"/>'
            f"{_bl(answer.attending)}</attentionLine>"
        )
    message_root, message_extension = request.message_id
    query_root, query_extension = request.query_id
    sender_root, sender_name = request.sender
    return (
        f'<PRPA_IN201308UV02 xmlns="{HL7}" xmlns:xsi="{XSI}" ITSVersion="XML_1.0">'
        f'<id root="{uuid.uuid4()}"/><creationTime value="{moment:%Y%m%d%H%M%S}"/>'
        '<interactionId extension="PRPA_IN201308UV02" root="2.16.840.1.113883.1.6"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/>'
        '<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE">'
        f"<id root={quoteattr(sender_root)}/>"
        f"<softwareName>{escape(sender_name)}</softwareName></device></receiver>"
        f'<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="{DMP_DEVICE}"/>'
        "<softwareName>DMP</softwareName></device></sender>"
        f'{attention}<acknowledgement typeCode="AA"><targetMessage>'
        f"<id extension={quoteattr(message_extension)} root={quoteattr(message_root)}/></targetMessage>"
        '</acknowledgement><controlActProcess classCode="CACT" moodCode="EVN">'
        '<reasonCode code="TEST_EXST" codeSystem="1.2.250.1.213.1.1.4.11" displayName="Test d\'existence de dossier"/>'
        f"{_patient(request, answer) if answer.found else ''}"
        f"<queryAck><queryId extension={quoteattr(query_extension)} root={quoteattr(query_root)}/>"
        f'<queryResponseCode code="{"OK" if answer.found else "NF"}"/></queryAck>'
        "</controlActProcess></PRPA_IN201308UV02>"
    )
