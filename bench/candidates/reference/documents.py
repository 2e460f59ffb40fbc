"""Documents the reference candidate produces: CDA R2 in minimal structuring (CI-SIS volet "structuration
minimale", N1: the body is a PDF), with the header the CI-SIS asks for. The patient section (recordTarget)
carries the INS first, only for a qualified identity, then the local id, birth name (family BR), list of birth
forenames (given) and first one (given BR), sex, birth date and birthplace INSEE code, as in the official CI-SIS
examples. Document codes come from the value set JDV_J07-XdsTypeCode-CISIS (1.2.250.1.213.1.1.5.471)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape as esc
from xml.sax.saxutils import quoteattr

from bench.candidates.reference.pdf import simple_pdf

LOCAL_ID_ROOT = "1.2.250.1.999.1.1"  # the reference practice's own patient-id OID (fictitious arc)
LOINC = "2.16.840.1.113883.6.1"
ANS_CODES = "1.2.250.1.213.1.1.4.12"


@dataclass(frozen=True)
class DocumentKind:
    code: str
    code_system: str
    display: str
    title: str
    # Volet-specific templateIds (root, extension) and body: "pdf" (structuration minimale) or a structured volet.
    templates: tuple[tuple[str, str | None], ...] = (("1.3.6.1.4.1.19376.1.2.20", None),)  # IHE XDS-SD
    body: str = "pdf"
    service_event: tuple[str, str] | None = None  # (LOINC code, display name) of documentationOf/serviceEvent


# Codes and display names from JDV_J07-XdsTypeCode-CISIS (revision 2024-09-27).
DOCUMENT_KINDS: dict[str, DocumentKind] = {
    "consultation-report": DocumentKind(
        "11488-4", LOINC, "CR ou fiche de consultation ou de visite", "Compte rendu de consultation"
    ),
    # Structured per the CI-SIS volet "Volet de synthèse médicale" (VSM 2023.01): three narrative sections.
    "medical-summary": DocumentKind(
        "SYNTH",
        ANS_CODES,
        "Synthèse",
        "Volet de synthèse médicale",
        templates=(("1.2.250.1.213.1.1.1.13", None),),
        body="summary",
        service_event=("34117-2", "Historique et clinique"),
    ),
    # Structured per the CI-SIS volet "Note de vaccination" (VAC-NOTE 2023.01): IHE PCC Immunization content.
    "vaccination-note": DocumentKind(
        "87273-9",
        LOINC,
        "Note de vaccination",
        "Note de vaccination",
        templates=(("1.3.6.1.4.1.19376.1.5.3.1.1.18.1.2", None), ("1.2.250.1.213.1.1.1.46", "2023.01")),
        body="vaccination",
    ),
    "pharmaceutical-interview": DocumentKind(
        "78601-2", LOINC, "CR d'entretien pharmaceutique", "Compte rendu d'entretien pharmaceutique"
    ),
    "medication-review": DocumentKind(
        "56445-0", LOINC, "Bilan médicamenteux (Officine)", "Bilan partagé de médication"
    ),
    # (verify) the wave-2 "note de dépistage" of pharmacies: the closest J07 code is this one.
    "screening-note": DocumentKind(
        "75492-9", LOINC, "CR d'acte diagnostique à visée préventive ou de dépistage", "Note de dépistage"
    ),
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


# A fictitious qualified patient (the INSi simulator's "de-la-fontaine-martin"), for demonstrations and benchmarks.
SAMPLE_PATIENT = RecordTargetData(
    local_id="REF000001",
    ins_matricule="178037511502783",
    ins_oid="1.2.250.1.213.1.4.10",
    birth_name="DE LA FONTAINE-MARTIN",
    first_name="JEAN-BAPTISTE",
    first_names="JEAN-BAPTISTE LOUIS MARIE",
    sex="M",
    birth_date="1978-03-14",
    birth_place="75115",
)


@dataclass(frozen=True)
class Practitioner:
    """The professional using the software (fictitious RPPS) and their practice."""

    rpps: str = "10002345678"
    family: str = "REFERENCE"
    given: str = "MEDECIN"
    profession_code: str = "10"  # TRE_G15-ProfessionSante: Médecin
    practice_id: str = "1.2.250.1.999.1.3"  # the practice's own id root (fictitious arc)
    practice_name: str = "Cabinet de référence segur-bench"

    @property
    def national_id(self) -> str:
        return "8" + self.rpps  # "8" + RPPS under 1.2.250.1.71.4.2.1 (CI-SIS)


@dataclass(frozen=True)
class Lineage:
    """The document a new version replaces: its id root, its setId root and its version number."""

    parent_id: str
    set_id: str
    version: int


@dataclass(frozen=True)
class DocumentDefects:
    """How the document should be wrong, one requirement each (defect switches of the reference candidate)."""

    schema_order: bool = False  # CDA-001: title before code, against the CDA schema
    no_timezone: bool = False  # CDA-002: effectiveTime without time zone
    gender_without_system: bool = False  # CDA-003: administrativeGenderCode without its code system
    author_without_national_id: bool = False  # CDA-004
    body_not_pdf: bool = False  # CDA-005: an HTML page declared application/pdf
    vaccine_without_lot: bool = False  # CDA-006: the VAC-NOTE volet requires the vaccine's lot number


def build_cda(
    kind_name: str,
    patient: RecordTargetData,
    practitioner: Practitioner | None = None,
    defects: DocumentDefects | None = None,
    now: dt.datetime | None = None,
    replaces: Lineage | None = None,
) -> bytes:
    """A CDA R2 document of ``kind_name`` for ``patient``; with ``replaces``, the next version of that document
    (same setId, versionNumber + 1, relatedDocument RPLC pointing to the replaced id, CI-SIS § en-tête)."""
    kind = DOCUMENT_KINDS.get(kind_name, DOCUMENT_KINDS["consultation-report"])
    who = practitioner or Practitioner()
    wrong = defects or DocumentDefects()
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    stamp = moment.strftime("%Y%m%d%H%M%S") + ("" if wrong.no_timezone else moment.strftime("%z"))
    time_value = moment.strftime("%Y%m%d%H%M%S%z")
    ids = []
    if patient.ins_matricule and patient.ins_oid:
        ids.append(f"<id root={quoteattr(patient.ins_oid)} extension={quoteattr(patient.ins_matricule)}/>")
    ids.append(f"<id root={quoteattr(LOCAL_ID_ROOT)} extension={quoteattr(patient.local_id)}/>")
    birthplace = (
        f"<birthplace><place><addr><county>{esc(patient.birth_place)}</county></addr></place></birthplace>"
        if patient.birth_place
        else ""
    )
    gender_system = "" if wrong.gender_without_system else ' codeSystem="2.16.840.1.113883.5.1"'
    author_id = (
        f'<id root="{who.practice_id}" extension="LOCAL-42"/>'
        if wrong.author_without_national_id
        else f'<id root="1.2.250.1.71.4.2.1" extension="{who.national_id}"/>'
    )
    service_code = (
        f'<code code="{kind.service_event[0]}" displayName={quoteattr(kind.service_event[1])} '
        f'codeSystem="{LOINC}" codeSystemName="LOINC"/>'
        if kind.service_event
        else ""
    )
    templates = "".join(
        f"<templateId root={quoteattr(root)}" + (f" extension={quoteattr(ext)}" if ext else "") + "/>"
        for root, ext in kind.templates
    )
    code = (
        f"<code code={quoteattr(kind.code)} codeSystem={quoteattr(kind.code_system)} "
        f"displayName={quoteattr(kind.display)}/>"
    )
    title = f"<title>{esc(kind.title)}</title>"
    code_and_title = title + code if wrong.schema_order else code + title
    if wrong.body_not_pdf:
        payload = b"<html><body>Compte rendu</body></html>"
    else:
        payload = simple_pdf(
            kind.title,
            [
                f"Patient : dossier {patient.local_id}",
                f"Date : {moment:%d/%m/%Y}",
                "Document de test produit par le candidat de reference segur-bench.",
            ],
        )
    name = f"<name><family>{esc(who.family)}</family><given>{esc(who.given)}</given></name>"
    person = f"<assignedPerson>{name}</assignedPerson>"
    if kind.body == "vaccination":
        body = _vaccination_body(who, moment, person, with_lot=not wrong.vaccine_without_lot)
    elif kind.body == "summary":
        body = _summary_body()
    else:
        body = (
            f'<nonXMLBody><text mediaType="application/pdf" representation="B64">'
            f"{base64.b64encode(payload).decode()}</text></nonXMLBody>"
        )
    organisation = (
        f'<representedOrganization><id root="{who.practice_id}"/><name>{esc(who.practice_name)}</name>'
        "</representedOrganization>"
    )
    related = (
        f'<relatedDocument typeCode="RPLC"><parentDocument><id root={quoteattr(replaces.parent_id)}/>'
        f'<setId root={quoteattr(replaces.set_id)}/><versionNumber value="{replaces.version}"/>'
        "</parentDocument></relatedDocument>"
        if replaces
        else ""
    )
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  {templates}
  <id root="2.25.{uuid.uuid4().int}"/>
  {code_and_title}
  <effectiveTime value="{stamp}"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>
  <languageCode code="fr-FR"/>
  <setId root="{replaces.set_id if replaces else f"2.25.{uuid.uuid4().int}"}"/>
  <versionNumber value="{replaces.version + 1 if replaces else 1}"/>
  <recordTarget>
    <patientRole>
      {"".join(ids)}
      <patient classCode="PSN">
        <name>
          <family qualifier="BR">{esc(patient.birth_name)}</family>
          <given>{esc(patient.first_names)}</given>
          <given qualifier="BR">{esc(patient.first_name)}</given>
        </name>
        <administrativeGenderCode code="{esc(patient.sex)}"{gender_system}/>
        <birthTime value="{patient.birth_date.replace("-", "")}"/>
        {birthplace}
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="{time_value}"/>
    <assignedAuthor>
      {author_id}
      <code code="{who.profession_code}" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin"/>
      {person}
      {organisation}
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization>
        <id root="{who.practice_id}"/>
        <name>{esc(who.practice_name)}</name>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <legalAuthenticator>
    <time value="{time_value}"/>
    <signatureCode code="S"/>
    <assignedEntity>
      <id root="1.2.250.1.71.4.2.1" extension="{who.national_id}"/>
      {person}
    </assignedEntity>
  </legalAuthenticator>
  <documentationOf>
    <serviceEvent>
      {service_code}
      <effectiveTime><low value="{time_value}"/></effectiveTime>
    </serviceEvent>
  </documentationOf>
  {related}
  <componentOf>
    <encompassingEncounter>
      <effectiveTime><low value="{time_value}"/></effectiveTime>
      <location>
        <healthCareFacility>
          <code code="SA07" codeSystem="1.2.250.1.71.4.2.4" displayName="Cabinet individuel"/>
        </healthCareFacility>
      </location>
    </encompassingEncounter>
  </componentOf>
  <component>
    {body}
  </component>
</ClinicalDocument>
"""
    return doc.encode()


