"""Every INS check proven twice: it passes on conforming evidence and fails, naming the requirement and what is
wrong, on non-conforming evidence. Evidence is built by hand in a real journal."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.candidates.base import PatientRecordView
from bench.checks.base import CheckContext, Evidence, Finding, PatientKeys
from bench.checks.registry import get
from bench.fixtures.documents import RecordTargetData, build_cda
from simulators.common.journal import Exchange, Journal
from simulators.common.soap import envelope, fault
from simulators.insi.messages import InsiIdentity, result_body
from tests.simulators.insi_requests import search_traits

MATRICULE = "178037511502783"
KEYS = PatientKeys("p1", frozenset({"patient:p1", f"ins:{MATRICULE}", "traits:DE LA FONTAINE-MARTIN|1978-03-14"}))
IDENTITY = InsiIdentity(
    MATRICULE,
    "1.2.250.1.213.1.4.10",
    "DE LA FONTAINE-MARTIN",
    "JEAN-BAPTISTE",
    "JEAN-BAPTISTE LOUIS MARIE",
    "M",
    "1978-03-14",
    "75115",
)
SUBJECTS = sorted(KEYS.keys)


class Story:
    """A journal filled step by step, and the checks run on it as the runner would."""

    def __init__(self, run_dir: Path) -> None:
        self.journal = Journal(run_dir)

    def insi(self, outcome: str, transaction: str = "insi.search_traits") -> Exchange:
        if outcome == "fault":
            response = fault("Receiver", "panne", subcode="siram_40")
        else:
            response = envelope(result_body(outcome, IDENTITY if outcome == "00" else None))
        request = search_traits("de La Fontaine-Martin", "Jean-Baptiste", "M", "1978-03-14")
        return self.journal.record(
            "insi",
            transaction,
            {"request": (request, "application/soap+xml"), "response": (response, "application/soap+xml")},
            subjects=SUBJECTS,
            outcome="fault:siram_40" if outcome == "fault" else f"CR{outcome}",
        )

    def record(self, **changes: object) -> Exchange:
        fields: dict[str, object] = dict(
            ref="p1",
            status="qualifiee",
            birth_name=IDENTITY.birth_name,
            first_name=IDENTITY.first_name,
            first_names=IDENTITY.first_names,
            sex="M",
            birth_date="1978-03-14",
            birth_place="75115",
            ins_matricule=MATRICULE,
            ins_oid="1.2.250.1.213.1.4.10",
            identity_document_checked=True,
        )
        fields.update(changes)
        view = PatientRecordView(**fields)  # type: ignore[arg-type]
        data = json.dumps(asdict(view)).encode()
        return self.journal.record(
            "candidate",
            "candidate.patient_record",
            {"record": (data, "application/json")},
            subjects=SUBJECTS,
            outcome=view.status,
        )

    def document(self, **changes: str | None) -> Exchange:
        fields: dict[str, str | None] = dict(
            local_id="L1",
            ins_matricule=MATRICULE,
            ins_oid="1.2.250.1.213.1.4.10",
            birth_name=IDENTITY.birth_name,
            first_name=IDENTITY.first_name,
            first_names=IDENTITY.first_names,
            sex="M",
            birth_date="1978-03-14",
            birth_place="75115",
        )
        fields.update(changes)
        data = build_cda("consultation-report", RecordTargetData(**fields))  # type: ignore[arg-type]
        return self.journal.record(
            "candidate", "candidate.document", {"document": (data, "application/xml")}, subjects=SUBJECTS
        )

    def run(self, check_id: str, focus: Exchange | None) -> list[Finding]:
        evidence = Evidence(self.journal.run_dir, self.journal.exchanges)
        return get(check_id).function(evidence, CheckContext(patient=KEYS, focus=focus))


@pytest.fixture
def story(tmp_path: Path) -> Story:
    return Story(tmp_path / "run")


def outcomes(findings: list[Finding]) -> set[str]:
    return {f.outcome for f in findings}


def only(findings: list[Finding], outcome: str, requirement: str) -> Finding:
    assert outcomes(findings) == {outcome}, [f.message for f in findings]
    assert findings[0].requirements == (requirement,)
    return findings[0]


# ins.matricule_format (INS-006)
def test_matricule_format_passes_on_test_oid_and_right_key(story: Story) -> None:
    only(story.run("ins.matricule_format", story.document()), "pass", "INS-006")


def test_matricule_format_fails_on_production_oid(story: Story) -> None:
    finding = only(story.run("ins.matricule_format", story.document(ins_oid="1.2.250.1.213.1.4.8")), "fail", "INS-006")
    assert "OID de production 1.2.250.1.213.1.4.8" in finding.message and "1.2.250.1.213.1.4.10" in finding.message


def _insi_answered(story: Story, oid: str) -> None:
    """INSi's CR00 for the patient, with ``oid`` (the qualification platform returns production OIDs)."""
    identity = dataclasses.replace(IDENTITY, oid=oid)
    request = search_traits("de La Fontaine-Martin", "Jean-Baptiste", "M", "1978-03-14")
    story.journal.record(
        "insi",
        "insi.search_traits",
        {
            "request": (request, "application/soap+xml"),
            "response": (envelope(result_body("00", identity)), "application/soap+xml"),
        },
        subjects=SUBJECTS,
        outcome="CR00",
    )


