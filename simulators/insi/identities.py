"""The INSi simulator's reference base of identities, and the matching rules it applies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from simulators.insi.ins import (
    OID_NIA,
    OID_NIR,
    OID_TEST_NIA,
    OID_TEST_NIR,
    ins_key,
    normalise_trait,
    traits_key,
)

DEFAULT_IDENTITIES = Path(__file__).with_name("identities.yaml")


class Traits(BaseModel):
    """The strict identity traits (traits stricts) as INSi returns them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    birth_name: str
    first_name: str
    first_names: str
    sex: Literal["M", "F"]
    birth_date: str
    birth_place: str

    @property
    def key(self) -> str:
        return traits_key(self.birth_name, self.birth_date)


class VitaleCard(BaseModel):
    """What a Vitale card reading gives for one beneficiary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    beneficiary: str | None = None
    insured: str | None = None
    rank: str = "1"


class Person(BaseModel):
    """One person of the national base, with the hard case it stands for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    case: str
    kind: Literal["nir", "nia"]
    nir: str
    traits: Traits
    vitale: VitaleCard | None = None

    @field_validator("nir")
    @classmethod
    def _thirteen(cls, value: str) -> str:
        if len(value) != 13:
            raise ValueError("nir must have 13 characters (the key is computed)")
        return value

    @property
    def matricule(self) -> str:
        return self.nir + ins_key(self.nir)

    def oid(self, test: bool = True) -> str:
        if self.kind == "nia":
            return OID_TEST_NIA if test else OID_NIA
        return OID_TEST_NIR if test else OID_NIR


class IdentityBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The OID INSi returns with these identities: the test ones (1.2.250.1.213.1.4.10/.11), or the production ones
    # as the qualification platform returns them for its test identities (padoa/tlsi-ins CNDA fixtures TEST_2.04 to
    # 2.08, the official INSi example answer), while the DMP test platform addresses the same patient with .10.
    returned_oids: Literal["test", "production"] = "test"
    persons: list[Person]

    def by_id(self, person_id: str) -> Person:
        for person in self.persons:
            if person.id == person_id:
                return person
        raise KeyError(person_id)

    def search_traits(
        self, birth_name: str, first_names: list[str], sex: str, birth_date: str, birth_place: str | None
    ) -> list[Person]:
        """Persons matching traits the way INSi does: names compared without case or diacritics, each requested
        forename among the person's birth forenames, the birthplace only when given."""
        wanted = [normalise_trait(name) for name in first_names if name.strip()]
        found = []
        for person in self.persons:
            traits = person.traits
            forenames = normalise_trait(traits.first_names).split(" ")
            if (
                normalise_trait(birth_name) == traits.birth_name
                and sex == traits.sex
                and birth_date == traits.birth_date
                and wanted
                and all(name in forenames or name == traits.first_name for name in wanted)
                and (not birth_place or birth_place.upper() == traits.birth_place)
            ):
                found.append(person)
        return found

    def search_vitale(self, beneficiary: str | None, insured: str | None, birth_date: str | None) -> list[Person]:
        """Persons designated by a Vitale card reading: the beneficiary's own number when the card carries it,
        otherwise the insured person's number with the birth date."""
        found = []
        for person in self.persons:
            card = person.vitale
            if card is None:
                continue
            if (beneficiary and card.beneficiary and beneficiary[:13].upper() == card.beneficiary) or (
                not beneficiary
                and insured
                and card.insured
                and insured[:13].upper() == card.insured
                and birth_date == person.traits.birth_date
            ):
                found.append(person)
        return found

    def by_matricule(self, matricule: str) -> Person | None:
        for person in self.persons:
            if person.matricule == matricule.upper():
                return person
        return None


def load_identities(path: Path = DEFAULT_IDENTITIES) -> IdentityBase:
    with path.open(encoding="utf-8") as handle:
        return IdentityBase.model_validate(yaml.safe_load(handle))
