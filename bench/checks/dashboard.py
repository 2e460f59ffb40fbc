"""The software's dashboard (GEN-003) against the journal: each domain counts what reached its simulators and
compares it with the counter the software shows for it. The dashboard counts since the practice was reset, that is
since the scenario began: the evidence a check sees."""

from __future__ import annotations

from bench.actions.core import CANDIDATE, DASHBOARD
from bench.checks.base import Evidence
from bench.checks.registry import Verdict, errored, failed, omitted, passed
from simulators.common.journal import Exchange


def judge_counter(evidence: Evidence, key: str, label: str, calls: list[Exchange]) -> list[Verdict]:
    """Compare the last dashboard read in the scenario with the ``calls`` recorded before it."""
    dashboards = evidence.select(channel=CANDIDATE, transactions=(DASHBOARD,))
    if not dashboards:
        return [omitted("aucune lecture du tableau de bord dans ce scénario", None)]
    shown = ((evidence.json(dashboards[-1], "dashboard") or {}).get("counters") or {}).get(key)
    if not isinstance(shown, int):
        return [errored(f"le tableau de bord ne donne pas le compteur {key} ({label})", dashboards[-1])]
    recorded = len([c for c in calls if c.seq < dashboards[-1].seq])
    if shown != recorded:
        message = (
            f"tableau de bord : {shown} {label}, le journal des simulateurs en compte {recorded} depuis le début du "
            "scénario"
        )
        return [failed(message, dashboards[-1])]
    return [passed(f"tableau de bord : {shown} {label}, comme le journal des simulateurs", dashboards[-1])]
