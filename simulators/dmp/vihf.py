"""The VIHF: the signed SAML 2.0 assertion every DMP call carries in its WS-Security header, identifying the
professional, the structure, the software, the access mode and the patient (GI DMP "Service DMP intégré aux LPS",
§ VIHF; attribute names as in ANS's public tooling and published LPS integrations, VIHF_Version 3.0).

This module reads and verifies one: XML signature (enveloped, checked with the certificate in KeyInfo, which must be
issued by the bench CA), validity window, required attributes and their forms. Each problem is named so that the
simulator can answer as the DMP would and the checks can say what to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from simulators.common.saml import (
    CLOCK_SKEW,
    SAML,
    AssertionProblem,
    algorithm_notes,
    read_instant,
    signature_problems,
    structure_problems,
)
from simulators.common.xmlsafe import parse_xml

IDENTIFIANT_STRUCTURE = "Identifiant_Structure"
SECTEUR_ACTIVITE = "Secteur_Activite"
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
VIHF_VERSION = "VIHF_Version"
# Spelled "Authentification_mode" in the GIE SESAM-Vitale example tokens, "Authentification_Mode" by ANS's DRIMbox and
# the official C# sample: both are read as one attribute.
AUTHENTIFICATION_MODE = "Authentification_mode"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
RESOURCE_URN = "Ressource_URN"
PURPOSE_OF_USE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
LPS_NOM = "LPS_Nom"
LPS_VERSION = "LPS_Version"  # optional: read and recorded, never required
LPS_ID_HOMOLOGATION_DMP = "LPS_ID_HOMOLOGATION_DMP"
# What every official example token carries (GIE SESAM-Vitale "Exemples Jeton VIHF" v02.05.00: DIRECTE signed and
# unsigned, INDIRECTE, INDIRECTE_RENFORCEE). subject-id is carried only by the INDIRECTE tokens (SUBJECT_ID_MODES).
REQUIRED = (
    IDENTIFIANT_STRUCTURE,
    SECTEUR_ACTIVITE,
    ROLE,
    VIHF_VERSION,
    AUTHENTIFICATION_MODE,
    RESOURCE_ID,
    RESOURCE_URN,
    PURPOSE_OF_USE,
    LPS_NOM,
    LPS_ID_HOMOLOGATION_DMP,
)
VIHF_VERSIONS = ("3.0",)
AUTHENTICATION_MODES = ("DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE")  # INDIRECTE_RENFORCEE: wave 2's AIR mode
SUBJECT_ID_MODES = ("INDIRECTE", "INDIRECTE_RENFORCEE")
_VALUE_SETS: dict[str, Any] = yaml.safe_load((Path(__file__).with_name("vihf-value-sets.yaml")).read_text("utf-8"))
ROLES: frozenset[tuple[str, str]] = frozenset(
    (str(code), system) for system, codes in _VALUE_SETS["roles"]["codes"].items() for code in codes
)
# TRE_R248 access modes (purpose of use), case-insensitive: normal, bris_de_glace, centre_15.
ACCESS_MODES: tuple[str, ...] = tuple(_VALUE_SETS["access_modes"]["codes"])
ACCESS_MODE_SYSTEM: str = _VALUE_SETS["access_modes"]["system"]
MAX_VALIDITY = dt.timedelta(hours=24)
RESOURCE_ID_FORM = re.compile(r"^(?P<ins>[0-9][0-9AB]{14}|[0-9]{15})\^\^\^&(?P<oid>[0-9]+(?:\.[0-9]+)+)&ISO\^NH$")


# What is wrong with a VIHF, with the attribute or element concerned.
VihfProblem = AssertionProblem


@dataclass
class Vihf:
    assertion_id: str | None = None
    issuer: str | None = None
    subject: str | None = None
    issue_instant: dt.datetime | None = None
    not_before: dt.datetime | None = None
    not_on_or_after: dt.datetime | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    roles: list[tuple[str, str, str]] = field(default_factory=list)
    access_mode: str | None = None  # TRE_R248 code, lower-cased (the code system is case-insensitive)
    access_mode_system: str | None = None
    patient_ins: str | None = None
    patient_oid: str | None = None
    signer: str | None = None
    notes: list[str] = field(default_factory=list)  # what is accepted but worth saying (SHA-1 signatures)

    def first(self, name: str) -> str | None:
        values = self.attributes.get(name) or []
        return values[0] if values else None


def read_vihf(assertion: Any) -> Vihf:
    """The VIHF's content, without judging it."""
    vihf = Vihf(assertion_id=assertion.get("ID"), issue_instant=read_instant(assertion.get("IssueInstant")))
    vihf.issuer = (assertion.findtext(f"{{{SAML}}}Issuer") or "").strip() or None
    vihf.subject = (assertion.findtext(f"{{{SAML}}}Subject/{{{SAML}}}NameID") or "").strip() or None
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    if conditions is not None:
        vihf.not_before = read_instant(conditions.get("NotBefore"))
        vihf.not_on_or_after = read_instant(conditions.get("NotOnOrAfter"))
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        name = attribute.get("Name") or ""
        if name.lower() == AUTHENTIFICATION_MODE.lower():
            name = AUTHENTIFICATION_MODE
        values = []
        for value in attribute.findall(f"{{{SAML}}}AttributeValue"):
            coded = [child for child in value if isinstance(child.tag, str)]
            if coded:
                code = coded[0]
                values.append(code.get("code") or "")
                if name == ROLE:
                    vihf.roles.append(
                        (code.get("code") or "", code.get("codeSystem") or "", code.get("displayName") or "")
                    )
                if name == PURPOSE_OF_USE:
                    vihf.access_mode = (code.get("code") or "").lower() or None
                    vihf.access_mode_system = code.get("codeSystem")
            else:
                values.append((value.text or "").strip())
        vihf.attributes[name] = values
    resource = vihf.first(RESOURCE_ID)
    match = RESOURCE_ID_FORM.match(resource or "")
    if match:
        vihf.patient_ins, vihf.patient_oid = match.group("ins"), match.group("oid")
    return vihf


