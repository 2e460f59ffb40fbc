"""Reading XDS.b metadata (ebRIM SubmitObjectsRequest) as ITI-41 carries it."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from simulators.dmp.xds import REPLACE, read_submission

SUBMISSION = (Path(__file__).parents[1] / "data" / "xds" / "iti41-request.xml").read_bytes()


def test_document_entry_submission_set_and_associations_are_read() -> None:
    submission = read_submission(etree.fromstring(SUBMISSION))
    [entry] = submission.entries
    assert entry.identifiers == {
        "patientId": "178037511502783^^^&1.2.250.1.213.1.4.10&ISO",
        "uniqueId": "1.2.250.1.999.1.2.1",
    }
    assert entry.slot("languageCode") == "fr-FR" and entry.title == "Compte rendu de consultation"
    type_code = entry.code("typeCode")
    assert type_code is not None and (type_code.code, type_code.scheme) == ("11488-4", "2.16.840.1.113883.6.1")
    assert entry.authors[0].person is not None and entry.authors[0].person.startswith("810002345678^")
    assert submission.submission_set is not None
    assert submission.submission_set.identifiers == {"uniqueId": "1.2.250.1.999.1.9.1", "sourceId": "1.2.250.1.999.1"}
    assert [a.type for a in submission.associations][1] == REPLACE


def test_a_request_without_metadata_reads_as_empty() -> None:
    submission = read_submission(etree.fromstring(b"<x/>"))
    assert submission.entries == [] and submission.submission_set is None