def test_matricule_format_accepts_the_production_oid_insi_returned(story: Story) -> None:
    _insi_answered(story, "1.2.250.1.213.1.4.8")
    only(story.run("ins.matricule_format", story.document(ins_oid="1.2.250.1.213.1.4.8")), "pass", "INS-006")


def test_matricule_format_fails_on_an_oid_other_than_the_one_insi_returned(story: Story) -> None:
    _insi_answered(story, "1.2.250.1.213.1.4.8")
    finding = only(story.run("ins.matricule_format", story.document()), "fail", "INS-006")
    assert "différent de celui qu'INSi a renvoyé (1.2.250.1.213.1.4.8)" in finding.message


def test_matricule_format_fails_on_wrong_key(story: Story) -> None:
    finding = only(
        story.run("ins.matricule_format", story.record(ins_matricule=MATRICULE[:13] + "00")), "fail", "INS-006"
    )
    assert "clé erronée : '83' attendue, '00' lue" in finding.message


# ins.traits_fidelity (INS-003)
def test_traits_fidelity_passes_when_traits_are_insi_ones(story: Story) -> None:
    story.insi("00")
    only(story.run("ins.traits_fidelity", story.record()), "pass", "INS-003")
    only(story.run("ins.traits_fidelity", story.document()), "pass", "INS-003")


def test_traits_fidelity_fails_on_typed_traits(story: Story) -> None:
    story.insi("00")
    finding = only(
        story.run("ins.traits_fidelity", story.record(birth_name="de La Fontaine-Martin")), "fail", "INS-003"
    )
    assert "nom de naissance : INSi a renvoyé 'DE LA FONTAINE-MARTIN', le candidat a 'de La Fontaine-Martin'" in (
        finding.message
    )
    finding = only(story.run("ins.traits_fidelity", story.document(first_names="JEAN-BAPTISTE")), "fail", "INS-003")
    assert "liste des prénoms de naissance" in finding.message


def test_traits_fidelity_skips_without_insi_answer(story: Story) -> None:
    only(story.run("ins.traits_fidelity", story.record()), "skip", "INS-003")


# ins.qualification_after_insi (INS-001)
def test_qualification_after_insi_passes_after_a_search(story: Story) -> None:
    story.insi("00")
    only(story.run("ins.qualification_after_insi", story.record()), "pass", "INS-001")


def test_qualification_without_insi_call_fails(story: Story) -> None:
    finding = only(story.run("ins.qualification_after_insi", story.record()), "fail", "INS-001")
    assert "sans aucun appel INSi" in finding.message


def test_qualification_without_identity_document_fails(story: Story) -> None:
    story.insi("00")
    finding = only(
        story.run("ins.qualification_after_insi", story.record(identity_document_checked=False)), "fail", "INS-001"
    )
    assert "pièce d'identité" in finding.message


# ins.no_qualification_on_01_02 (INS-004)
@pytest.mark.parametrize("cr", ["01", "02"])
def test_no_qualification_on_01_02_passes_when_left_validated(story: Story, cr: str) -> None:
    story.insi(cr)
    record = story.record(status="validee", ins_matricule=None, ins_oid=None)
    only(story.run("ins.no_qualification_on_01_02", record), "pass", "INS-004")


def test_qualification_on_02_fails(story: Story) -> None:
    story.insi("02")
    finding = only(story.run("ins.no_qualification_on_01_02", story.record(ins_matricule=None)), "fail", "INS-004")
    assert "CR02" in finding.message and "qualifiée" in finding.message


