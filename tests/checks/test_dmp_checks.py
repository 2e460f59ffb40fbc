"""DMP checks on hand-made evidence: each passes on a conforming exchange and fails, with its requirement and a
message a vendor can act on, on a faulty one (the campaign tests prove the same through the defect switches)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.checks.base import CheckContext, Evidence, Finding, PatientKeys
from bench.fixtures.documents import SAMPLE_PATIENT, build_cda
from bench.fixtures.xds import SubmissionContext, provide_and_register
from bench.runner.judge import run_check
from simulators.common.journal import Journal
from simulators.common.mtom import build_mtom
from simulators.common.pki import BenchPki
from simulators.common.soap import SOAP11_NS, SOAP12_NS, envelope
from simulators.common.xmlsafe import parse_xml

PATIENT = PatientKeys("p1", frozenset({f"ins:{SAMPLE_PATIENT.ins_matricule}"}))
SUBJECTS = sorted(PATIENT.keys)


def _feed(journal: Journal, document: bytes, body: str, cid: str, outcome: str = "success") -> None:
    data, content_type = build_mtom(envelope(body), {cid: (document, "text/xml")})
    journal.record("dmp", "dmp.iti41", {"request": (data, content_type)}, subjects=SUBJECTS, outcome=outcome)


def _judge(journal: Journal, check_id: str) -> list[Finding]:
    evidence = Evidence(journal.run_dir, journal.exchanges)
    return run_check(check_id, evidence, CheckContext(patient=PATIENT))


def _outcomes(findings: list[Finding]) -> set[str]:
    return {f.outcome for f in findings}


def test_metadata_consistency_passes_then_names_each_mismatch(tmp_path: Path) -> None:
    document = build_cda("consultation-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    good = Journal(tmp_path / "good")
    _feed(good, document, submission.body, submission.document_cid)
    assert _outcomes(_judge(good, "dmp.metadata_consistent")) == {"pass"}
    assert _outcomes(_judge(good, "dmp.metadata_complete")) == {"pass"}

    bad = Journal(tmp_path / "bad")
    wrong = submission.body.replace('nodeRepresentation="11488-4"', 'nodeRepresentation="34133-9"')
    _feed(bad, document + b" ", wrong, submission.document_cid)  # one more byte than the metadata says
    findings = _judge(bad, "dmp.metadata_consistent")
    assert _outcomes(findings) == {"fail"} and all(f.requirements == ("DMP-005",) for f in findings)
    messages = " | ".join(f.message for f in findings)
    assert "hash" in messages and "size" in messages and "typeCode '34133-9'" in messages


def test_metadata_completeness_names_what_is_missing(tmp_path: Path) -> None:
    document = build_cda("consultation-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3", omit=frozenset({"classCode"})))
    journal = Journal(tmp_path / "run")
    _feed(journal, document, submission.body, submission.document_cid, outcome="failure")
    findings = _judge(journal, "dmp.metadata_complete")
    assert [f.message.split(" : ", 1)[1] for f in findings] == ["classCode absent"]
    assert findings[0].requirements == ("DMP-004",)


def test_access_test_must_come_first(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "run")
    document = build_cda("consultation-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    _feed(journal, document, submission.body, submission.document_cid)
    journal.record("dmp", "dmp.td02", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS)
    findings = _judge(journal, "dmp.access_test_first")
    assert _outcomes(findings) == {"fail"} and "TD0.2" in findings[0].message
    ordered = Journal(tmp_path / "ordered")
    ordered.record("dmp", "dmp.td02", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS)
    _feed(ordered, document, submission.body, submission.document_cid)
    assert _outcomes(_judge(ordered, "dmp.access_test_first")) == {"pass"}


def _record_snapshot(journal: Journal, messages: list[str]) -> None:
    record = {"ref": "p1", "messages": messages, "documents": []}
    journal.record(
        "candidate", "candidate.patient_record", {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )  # fmt: skip


def test_a_refusal_is_respected_and_said_or_it_fails(tmp_path: Path) -> None:
    calm = Journal(tmp_path / "calm")
    calm.record(
        "dmp", "dmp.td02", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, outcome="FERME:VALIDE"
    )
    _record_snapshot(calm, ["DMP : accès impossible (DMP fermé)"])
    assert _outcomes(_judge(calm, "dmp.refusal_respected")) == {"pass"}

    storm = Journal(tmp_path / "storm")
    storm.record(
        "dmp", "dmp.td02", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, outcome="FERME:VALIDE"
    )
    for _ in range(3):
        storm.record(
            "dmp", "dmp.iti41", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, outcome="failure"
        )
    _record_snapshot(storm, [])
    findings = _judge(storm, "dmp.refusal_respected")
    assert _outcomes(findings) == {"fail"} and len(findings) == 2  # the storm, and the silence
    assert all(f.requirements == ("DMP-006",) for f in findings)


def test_vihf_problems_recorded_by_the_simulator_fail_dmp_003(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "run")
    summary = {"subject": "8x", "problems": ["Signature : assertion non signée"], "access_mode": "normal"}
    journal.record("dmp", "dmp.iti41", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS,
                   meta={"vihf": summary})  # fmt: skip
    findings = _judge(journal, "dmp.vihf")
    assert _outcomes(findings) == {"fail"} and "assertion non signée" in findings[0].message
    absent = Journal(tmp_path / "absent")
    absent.record("dmp", "dmp.iti18", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS,
                  meta={"vihf": None})  # fmt: skip
    assert "sans VIHF" in _judge(absent, "dmp.vihf")[0].message


def test_a_vihf_the_simulator_did_not_judge_is_judged_from_the_bytes(tmp_path: Path, pki: BenchPki) -> None:
    from tests.simulators import dmp_requests as req

    signed = req.vihf(pki, (SAMPLE_PATIENT.ins_matricule or "", SAMPLE_PATIENT.ins_oid or ""))
    captured = Journal(tmp_path / "captured")
    body = req.envelope("urn:ihe:iti:2007:RegistryStoredQuery", req.find_documents(), signed)
    captured.record("dmp", "dmp.iti18", {"request": (body, "application/soap+xml")}, subjects=SUBJECTS)
    assert _outcomes(_judge(captured, "dmp.vihf")) == {"pass"}
    forged = Journal(tmp_path / "forged")
    body = req.envelope(
        "urn:ihe:iti:2007:RegistryStoredQuery", req.find_documents(), signed.replace(b"TEST-1", b"TEST-2")
    )
    forged.record("dmp", "dmp.iti18", {"request": (body, "application/soap+xml")}, subjects=SUBJECTS)
    findings = _judge(forged, "dmp.vihf")
    assert _outcomes(findings) == {"fail"} and "signature invalide" in findings[0].message


def test_integration_is_not_judged_when_the_record_cannot_list_its_documents(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "run")
    journal.record(
        "dmp",
        "dmp.iti43",
        {"request": (b"<x/>", "application/soap+xml")},
        subjects=SUBJECTS,
        meta={"returned": ["1.2.3"]},
    )
    record: dict[str, object] = {
        "ref": "p1",
        "messages": [],
        "documents": None,
    }  # operator mode: a person reads the screen
    journal.record(
        "candidate", "candidate.patient_record", {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )  # fmt: skip
    findings = _judge(journal, "dmp.integrated_not_republished")
    assert _outcomes(findings) == {"skip"} and "opérateur" in findings[0].message  # never a partial pass
    listed = Journal(tmp_path / "listed")
    listed.record(
        "dmp",
        "dmp.iti43",
        {"request": (b"<x/>", "application/soap+xml")},
        subjects=SUBJECTS,
        meta={"returned": ["1.2.3"]},
    )
    record = {"ref": "p1", "messages": [], "documents": []}
    listed.record(
        "candidate", "candidate.patient_record", {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )  # fmt: skip
    assert _outcomes(_judge(listed, "dmp.integrated_not_republished")) == {"fail"}


def test_a_sha1_vihf_passes_dmp_003_with_a_note_and_a_refused_one_fails(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    note = "signature RSA-SHA1/SHA-1 : acceptée comme par le DMP, mais algorithme obsolète (SHA-256 conseillé)"
    vihf = {"problems": [], "notes": [note], "access_mode": "normal"}
    journal.record(
        "dmp", "dmp.iti18", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, meta={"vihf": vihf}
    )
    findings = _judge(journal, "dmp.vihf")
    assert _outcomes(findings) == {"pass"} and "à noter" in findings[0].message and "SHA-1" in findings[0].message
    refused = {"problems": ["Signature : assertion non signée"], "notes": [], "access_mode": "normal"}
    journal.record(
        "dmp", "dmp.iti18", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, meta={"vihf": refused}
    )
    assert _outcomes(_judge(journal, "dmp.vihf")) == {"fail"}


def test_a_soap_11_feed_is_judged_as_the_simulator_took_it(tmp_path: Path) -> None:
    """The official TD2.1 example is a SOAP 1.1 envelope and the DMP simulator accepts it: the checks read it too,
    instead of calling it unreadable."""
    document = build_cda("consultation-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    soap11 = envelope(submission.body).replace(SOAP12_NS.encode(), SOAP11_NS.encode())
    data, content_type = build_mtom(soap11, {submission.document_cid: (document, "text/xml")})
    journal = Journal(tmp_path)
    journal.record("dmp", "dmp.iti41", {"request": (data, content_type)}, subjects=SUBJECTS, outcome="success")
    assert _outcomes(_judge(journal, "dmp.metadata_complete")) == {"pass"}
    assert _outcomes(_judge(journal, "dmp.metadata_consistent")) == {"pass"}


@pytest.mark.parametrize(
    ("slots", "outcome"),
    [
        (
            {
                "$XDSDocumentEntryTypeCode": "('87273-9^^2.16.840.1.113883.6.1')",
                "$XDSDocumentEntryCreationTimeFrom": "20200101",
            },
            "pass",
        ),
        ({"$XDSDocumentEntryCreationTimeFrom": "20200101"}, "fail"),  # filtered after fetching everything
        (
            {
                "$XDSDocumentEntryTypeCode": "('11488-4^^2.16.840.1.113883.6.1')",
                "$XDSDocumentEntryCreationTimeFrom": "20200101",
            },
            "fail",
        ),
        ({"$XDSDocumentEntryTypeCode": "('87273-9^^2.16.840.1.113883.6.1')"}, "fail"),  # no period
    ],
)
def test_search_criteria_are_sent_to_the_dmp(tmp_path: Path, slots: dict[str, str], outcome: str) -> None:
    """DMP-031: what the bench asked (a vaccination note since 2020-01-01) must be in the ITI-18 itself."""
    from bench.actions.core import CANDIDATE
    from bench.candidates.reference.dmp_practice import _find_documents
    from bench.domains.dmp.checks import SEARCH, search_criteria

    journal = Journal(tmp_path)
    asked = {"ref": "p1", "kind": "vaccination-note", "since": "2020-01-01"}
    journal.record(CANDIDATE, SEARCH, {"search": (json.dumps(asked).encode(), "application/json")})
    query = _find_documents("285063306307734^^^&1.2.250.1.213.1.4.10&ISO^NH", slots)
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body>'
        f"{query}</s:Body></s:Envelope>"
    ).encode()
    call = journal.record("dmp", "dmp.iti18", {"request": (envelope, "application/soap+xml")})
    journal.close()
    findings = search_criteria(Evidence(tmp_path, journal.exchanges), CheckContext(focus=call))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("DMP-031",)
    if outcome == "fail":
        assert "TD3.1" in findings[0].message


@pytest.mark.parametrize(
    ("deleted", "shown", "outcome"),
    [
        (False, "alimente", "pass"),
        (False, "en_attente", "fail"),  # accepted by the DMP, not shown as sent
        (True, "supprime", "pass"),
        (True, "alimente", "fail"),  # deleted from the DMP, still shown as sent
    ],
)
def test_sending_status_follows_what_the_dmp_did(tmp_path: Path, deleted: bool, shown: str, outcome: str) -> None:
    """DMP-017: the status the record shows for each own document against the ITI-41 and TD3.3c the DMP accepted."""
    from simulators.dmp.xds import read_submission

    document = build_cda("consultation-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    unique_id = read_submission(parse_xml(submission.body.encode())).entries[0].identifiers["uniqueId"]
    journal = Journal(tmp_path / "run")
    _feed(journal, document, submission.body, submission.document_cid)
    if deleted:
        journal.record(
            "dmp",
            "dmp.iti57",
            {"request": (b"<x/>", "application/soap+xml")},
            subjects=SUBJECTS,
            outcome="success",
            meta={"changes": [f"suppression {unique_id}"]},
        )
    record = {
        "ref": "p1",
        "messages": [],
        "documents": [{"unique_id": unique_id, "origin": "own", "dmp_status": shown}],
    }
    journal.record(
        "candidate",
        "candidate.patient_record",
        {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )
    findings = _judge(journal, "dmp.sending_status_shown")
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-017",)
    if deleted:
        update = next(x for x in journal.exchanges if x.transaction == "dmp.iti57")
        verdicts = run_check(
            "dmp.deletion", Evidence(journal.run_dir, journal.exchanges), CheckContext(patient=PATIENT, focus=update)
        )
        assert _outcomes(verdicts) == {"pass"}


def test_a_deletion_the_dmp_refused_or_that_deletes_nothing_fails(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "run")
    refused = journal.record(
        "dmp", "dmp.iti57", {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, outcome="failure"
    )
    nothing = journal.record(
        "dmp",
        "dmp.iti57",
        {"request": (b"<x/>", "application/soap+xml")},
        subjects=SUBJECTS,
        outcome="success",
        meta={"changes": ["statut Archived 1.2.3"]},
    )
    evidence = Evidence(journal.run_dir, journal.exchanges)
    for update, said in ((refused, "refusée"), (nothing, "ne supprime aucun")):
        findings = run_check("dmp.deletion", evidence, CheckContext(patient=PATIENT, focus=update))
        assert _outcomes(findings) == {"fail"} and said in findings[0].message


@pytest.mark.parametrize(("dated", "outcome"), [("2025-11-28", "pass"), (None, "fail")])
def test_a_historical_document_carries_its_business_date(tmp_path: Path, dated: str | None, outcome: str) -> None:
    """DMP-018: asked for a document of 2025-11-28, the CDA and the XDS metadata of its feed carry that day."""
    import datetime as dt

    from bench.actions.core import CANDIDATE, DOCUMENT_REQUEST

    moment = dt.datetime(2025, 11, 28, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))) if dated else None
    document = build_cda("consultation-report", SAMPLE_PATIENT, now=moment)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    journal = Journal(tmp_path / "run")
    asked = json.dumps({"ref": "p1", "kind": "consultation-report", "business_date": "2025-11-28"}).encode()
    journal.record(CANDIDATE, DOCUMENT_REQUEST, {"request": (asked, "application/json")}, subjects=SUBJECTS)
    _feed(journal, document, submission.body, submission.document_cid)
    feed = journal.exchanges[-1]
    findings = run_check(
        "dmp.business_date", Evidence(journal.run_dir, journal.exchanges), CheckContext(patient=PATIENT, focus=feed)
    )
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-018",)
    if outcome == "fail":
        assert "creationTime" in findings[0].message and "effectiveTime" in findings[0].message


@pytest.mark.parametrize(
    ("answers", "shown", "outcome"),
    [
        (["ACTIF:VALIDE"], "actif", "pass"),
        (["NF"], "absent", "pass"),
        (["ACTIF:INTERDIT"], "non_autorise", "pass"),
        (["ACTIF:AUCUNE", "DMPOk:AJOUT"], "actif", "pass"),  # the authorisation was recorded (TD0.3)
        (["ACTIF:INTERDIT"], "absent", "fail"),  # a refused access shown as no DMP
        (["FERME:VALIDE"], "actif", "fail"),
    ],
)
def test_the_dmp_state_shown_follows_the_access_test(
    tmp_path: Path, answers: list[str], shown: str, outcome: str
) -> None:
    """DMP-026: the record shows what the DMP answered (TD0.2, then TD0.3)."""
    journal = Journal(tmp_path / "run")
    for answer in answers:
        transaction = "dmp.td03" if answer.startswith("DMPOk") else "dmp.td02"
        journal.record(
            "dmp", transaction, {"request": (b"<x/>", "application/soap+xml")}, subjects=SUBJECTS, outcome=answer
        )
    record = {"ref": "p1", "messages": [], "documents": [], "dmp_state": shown}
    journal.record(
        "candidate",
        "candidate.patient_record",
        {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )
    findings = _judge(journal, "dmp.state_shown")
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-026",)
