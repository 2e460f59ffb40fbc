"""Pseudonyms: consistent under a key, distinct across keys and values, well formed, shape-preserving."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.replay.pseudonymise import Pseudonymiser
from simulators.insi.ins import ins_key, matricule_problems

KEY = b"user-secret"
nirs = st.builds(
    lambda sex, year, month, dept, rest: f"{sex}{year:02d}{month:02d}{dept}{rest:06d}",
    st.sampled_from("12"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "69", "2A", "2B", "99", "97", "01"]),
    st.integers(0, 999_999),
)


@given(nirs)
def test_matricules_stay_well_formed_and_keep_their_kind(nir: str) -> None:
    original = nir + ins_key(nir)
    pseudo = Pseudonymiser(KEY).matricule(original)
    assert matricule_problems(pseudo) == []
    assert pseudo[:5] == original[:5]  # sex, birth year and month kept
    corsican = original[5:7] in ("2A", "2B")
    assert (pseudo[5:7] in ("2A", "2B")) == corsican
    assert (pseudo[5:7] == "99") == (original[5:7] == "99")


def test_consistent_under_one_key_and_different_under_another() -> None:
    one, same, other = Pseudonymiser(KEY), Pseudonymiser(KEY), Pseudonymiser(b"another key")
    assert one.matricule("178037511502783") == same.matricule("178037511502783")
    assert one.matricule("178037511502783") != other.matricule("178037511502783")
    assert one.matricule("178037511502783") != "178037511502783"
    assert one.word("DE LA FONTAINE-MARTIN") == same.word("DE LA FONTAINE-MARTIN")


def test_names_keep_their_shape_and_their_differences() -> None:
    p = Pseudonymiser(KEY)
    pseudo = p.word("DE LA FONTAINE-MARTIN")
    assert len(pseudo) == len("DE LA FONTAINE-MARTIN") and pseudo[2] == " " and pseudo[14] == "-"
    assert pseudo.isupper() and pseudo != "DE LA FONTAINE-MARTIN"
    assert p.word("Lefèvre") != p.word("LEFEVRE")  # what the traits check must still see as different
    assert p.word("D'ALMEIDA")[1] == "'"


def test_dates_move_consistently() -> None:
    p = Pseudonymiser(KEY)
    assert p.date("1978-03-14") == p.date("1978-03-14") != "1978-03-14"
    assert p.date("19780314") != "19780314" and len(p.date("19780314")) == 8


def test_free_text_loses_every_known_identity() -> None:
    p = Pseudonymiser(KEY)
    known = {"DE LA FONTAINE-MARTIN": p.word("DE LA FONTAINE-MARTIN"), "1978-03-14": p.date("1978-03-14")}
    text = "Patient DE LA FONTAINE-MARTIN né le 1978-03-14, INS 178037511502783, NIR 1780375115027."
    pseudo = p.text(text, known)
    for secret in ("DE LA FONTAINE-MARTIN", "1978-03-14", "178037511502783", "1780375115027"):
        assert secret not in pseudo
    assert p.matricule("178037511502783") in pseudo


def test_text_never_pseudonymises_a_pseudonym_twice() -> None:
    p = Pseudonymiser(KEY)
    once = p.text("INS 178037511502783")
    assert p.text(once) == once


@given(nirs, st.integers(1, 99))
def test_a_wrong_key_stays_wrong_by_the_same_offset(nir: str, shift: int) -> None:
    wrong = f"{(int(ins_key(nir)) + shift) % 100:02d}"
    pseudo = Pseudonymiser(KEY).matricule(nir + wrong)
    assert (int(pseudo[13:]) - int(ins_key(pseudo[:13]))) % 100 == shift
    assert matricule_problems(pseudo) != []


def test_the_text_hider_keeps_the_bench_ids_and_cannot_be_fooled_by_placeholder_lookalikes() -> None:
    from bench.replay.identities import text_hider

    hide = text_hider(Pseudonymiser(b"k" * 32), {"Inconnu-Sans-Ins"}, {"2000-01-01"}, {"ins.matricule_format"})
    text = "INS-001, INS-SC-05 et ins.matricule_format : Inconnu-Sans-Ins né le 2000-01-01 \x000\x00 \ue0000\ue001"
    hidden = hide(text)
    assert "INS-001" in hidden and "INS-SC-05" in hidden and "ins.matricule_format" in hidden
    assert "Inconnu" not in hidden and "2000-01-01" not in hidden
    assert hidden.endswith("\x000\x00 \ue0000\ue001")  # lookalikes of the placeholders pass through untouched