# Software signs a VIHF once and reuses it for every call within its validity: a signature that verified is not
# verified again for the very same bytes (bounded cache of successes only); the assertion's validity window and its
# attributes are judged on every call.
_VERIFIED: OrderedDict[tuple[bytes, bytes], tuple[str | None, bytes]] = OrderedDict()  # -> signer, signed bytes
_VERIFIED_KEPT = 1024
_VERIFIED_LOCK = threading.Lock()


def verify_vihf(assertion: Any, ca: x509.Certificate, now: dt.datetime | None = None) -> tuple[Vihf, list[VihfProblem]]:
    """Read the VIHF and list everything wrong with it: structure, signature, signer, validity, attributes. What it
    says is read from the element the signature covers (signxml's verified result), never from the caller's tree."""
    moment = now or dt.datetime.now(dt.UTC)
    problems = structure_problems(assertion)
    key = (hashlib.sha256(etree.tostring(assertion, method="c14n")).digest(), ca.fingerprint(hashes.SHA256()))
    with _VERIFIED_LOCK:
        cached = _VERIFIED.get(key)
        if cached is not None:
            _VERIFIED.move_to_end(key)
    if cached is not None:
        signer, signed_bytes = cached
        vihf = read_vihf(parse_xml(signed_bytes))
        vihf.signer = signer
    else:
        unsigned, signed, signer = signature_problems(assertion, ca)
        problems += unsigned
        vihf = read_vihf(signed if signed is not None and not unsigned else assertion)
        vihf.signer = signer
        if not problems and signed is not None:
            with _VERIFIED_LOCK:
                _VERIFIED[key] = (signer, etree.tostring(signed))
                while len(_VERIFIED) > _VERIFIED_KEPT:
                    _VERIFIED.popitem(last=False)
    vihf.notes = algorithm_notes(assertion)
    problems += _validity_problems(vihf, moment)
    problems += _attribute_problems(vihf)
    return vihf, problems


def judge_captured_vihf(assertion: Any, at: dt.datetime | None) -> tuple[Vihf, list[VihfProblem]]:
    """A VIHF seen in a capture, judged without the DMP's trust store: its structure, its signature against the
    certificate it carries, its validity at the time of the exchange (when known), its attributes, read from what the
    signature covers. Whether the signer was issued by a trusted authority cannot be told from the capture alone."""
    problems = structure_problems(assertion)
    unsigned, signed, signer = signature_problems(assertion, None, at)
    problems += unsigned
    vihf = read_vihf(signed if signed is not None and not unsigned else assertion)
    vihf.signer = signer
    vihf.notes = algorithm_notes(assertion)
    if at is not None:
        problems += _validity_problems(vihf, at)
    return vihf, problems + _attribute_problems(vihf)


