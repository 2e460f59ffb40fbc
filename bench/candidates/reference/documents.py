"""Documents the reference candidate produces. For now a CDA R2 header with the patient (recordTarget) as the
CI-SIS asks it: INS first (only for a qualified identity), the local id, birth name (family BR), the list of
birth forenames (given) and the first one (given BR), sex, birth date, birthplace INSEE code (CI-SIS, volet
structuration minimale; official examples of the CI-SIS validation pack). Bodies come with the CDA issue."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape as esc
from xml.sax.saxutils import quoteattr

LOCAL_ID_ROOT = "1.2.250.1.999.1.1"  # the reference practice's own patient-id OID (fictitious arc)
DOCUMENT_KINDS = {
    # kind: (LOINC code, display name, title)
    "consultation-report": ("11488-4", "Note de consultation", "Compte rendu de consultation"),
}


@dataclass(frozen=True)
class RecordTargetData:
    local_id: str
    ins_matricule: str | None
    ins_oid: str | None
    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str
    birth_place: str | None


def build_cda(kind: str, patient: RecordTargetData) -> bytes:
    code, display, title = DOCUMENT_KINDS.get(kind, DOCUMENT_KINDS["consultation-report"])
    now = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=1)))
    stamp = now.strftime("%Y%m%d%H%M%S%z")
    ids = []
    if patient.ins_matricule and patient.ins_oid:
        ids.append(f"<id root={quoteattr(patient.ins_oid)} extension={quoteattr(patient.ins_matricule)}/>")
    ids.append(f"<id root={quoteattr(LOCAL_ID_ROOT)} extension={quoteattr(patient.local_id)}/>")
    birthplace = (
        f"<birthplace><place><addr><county>{esc(patient.birth_place)}</county></addr></place></birthplace>"
        if patient.birth_place
        else ""
    )
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <id root="2.25.{uuid.uuid4().int}"/>
  <code code="{code}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName={quoteattr(display)}/>
  <title>{esc(title)}</title>
  <effectiveTime value="{stamp}"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>
  <languageCode code="fr-FR"/>
  <setId root="2.25.{uuid.uuid4().int}"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      {"".join(ids)}
      <patient classCode="PSN">
        <name>
          <family qualifier="BR">{esc(patient.birth_name)}</family>
          <given>{esc(patient.first_names)}</given>
          <given qualifier="BR">{esc(patient.first_name)}</given>
        </name>
        <administrativeGenderCode code="{esc(patient.sex)}" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="{patient.birth_date.replace("-", "")}"/>
        {birthplace}
      </patient>
    </patientRole>
  </recordTarget>
</ClinicalDocument>
"""
    return doc.encode()
