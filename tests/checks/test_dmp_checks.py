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
from simulators.common.journal import Exchange, Journal
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


def _asked_then_queried(
    run_dir: Path, view: str, asked: dict[str, str], slots: dict[str, str]
) -> tuple[Journal, Exchange]:
    """What the bench asked the software to search (journaled as ``view``), then the ITI-18 FindDocuments it sent
    with ``slots`` (as the reference candidate writes one)."""
    from bench.actions.core import CANDIDATE
    from bench.candidates.reference.dmp_practice import _find_documents

    journal = Journal(run_dir)
    journal.record(CANDIDATE, view, {"search": (json.dumps(asked).encode(), "application/json")})
    query = _find_documents("285063306307734^^^&1.2.250.1.213.1.4.10&ISO^NH", slots)
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body>'
        f"{query}</s:Body></s:Envelope>"
    ).encode()
    call = journal.record("dmp", "dmp.iti18", {"request": (envelope, "application/soap+xml")})
    journal.close()
    return journal, call


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
    from bench.domains.dmp.checks import SEARCH, search_criteria

    asked = {"ref": "p1", "kind": "vaccination-note", "since": "2020-01-01"}
    journal, call = _asked_then_queried(tmp_path, SEARCH, asked, slots)
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


@pytest.mark.parametrize(("letter_day", "outcome"), [("2025-11-28", "pass"), ("2025-11-24", "fail")])
def test_a_historical_stay_spans_its_business_date(tmp_path: Path, letter_day: str, outcome: str) -> None:
    """DMP-018: a discharge letter of 2025-11-28 covers a stay that began three days before: its act (XDS
    serviceStartTime to serviceStopTime) spans the business date, which a letter written for another day does not."""
    import datetime as dt

    from bench.actions.core import CANDIDATE, DOCUMENT_REQUEST

    day = dt.date.fromisoformat(letter_day)
    moment = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    document = build_cda("discharge-letter", SAMPLE_PATIENT, now=moment)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    assert "serviceStopTime" in submission.body
    journal = Journal(tmp_path / "run")
    asked = json.dumps({"ref": "p1", "kind": "discharge-letter", "business_date": "2025-11-28"}).encode()
    journal.record(CANDIDATE, DOCUMENT_REQUEST, {"request": (asked, "application/json")}, subjects=SUBJECTS)
    _feed(journal, document, submission.body, submission.document_cid)
    findings = run_check(
        "dmp.business_date",
        Evidence(journal.run_dir, journal.exchanges),
        CheckContext(patient=PATIENT, focus=journal.exchanges[-1]),
    )
    assert _outcomes(findings) == {outcome}
    if outcome == "fail":
        assert "serviceStartTime/serviceStopTime 20251121" in findings[0].message


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


def _retrieval(journal: Journal, documents: dict[str, bytes]) -> None:
    """An ITI-43 answer carrying ``documents`` (unique id -> CDA), as the DMP simulator records it."""
    responses = "".join(
        f"<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.250.1.213.1.1.9</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId><xdsb:mimeType>text/xml</xdsb:mimeType>"
        f'<xdsb:Document><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:{n}@b"/>'
        "</xdsb:Document></xdsb:DocumentResponse>"
        for n, uid in enumerate(documents)
    )
    body = (
        '<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        'xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"><rs:RegistryResponse '
        'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        + responses
        + "</xdsb:RetrieveDocumentSetResponse>"
    )
    parts = {f"{n}@b": (data, "text/xml") for n, data in enumerate(documents.values())}
    data, content_type = build_mtom(envelope(body), parts)
    journal.record(
        "dmp",
        "dmp.iti43",
        {"request": (b"<x/>", "application/soap+xml"), "response": (data, content_type)},
        subjects=SUBJECTS,
        outcome="success",
        meta={"returned": list(documents)},
    )


def _record_of(journal: Journal, documents: list[dict[str, object]]) -> None:
    record = {"ref": "p1", "messages": [], "documents": documents}
    journal.record(
        "candidate",
        "candidate.patient_record",
        {"record": (json.dumps(record).encode(), "application/json")},
        subjects=SUBJECTS,
    )