def _validity_problems(vihf: Vihf, now: dt.datetime) -> list[VihfProblem]:
    problems = []
    if vihf.issue_instant is None:
        problems.append(VihfProblem("IssueInstant", "IssueInstant absent ou illisible"))
    elif vihf.issue_instant > now + CLOCK_SKEW:
        problems.append(VihfProblem("IssueInstant", "assertion émise dans le futur"))
    if vihf.not_before and vihf.not_before > now + CLOCK_SKEW:
        problems.append(
            VihfProblem("Conditions", f"assertion pas encore valide (NotBefore {vihf.not_before:%H:%M:%S})")
        )
    if vihf.not_on_or_after and vihf.not_on_or_after <= now - CLOCK_SKEW:
        problems.append(VihfProblem("Conditions", f"assertion expirée (NotOnOrAfter {vihf.not_on_or_after:%H:%M:%S})"))
    if vihf.issue_instant and vihf.not_on_or_after and vihf.not_on_or_after - vihf.issue_instant > MAX_VALIDITY:
        problems.append(
            VihfProblem("Conditions", "durée de validité au-delà de 24 h : le VIHF doit être de courte durée")
        )
    if not vihf.subject:
        problems.append(VihfProblem("Subject", "Subject/NameID absent : l'identifiant du professionnel est requis"))
    return problems


def _attribute_problems(vihf: Vihf) -> list[VihfProblem]:
    problems = [
        VihfProblem(name, f"attribut {name} absent ou vide")
        for name in REQUIRED
        if not any(v for v in vihf.attributes.get(name, []))
    ]
    version = vihf.first(VIHF_VERSION)
    if version and version not in VIHF_VERSIONS:
        problems.append(VihfProblem(VIHF_VERSION, f"VIHF_Version {version!r} : {', '.join(VIHF_VERSIONS)} attendue"))
    mode = vihf.first(AUTHENTIFICATION_MODE)
    if mode and mode not in AUTHENTICATION_MODES:
        problems.append(
            VihfProblem(
                AUTHENTIFICATION_MODE, f"mode d'authentification {mode!r} : {', '.join(AUTHENTICATION_MODES)} attendu"
            )
        )
    if mode in SUBJECT_ID_MODES and not any(v for v in vihf.attributes.get(SUBJECT_ID, [])):
        problems.append(VihfProblem(SUBJECT_ID, f"attribut {SUBJECT_ID} absent ou vide (requis en mode {mode})"))
    urn = vihf.first(RESOURCE_URN)
    if urn and urn != "urn:dmp":
        problems.append(VihfProblem(RESOURCE_URN, f"Ressource_URN {urn!r} : urn:dmp attendu"))
    resource = vihf.first(RESOURCE_ID)
    if resource and vihf.patient_ins is None:
        problems.append(VihfProblem(RESOURCE_ID, f"identifiant patient {resource!r} : INS^^^&OID&ISO^NH attendu"))
    if vihf.attributes.get(ROLE):
        unknown = [f"{code}/{system}" for code, system, _d in vihf.roles if (code, system) not in ROLES]
        if unknown or not vihf.roles:
            problems.append(
                VihfProblem(ROLE, f"rôle(s) {', '.join(unknown) or 'non codé(s)'} hors du jeu de valeurs JDV_J65")
            )
    if vihf.attributes.get(PURPOSE_OF_USE):
        if vihf.access_mode not in ACCESS_MODES:
            problems.append(
                VihfProblem(
                    PURPOSE_OF_USE, f"mode d'accès {vihf.access_mode!r} : {', '.join(ACCESS_MODES)} (TRE_R248) attendu"
                )
            )
        elif vihf.access_mode_system != ACCESS_MODE_SYSTEM:
            problems.append(
                VihfProblem(
                    PURPOSE_OF_USE,
                    f"mode d'accès codé dans {vihf.access_mode_system!r} : {ACCESS_MODE_SYSTEM} (TRE_R248) attendu",
                )
            )
    return problems
