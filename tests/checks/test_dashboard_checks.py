"""GEN-003: the software's dashboard counts what reached each simulator since the scenario began."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.actions.core import CANDIDATE, DASHBOARD
from bench.checks.base import CheckContext, Evidence
from bench.domains.dmp.checks import dashboard_feeds
from bench.domains.ins.checks import dashboard_calls
from bench.domains.mss.checks import dashboard_messages
from simulators.common.journal import Journal

JUDGES = {"dmp_feeds": dashboard_feeds, "mss_messages": dashboard_messages, "insi_calls": dashboard_calls}
CALLS = {
    "dmp_feeds": ("dmp", "dmp.iti41"),
    "mss_messages": ("mss", "mss.smtp.message"),
    "insi_calls": ("insi", "insi.search_traits"),
}


@pytest.mark.parametrize("key", sorted(JUDGES))
@pytest.mark.parametrize(("shown", "outcome"), [(2, "pass"), (3, "fail"), (1, "fail")])
def test_the_dashboard_counts_what_reached_the_simulator(tmp_path: Path, key: str, shown: int, outcome: str) -> None:
    journal = Journal(tmp_path)
    channel, transaction = CALLS[key]
    for _ in range(2):
        journal.record(channel, transaction, {"request": (b"<x/>", "application/xml")}, outcome="success")
    view = {"counters": {key: shown}}
    journal.record(CANDIDATE, DASHBOARD, {"dashboard": (json.dumps(view).encode(), "application/json")})
    journal.record(channel, transaction, {"request": (b"<x/>", "application/xml")})  # after the reading: not counted
    journal.close()
    findings = JUDGES[key](Evidence(tmp_path, journal.exchanges), CheckContext())
    assert [f.outcome for f in findings] == [outcome] and findings[0].requirements == ("GEN-003",)
    if outcome == "fail":
        assert f"{shown} " in findings[0].message and "en compte 2" in findings[0].message


def test_a_dashboard_without_the_counter_cannot_be_judged(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record(CANDIDATE, DASHBOARD, {"dashboard": (b'{"counters": {}}', "application/json")})
    journal.close()
    findings = dashboard_feeds(Evidence(tmp_path, journal.exchanges), CheckContext())
    assert [f.outcome for f in findings] == ["error"] and "dmp_feeds" in findings[0].message