def _dated(kind: str, day: str) -> tuple[str, bytes]:
    import datetime as dt

    from bench.fixtures.colleague import COLLEAGUE
    from bench.fixtures.xds import read_header

    moment = dt.datetime.fromisoformat(f"{day}T10:30:00+01:00")
    document = build_cda(kind, SAMPLE_PATIENT, COLLEAGUE, now=moment)
    return read_header(document).unique_id, document


@pytest.mark.parametrize(
    ("shown", "outcome"),
    [
        ({"type_code": "87273-9", "date": "2026-11-27"}, "pass"),
        ({"type_code": "87273-9", "date": "2026-11-30"}, "fail"),  # the day it was integrated
        ({"type_code": None, "date": None, "author": None}, "skip"),  # software that does not say (API < 1.5)
    ],
)
def test_documents_integrated_from_the_dmp_are_filed_under_their_cda_keys(
    tmp_path: Path, shown: dict[str, object], outcome: str
) -> None:
    """CDA-013: type and date of what the ITI-43 brought, as the CDA writes them."""
    uid, document = _dated("vaccination-note", "2026-11-27")
    journal = Journal(tmp_path / "run")
    _retrieval(journal, {uid: document})
    _record_of(journal, [{"unique_id": uid, "title": "VAC", "origin": "dmp", "dmp_status": "integre", **shown}])
    findings = _judge(journal, "dmp.imports_classified")
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("CDA-013",)


def _integration_asked(journal: Journal, kind: str) -> None:
    asked = json.dumps({"ref": "p1", "kind": kind}).encode()
    journal.record(
        "candidate", "candidate.dmp_integration", {"integration": (asked, "application/json")}, subjects=SUBJECTS
    )


@pytest.mark.parametrize(
    ("retrieved", "listed", "outcome", "said"),
    [
        (["vac"], ["vac"], "pass", "une seule fois"),
        (["vac", "summary"], ["vac", "summary"], "fail", "non choisi"),  # the whole list integrated
        (["vac", "vac"], ["vac", "vac"], "fail", "récupéré à nouveau"),  # the duplicate retrieved and kept
        (["vac"], ["vac", "vac"], "fail", "2 fois au dossier"),
        ([], [], "fail", "absent du dossier"),
    ],
)
def test_only_the_chosen_dmp_documents_are_integrated_once(
    tmp_path: Path, retrieved: list[str], listed: list[str], outcome: str, said: str
) -> None:
    """DMP-032: the user's pick alone, and no second copy of one already integrated."""
    documents = {"vac": _dated("vaccination-note", "2026-11-27"), "summary": _dated("medical-summary", "2026-11-27")}
    journal = Journal(tmp_path / "run")
    _integration_asked(journal, "vaccination-note")
    for name in retrieved:
        uid, data = documents[name]
        _retrieval(journal, {uid: data})
    _integration_asked(journal, "vaccination-note")
    base = {"title": "doc", "origin": "dmp", "dmp_status": "integre"}
    _record_of(journal, [{**base, "unique_id": documents[name][0]} for name in listed])
    findings = _judge(journal, "dmp.selective_integration")
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-032",)
    assert said in findings[0].message


@pytest.mark.parametrize(
    ("change", "shown", "outcome", "said"),
    [
        ("replaces", {"author": "AUTRE CONFRERE", "dmp_change": "remplace"}, "pass", "signalé"),
        ("replaces", {"author": "AUTRE CONFRERE", "dmp_change": None}, "fail", "remplacement dans le DMP non signalé"),
        ("replaces", {"author": "Dr X", "dmp_change": "remplace"}, "fail", "auteur montré"),
        ("deletes", {"author": "AUTRE CONFRERE", "dmp_change": "supprime"}, "pass", "supprime"),
        ("deletes", {"author": "AUTRE CONFRERE", "dmp_change": "remplace"}, "fail", "suppression dans le DMP non"),
    ],
)
def test_a_dmp_document_replaced_or_deleted_after_integration_is_noticed(
    tmp_path: Path, change: str, shown: dict[str, object], outcome: str, said: str
) -> None:
    """DMP-034: the record shows the author of an integrated document and what became of it in the DMP."""
    uid, document = _dated("vaccination-note", "2026-11-27")
    journal = Journal(tmp_path / "run")
    _retrieval(journal, {uid: document})
    journal.record(
        "dmp",
        "dmp.colleague_feed",
        {"request": (b"<x/>", "application/xml")},
        subjects=SUBJECTS,
        outcome="success",
        meta={"unique_id": "9.9.9", "replaces": uid} if change == "replaces" else {"deletes": uid},
    )
    line = {"unique_id": uid, "title": "VAC", "origin": "dmp", "dmp_status": "integre", "type_code": "87273-9"}
    _record_of(journal, [{**line, **shown}])
    findings = _judge(journal, "dmp.integrated_change_noticed")
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-034",)
    assert said in findings[0].message