# ins.no_qualification_on_fault (INS-007)
def test_no_qualification_on_fault_passes_when_left_validated(story: Story) -> None:
    story.insi("fault")
    record = story.record(status="validee", ins_matricule=None, ins_oid=None)
    only(story.run("ins.no_qualification_on_fault", record), "pass", "INS-007")


def test_qualification_after_fault_fails(story: Story) -> None:
    story.insi("fault")
    finding = only(story.run("ins.no_qualification_on_fault", story.record()), "fail", "INS-007")
    assert "fault:siram_40" in finding.message


def test_fault_check_does_not_apply_after_a_00(story: Story) -> None:
    story.insi("00")
    only(story.run("ins.no_qualification_on_fault", story.record()), "omit", "INS-007")


# ins.shared_only_when_qualified (INS-005)
def test_ins_in_document_of_qualified_identity_passes(story: Story) -> None:
    document = story.document()
    story.record()
    only(story.run("ins.shared_only_when_qualified", document), "pass", "INS-005")


def test_ins_in_document_of_recovered_identity_fails(story: Story) -> None:
    document = story.document()
    story.record(status="recuperee", identity_document_checked=False)
    finding = only(story.run("ins.shared_only_when_qualified", document), "fail", "INS-005")
    assert f"transmet l'INS {MATRICULE}" in finding.message and "récupérée" in finding.message


def test_document_without_ins_for_recovered_identity_passes(story: Story) -> None:
    document = story.document(ins_matricule=None, ins_oid=None)
    story.record(status="recuperee", identity_document_checked=False)
    only(story.run("ins.shared_only_when_qualified", document), "pass", "INS-005")


# ins.verify_request and ins.verify_decision (INS-002): INSi has no verification operation; a held INS is verified by a
# traits search on its identity, and kept only if INSi answers it.
def _verify(story: Story, birth_name: str = "de La Fontaine-Martin", with_first_name: bool = True) -> Exchange:
    request = search_traits(birth_name, "Jean-Baptiste" if with_first_name else "", "M", "1978-03-14")
    response = envelope(result_body("00", IDENTITY))
    return story.journal.record(
        "insi",
        "insi.search_traits",
        {"request": (request, "application/soap+xml"), "response": (response, "application/soap+xml")},
        subjects=SUBJECTS,
        outcome="CR00",
    )


def test_verify_request_on_the_held_identity_traits_passes(story: Story) -> None:
    only(story.run("ins.verify_request", _verify(story)), "pass", "INS-002")


def test_verify_request_without_forename_fails(story: Story) -> None:
    finding = only(story.run("ins.verify_request", _verify(story, with_first_name=False)), "fail", "INS-002")
    assert "Prenom" in finding.message


def test_verify_request_on_another_identity_fails(story: Story) -> None:
    finding = only(story.run("ins.verify_request", _verify(story, birth_name="DUPONT")), "fail", "INS-002")
    assert "identité détenue" in finding.message


def test_verify_decision_keeps_the_ins_insi_answered(story: Story) -> None:
    _verify(story)
    only(story.run("ins.verify_decision", story.record()), "pass", "INS-002")


def test_verify_decision_fails_when_an_unconfirmed_ins_is_kept(story: Story) -> None:
    story.insi("01")
    finding = only(story.run("ins.verify_decision", story.record()), "fail", "INS-002")
    assert "non confirmée" in finding.message or "n'a pas confirmé" in finding.message


def test_verify_decision_passes_when_an_unconfirmed_ins_is_dropped(story: Story) -> None:
    story.insi("01")
    only(
        story.run("ins.verify_decision", story.record(ins_matricule=None, ins_oid=None, status="provisoire")),
        "pass",
        "INS-002",
    )


def test_unreadable_document_fails_the_document_checks_with_a_reason(story: Story) -> None:
    broken = story.journal.record(
        "candidate",
        "candidate.document",
        {"document": (b"<ClinicalDocument><unclosed>", "application/xml")},
        subjects=SUBJECTS,
    )
    story.record()
    for check_id, requirement in (("ins.matricule_format", "INS-006"), ("ins.shared_only_when_qualified", "INS-005")):
        finding = only(story.run(check_id, broken), "fail", requirement)
        assert "document illisible" in finding.message
