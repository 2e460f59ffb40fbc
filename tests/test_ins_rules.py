from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulators.insi.identities import load_identities
from simulators.insi.ins import ins_key, matricule_problems, normalise_trait

# A 13-character NIR: sex, year, month, department (digits or Corsica), commune, order.
nirs = st.builds(
    lambda sex, year, month, dept, commune, order: f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}",
    st.sampled_from("12"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "69", "2A", "2B", "99", "01"]),
    st.integers(1, 999),
    st.integers(1, 999),
)


def test_key_of_a_known_matricule() -> None:
    # 97 - (1780375115027 mod 97) = 83
    assert ins_key("1780375115027") == "83"


def test_corsica_counts_as_19_and_18() -> None:
    assert ins_key("169082A004012") == f"{97 - 1690819004012 % 97:02d}"
    assert ins_key("255022B033011") == f"{97 - 2550218033011 % 97:02d}"


@given(nirs)
def test_a_matricule_with_its_computed_key_is_well_formed(nir: str) -> None:
    assert matricule_problems(nir + ins_key(nir)) == []


@given(nirs, st.integers(1, 96))
def test_any_other_key_is_reported(nir: str, shift: int) -> None:
    wrong = f"{(int(ins_key(nir)) + shift) % 97:02d}"
    problems = matricule_problems(nir + wrong)
    assert problems and "clé erronée" in problems[0].message


def test_length_and_structure_problems_are_named() -> None:
    assert "15" in matricule_problems("12345")[0].message
    assert "structure" in matricule_problems("9" * 15)[0].message


def test_traits_compare_without_case_or_accents() -> None:
    assert normalise_trait("  Lefèvre  ") == "LEFEVRE"
    assert normalise_trait("d'Almeida") == "D'ALMEIDA"


def test_every_test_identity_has_a_well_formed_matricule() -> None:
    for person in load_identities().persons:
        assert matricule_problems(person.matricule) == [], person.id