@pytest.mark.parametrize(
    ("omit", "body_edit", "outcome", "said"),
    [
        (frozenset(), None, "pass", "relié à sa demande"),
        (frozenset({"imagingReferences"}), None, "fail", "referenceIdList sans l'Order Placer Number"),
        (frozenset(), ("urn:ihe:iti:xds:2013:accession", "urn:ihe:iti:xds:2013:order"), "fail", "l'Accession Number"),
    ],
)
def test_an_imaging_report_is_linked_to_its_order_study_modality_and_region(
    tmp_path: Path, omit: frozenset[str], body_edit: tuple[str, str] | None, outcome: str, said: str
) -> None:
    """DMP-037 (DB/RIS.09): the identifiers and codes the CDA header carries are in the ITI-41's metadata."""
    document = build_cda("imaging-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3", omit=omit))
    body = submission.body.replace(*body_edit) if body_edit else submission.body
    journal = Journal(tmp_path / "run")
    _feed(journal, document, body, submission.document_cid)
    findings = run_check(
        "dmp.imaging_references",
        Evidence(journal.run_dir, journal.exchanges),
        CheckContext(patient=PATIENT, focus=journal.exchanges[-1]),
    )
    assert _outcomes(findings) == {outcome} and findings[0].requirements == ("DMP-037",)
    assert said in findings[0].message
    if omit:
        assert "eventCodeList sans la modalité d'acquisition CR" in findings[0].message


def test_other_documents_are_not_judged_as_imaging_reports(tmp_path: Path) -> None:
    document = build_cda("lab-report", SAMPLE_PATIENT)
    submission = provide_and_register(document, SubmissionContext(source_id="1.2.3"))
    journal = Journal(tmp_path / "run")
    _feed(journal, document, submission.body, submission.document_cid)
    findings = run_check(
        "dmp.imaging_references",
        Evidence(journal.run_dir, journal.exchanges),
        CheckContext(patient=PATIENT, focus=journal.exchanges[-1]),
    )
    assert _outcomes(findings) == {"omit"} and "aucun compte rendu d'imagerie" in findings[0].message


@pytest.mark.parametrize(
    ("slots", "outcome"),
    [
        ({"$XDSDocumentEntryReferenceIdList": "('DEM-1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order')"}, "pass"),
        ({"$XDSDocumentEntryReferenceIdList": "('DEM-1^^^^urn:ihe:iti:xds:2013:order')"}, "pass"),  # own authority
        ({"$XDSDocumentEntryReferenceIdList": "('DEM-1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession')"}, "fail"),
        ({"$XDSDocumentEntryReferenceIdList": "('DEM-2^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order')"}, "fail"),
        ({"$XDSDocumentEntryTypeCode": "('18748-4^^2.16.840.1.113883.6.1')"}, "fail"),  # every report, sorted locally
    ],
)
def test_an_orders_reports_are_queried_by_its_order_placer_number(
    tmp_path: Path, slots: dict[str, str], outcome: str
) -> None:
    """DMP-039 (DB/RIS.16, DB/DPI.04): the reports of imaging request DEM-1 are asked of the DMP by that reference."""
    from bench.domains.dmp.checks import ORDER_SEARCH, order_reports_query

    journal, call = _asked_then_queried(tmp_path, ORDER_SEARCH, {"ref": "p1", "order": "DEM-1"}, slots)
    findings = order_reports_query(Evidence(tmp_path, journal.exchanges), CheckContext(focus=call))
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("DMP-039",)
    if outcome == "fail":
        assert "ne sélectionne pas la demande DEM-1" in findings[0].message and "DB/RIS.16" in findings[0].message
