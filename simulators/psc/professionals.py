"""The PSC simulator's test professionals and the UserInfo claims PSC gives for them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

PROFESSIONALS_FILE = Path(__file__).with_name("professionals.yaml")
ROLE_SYSTEM = "1.2.250.1.213.1.1.5.5"  # SubjectRole: profession code ^ this OID (as in ANS's UserInfo example)

Channel = Literal["CARD", "MOBILE"]


class Professional(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rpps: str
    civility: str
    family_name: str
    given_name: str
    profession: str
    know_how: str
    specialty: str
    sector: str
    organisation: str
    structure_id: str
    mailbox: str
    email: str
    channels: tuple[Channel, ...]

    @property
    def national_id(self) -> str:
        """idNatPS: 8 + RPPS."""
        return "8" + self.rpps

    def userinfo(self, subject: str, auth_mode: str) -> dict[str, Any]:
        """The claims PSC's UserInfo endpoint answers, keys and shapes as in ANS's examples (PSC-POC
        ``userInfos.json``; a PSC BAS UserInfo of February 2023 in ANS's psc remote cache tests, class
        ``fr.ans.psc.remote.cache.api.utils.TmpTest``): empty strings where a real record has no value."""
        activity = dict.fromkeys(_ACTIVITY_KEYS, "")
        activity |= {
            "codeModeExercice": "L",
            "codeSecteurDactivite": self.sector.split("^")[0],
            "identifiantTechniqueDeLaStructure": self.structure_id,
            "raisonSocialeSite": self.organisation,
            "codePays": "99000",
        }
        return {
            "Secteur_Activite": self.sector,
            "sub": subject,
            "SubjectOrganization": self.organisation,
            "Mode_Acces_Raison": "",
            "preferred_username": self.national_id,
            "given_name": self.given_name,
            "Acces_Regulation_Medicale": "FAUX",
            "UITVersion": "1.0",
            "authMode": auth_mode,
            "SubjectRefPro": {
                "codeCivilite": self.civility,
                "exercices": [
                    {
                        "codeProfession": self.profession,
                        "codeCategorieProfessionnelle": "C",
                        "codeCiviliteDexercice": "",
                        "nomDexercice": self.family_name,
                        "prenomDexercice": self.given_name,
                        "codeTypeSavoirFaire": self.know_how,
                        "codeSavoirFaire": self.specialty,
                        "activities": [activity],
                    }
                ],
            },
            "SubjectOrganizationID": self.structure_id,
            "SubjectRole": [f"{self.profession}^{ROLE_SYSTEM}"],
            "PSI_Locale": "1.2.250.1.213.1.3.1.1",
            "otherIds": self.other_ids(),
            "SubjectNameID": self.national_id,
            "family_name": self.family_name,
        }

    def other_ids(self) -> list[dict[str, Any]]:
        return [{"identifiant": self.national_id, "origine": "RPPS", "qualite": 1}]


_ACTIVITY_KEYS = [
    "codeModeExercice",
    "codeSecteurDactivite",
    "codeSectionPharmacien",
    "codeRole",
    "codeGenreActivite",
    "numeroSiretSite",
    "numeroSirenSite",
    "numeroFinessSite",
    "numeroFinessetablissementJuridique",
    "identifiantTechniqueDeLaStructure",
    "raisonSocialeSite",
    "enseigneCommercialeSite",
    "complementDestinataire",
    "complementPointGeographique",
    "numeroVoie",
    "indiceRepetitionVoie",
    "codeTypeDeVoie",
    "libelleVoie",
    "mentionDistribution",
    "bureauCedex",
    "codePostal",
    "codeCommune",
    "codePays",
    "telephone",
    "telephone2",
    "telecopie",
    "adresseEMail",
    "codeDepartement",
    "ancienIdentifiantDeLaStructure",
    "autoriteDenregistrement",
]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    professionals: list[Professional]


@cache
def load_professionals(path: Path = PROFESSIONALS_FILE) -> dict[str, Professional]:
    """The test professionals by national id (8 + RPPS)."""
    data = _File.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {p.national_id: p for p in data.professionals}