def _vaccination_body(who: Practitioner, moment: dt.datetime, person: str, *, with_lot: bool = True) -> str:
    """One vaccination act (IHE PCC Immunization entry) in the FR-Vaccinations section, as the VAC-NOTE volet
    asks: act type, date (AAAAMMJJ), vaccine by CIS code with its ATC translation, lot number, author with
    profession. Vaccine: a fictitious CIS code with the real ATC class of influenza vaccines (J07BB02)."""
    day = moment.strftime("%Y%m%d")
    lot = "<lotNumberText>TEST-0001</lotNumberText>" if with_lot else ""
    return f"""<structuredBody>
      <component>
        <section>
          <templateId root="2.16.840.1.113883.10.20.1.6"/>
          <templateId root="1.3.6.1.4.1.19376.1.5.3.1.3.23"/>
          <templateId root="1.2.250.1.213.1.1.2.147"/>
          <id root="2.25.{uuid.uuid4().int}"/>
          <code code="11369-6" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"
                displayName="Historique des vaccinations"/>
          <title>Vaccination</title>
          <text>
            <paragraph ID="vaccin-1">Vaccin contre la grippe saisonnière, lot TEST-0001,
              le {moment:%d/%m/%Y}.</paragraph>
          </text>
          <entry>
            <substanceAdministration classCode="SBADM" moodCode="EVN" negationInd="false">
              <templateId root="2.16.840.1.113883.10.20.1.24"/>
              <templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.12"/>
              <templateId root="1.2.250.1.213.1.1.3.45"/>
              <id root="2.25.{uuid.uuid4().int}"/>
              <code code="IMMUNIZ" displayName="Vaccination" codeSystem="2.16.840.1.113883.5.4"
                    codeSystemName="ActCode"/>
              <text><reference value="#vaccin-1"/></text>
              <statusCode code="completed"/>
              <effectiveTime value="{day}"/>
              <consumable typeCode="CSM">
                <manufacturedProduct>
                  <templateId root="2.16.840.1.113883.10.20.1.53"/>
                  <templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.7.2"/>
                  <templateId root="1.2.250.1.213.1.1.3.43"/>
                  <manufacturedMaterial>
                    <code code="60000000" displayName="VACCIN GRIPPAL DE TEST, suspension injectable"
                          codeSystem="1.2.250.1.213.2.3.1" codeSystemName="CIS">
                      <originalText><reference value="#vaccin-1"/></originalText>
                      <translation code="J07BB02"
                                   displayName="Influenza, inactivé, virion fragmenté ou antigène de surface"
                                   codeSystem="2.16.840.1.113883.6.73" codeSystemName="ATC"/>
                    </code>
                    <name>VACCIN GRIPPAL DE TEST</name>
                    {lot}
                  </manufacturedMaterial>
                </manufacturedProduct>
              </consumable>
              <author>
                <time value="{moment:%Y%m%d%H%M%S%z}"/>
                <assignedAuthor>
                  <id root="1.2.250.1.71.4.2.1" extension="{who.national_id}"/>
                  <code code="{who.profession_code}" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin"/>
                  {person}
                </assignedAuthor>
              </author>
            </substanceAdministration>
          </entry>
        </section>
      </component>
    </structuredBody>"""


