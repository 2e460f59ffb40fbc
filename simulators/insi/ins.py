"""The INS itself: matricule structure, key, OIDs and strict traits (Référentiel INS, ANS; guide d'implémentation).

A matricule INS is the 13-character NIR or NIA followed by a 2-digit key, key = 97 - (number mod 97), where the
Corsican departments 2A and 2B count as 19 and 18 in the number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Assigning-authority OIDs of the matricule (Référentiel INS, annexe; ANS "OID des autorités d'affectation").
OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_TEST_NIR = "1.2.250.1.213.1.4.10"
OID_TEST_NIA = "1.2.250.1.213.1.4.11"
PRODUCTION_OIDS = frozenset({OID_NIR, OID_NIA})
TEST_OIDS = frozenset({OID_TEST_NIR, OID_TEST_NIA})
INS_OIDS = PRODUCTION_OIDS | TEST_OIDS

_MATRICULE = re.compile(r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")
STRICT_TRAIT_CHARS = re.compile(r"^[A-Z][A-Z' -]*$")


def ins_key(nir13: str) -> str:
    """The 2-digit key of a 13-character NIR or NIA.

    >>> ins_key("169082A004012")  # born in Corse-du-Sud: 2A counts as 19
    '29'
    """
    if len(nir13) != 13:
        raise ValueError("un NIR ou NIA compte 13 caractères avant la clé")
    digits = nir13.upper()
    department = {"2A": "19", "2B": "18"}.get(digits[5:7], digits[5:7])
    number = int(digits[:5] + department + digits[7:])
    return f"{97 - number % 97:02d}"


@dataclass(frozen=True)
class MatriculeProblem:
    """Why a matricule is not well formed, in words a vendor can act on."""

    message: str


def matricule_problems(matricule: str) -> list[MatriculeProblem]:
    """Problems of a 15-character matricule INS; an empty list means well formed.

    >>> matricule_problems("169082A00401253")
    [MatriculeProblem(message="clé erronée : '29' attendue, '53' lue")]
    """
    problems: list[MatriculeProblem] = []
    if len(matricule) != 15:
        return [MatriculeProblem(f"le matricule compte {len(matricule)} caractères au lieu de 15")]
    if not _MATRICULE.match(matricule.upper()):
        return [MatriculeProblem("le matricule ne suit pas la structure NIR/NIA (sexe, année, mois, lieu, rang, clé)")]
    expected = ins_key(matricule[:13])
    if matricule[13:] != expected:
        problems.append(MatriculeProblem(f"clé erronée : {expected!r} attendue, {matricule[13:]!r} lue"))
    return problems


def normalise_trait(value: str) -> str:
    """Comparison form of a trait: upper case, no diacritics, single spaces (how INSi compares traits)."""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.upper().replace("Œ", "OE").replace("Æ", "AE").split())


def traits_key(birth_name: str, birth_date: str) -> str:
    """Routing key for exchanges about one person, independent of how the name was typed."""
    return f"traits:{normalise_trait(birth_name)}|{birth_date}"
