"""The patient's oppositions: no DMP consultation (DMP-024) and no MSSanté message (MSS-027) while one is in force,
judged from the journal (the choice the bench asked the candidate to record, then what reached the simulators)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.actions.core import CANDIDATE, CHOICE
from bench.checks.base import CheckContext, Evidence
from bench.domains.dmp.checks import opposition_honoured as dmp_opposition_honoured
from bench.domains.mss.checks import opposition_honoured as mss_opposition_honoured
from simulators.common.journal import Journal

INS = "285063306307734"


def _choice(journal: Journal, about: str, choice: str) -> None:
    said = json.dumps({"ref": "p1", "about": about, "choice": choice}).encode()
    journal.record(
        CANDIDATE, CHOICE, {"choice": (said, "application/json")}, subjects=[INS], outcome=f"{about}:{choice}"
    )


def _call(journal: Journal, channel: str, transaction: str, subjects: list[str]) -> None:
    journal.record(channel, transaction, {"request": (b"<x/>", "application/xml")}, subjects=subjects)


# (choice, call) events in order; "call" is a consultation of this patient, "other" one of another patient,
# "anonymous" one naming nobody.
CASES = [
    (["opposition", "accord", "call"], "pass"),  # lifted before the call
    (["call", "opposition"], "pass"),  # before the opposition
    (["opposition", "other"], "fail"),  # the scenario is about one patient: whoever the exchange names
    (["opposition", "call"], "fail"),
    (["opposition", "anonymous"], "fail"),  # naming nobody is still the patient's
    (["opposition", "accord", "opposition", "call"], "fail"),
]


@pytest.mark.parametrize(("events", "outcome"), CASES)
def test_no_dmp_consultation_while_the_patient_opposes(tmp_path: Path, events: list[str], outcome: str) -> None:
    journal = Journal(tmp_path)
    for event in events:
        if event in ("opposition", "accord"):
            _choice(journal, "dmp", event)
        else:
            subjects = {"call": [INS], "other": ["180012B01234567"], "anonymous": []}[event]
            _call(journal, "dmp", "dmp.iti18", subjects)
    journal.close()
    findings = dmp_opposition_honoured(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("DMP-024",)
    if outcome == "fail":
        assert "dmp.iti18" in findings[0].message and "s'oppose" in findings[0].message


@pytest.mark.parametrize(("events", "outcome"), CASES)
def test_no_mss_message_while_the_patient_opposes(tmp_path: Path, events: list[str], outcome: str) -> None:
    journal = Journal(tmp_path)
    for event in events:
        if event in ("opposition", "accord"):
            _choice(journal, "mss", event)
        else:
            subjects = {"call": [INS], "other": ["180012B01234567"], "anonymous": []}[event]
            _call(journal, "mss", "mss.smtp.message", subjects)
    journal.close()
    findings = mss_opposition_honoured(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert {f.outcome for f in findings} == {outcome} and findings[0].requirements == ("MSS-027",)
    if outcome == "fail":
        assert "bloqué" in findings[0].message


def test_a_choice_about_the_other_channel_does_not_count(tmp_path: Path) -> None:
    """An opposition to MSSanté sending says nothing of DMP access: the DMP check has nothing to judge."""
    journal = Journal(tmp_path)
    _choice(journal, "mss", "opposition")
    _call(journal, "dmp", "dmp.td02", [INS])
    journal.close()
    findings = dmp_opposition_honoured(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert [f.outcome for f in findings] == ["omit"]