# VSM sections (CI-SIS volet VSM): (templateIds, LOINC code, display name, title, narrative).
_SUMMARY_SECTIONS = (
    (
        ("1.2.250.1.213.1.1.2.29",),
        "46612-8",
        "Conclusions de synthèse",
        "Pathologie en cours, antécédents, allergies et facteurs de risques",
        "Pas d'allergie connue.",
    ),
    (
        ("1.3.6.1.4.1.19376.1.5.3.1.3.27", "1.2.250.1.213.1.1.2.150"),
        "30954-2",
        "Résultats d'examens",
        "Points de vigilance",
        "Aucun point de vigilance particulier.",
    ),
    (
        ("1.2.250.1.213.1.1.2.32",),
        "18776-5",
        "Plan de traitement",
        "Traitement au long cours",
        "Pas de traitement au long cours.",
    ),
)


def _summary_body() -> str:
    sections = []
    for templates, code, display, title, text in _SUMMARY_SECTIONS:
        ids = "".join(f'<templateId root="{root}"/>' for root in templates)
        sections.append(
            f'<component><section>{ids}<id root="2.25.{uuid.uuid4().int}"/>'
            f'<code code="{code}" displayName={quoteattr(display)} codeSystem="{LOINC}" codeSystemName="LOINC"/>'
            f"<title>{esc(title)}</title><text><paragraph>{esc(text)}</paragraph></text></section></component>"
        )
    return "<structuredBody>" + "".join(sections) + "</structuredBody>"
