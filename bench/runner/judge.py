"""Judging one scenario step: its expectations (an exchange must, or must not, have reached a simulator) and its
checks. Live runs and replays share this, so that the same evidence always gets the same verdicts; they differ only
in how an expected exchange is found (waiting at a simulator, or looking it up in a replayed journal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bench.catalogue.models import Expectation, Step
from bench.checks import registry
from bench.checks.base import CheckContext, Evidence, Finding, PatientKeys
from bench.validation.packs import ValidationPack
from simulators.common.journal import Exchange


@dataclass(frozen=True)
class Settled:
    """No exchange arrived, and the window did not run its scenario time: ended early because the candidate said it
    had finished all it would do (``by`` candidate, an adapter that ``settles``) or the person said they had
    (``by`` operator), or it ran a person's patience rather than the scenario's time (``by`` timeout). Said in the
    finding, with the time actually waited."""

    after_s: float
    by: Literal["candidate", "operator", "timeout"] = "candidate"


# (expectation, patient keys) -> the exchange that arrived, or None (or Settled: none, and the window ended early).
Finder = Callable[[Expectation, PatientKeys | None], Exchange | Settled | None]


@dataclass(frozen=True)
class JudgeSettings:
    test_mode: bool = True
    pack: ValidationPack | None = None
    timeout_factor: float = 1.0


def matches(expectation: Expectation, keys: PatientKeys | None) -> Callable[[Exchange], bool]:
    """Whether an exchange is the one ``expectation`` waits for, about the patient of ``keys``."""

    def test(exchange: Exchange) -> bool:
        return (
            exchange.channel == expectation.channel
            and exchange.transaction == expectation.transaction
            and (keys is None or bool(keys.keys.intersection(exchange.subjects)))
            and (expectation.outcome is None or exchange.outcome == expectation.outcome)
            and (expectation.outcome_not is None or exchange.outcome != expectation.outcome_not)
        )

    return test


def judge_step(
    step: Step,
    patients: dict[str, PatientKeys],
    focus: Exchange | None,
    find: Finder,
    evidence: Callable[[], Evidence],
    settings: JudgeSettings,
) -> list[Finding]:
    """Findings of one step, given how to find expected exchanges and the evidence so far."""
    keys = patients[step.patient] if step.patient else None
    findings: list[Finding] = []
    for expectation in step.expect:
        expected_keys = patients[expectation.patient] if expectation.patient else keys
        found = find(expectation, expected_keys)
        settled = found if isinstance(found, Settled) else None
        exchange = None if isinstance(found, Settled) else found
        findings += _expectation_findings(expectation, expected_keys, exchange, evidence, settings, settled)
    context = CheckContext(patient=keys, focus=focus, test_mode=settings.test_mode, pack=settings.pack)
    for check_id in step.checks:
        findings += run_check(check_id, evidence(), context)
    return findings


def _expectation_findings(
    expectation: Expectation,
    keys: PatientKeys | None,
    found: Exchange | None,
    evidence: Callable[[], Evidence],
    settings: JudgeSettings,
    settled: Settled | None = None,
) -> list[Finding]:
    within = expectation.within * settings.timeout_factor
    what = f"{expectation.transaction} au simulateur {expectation.channel}"
    if expectation.outcome:
        what += f" (issue « {expectation.outcome} »)"
    if expectation.outcome_not:
        what += f" (autre que « {expectation.outcome_not} »)"
    check_id = f"expect:{expectation.transaction}"
    requirements = (expectation.requirement,)
    if expectation.absent:
        if found is None and settled is not None and settled.by == "candidate":
            message = (
                f"aucun échange {what}, comme attendu : le candidat a signalé avoir tout terminé au bout de "
                f"{settled.after_s:.2f} s (fenêtre de {within:g} s écourtée sur son signal)"
            )
            return [Finding(check_id, requirements, "pass", message)]
        if found is None:
            return [
                Finding(check_id, requirements, "pass", f"aucun échange {what} dans les {within:g} s, comme attendu")
            ]
        return [Finding(check_id, requirements, "fail", f"échange interdit reçu : {what}", found.id)]
    if found is None and settled is not None:
        message = {
            "candidate": f"aucun échange {what} : le candidat a signalé avoir tout terminé au bout de "
            f"{settled.after_s:.2f} s sans l'émettre (fenêtre de {within:g} s écourtée sur son signal) ; il devait "
            "l'émettre",
            "operator": f"aucun échange {what} : l'opérateur a indiqué avoir terminé au bout de "
            f"{settled.after_s:.0f} s sans qu'il arrive ; le logiciel devait l'émettre",
            "timeout": f"aucun échange {what} reçu dans les {settled.after_s:.0f} s laissées à l'opérateur : le "
            "logiciel devait l'émettre",
        }[settled.by]
        return [Finding(check_id, requirements, "fail", message)]
    if found is None:
        message = f"aucun échange {what} reçu dans les {within:g} s suivant l'action : le candidat devait l'émettre"
        return [Finding(check_id, requirements, "fail", message)]
    context = CheckContext(patient=keys, focus=found, test_mode=settings.test_mode, pack=settings.pack)
    # The exchange came as required: that is itself a verdict on the expectation's requirement.
    findings = [Finding(check_id, requirements, "pass", f"{what} reçu comme attendu ({found.id})", found.id)]
    for check_id in expectation.checks:
        findings += run_check(check_id, evidence(), context)
    return findings


def run_check(check_id: str, evidence: Evidence, context: CheckContext) -> list[Finding]:
    """Run one check; a crash inside a check is a bench error, never a candidate failure."""
    registered = registry.get(check_id)
    try:
        return registered.function(evidence, context)
    except Exception as exc:
        return [
            Finding(
                check_id,
                registered.requirements,
                "error",
                f"erreur du banc dans la vérification {check_id} : {type(exc).__name__}: {exc}",
                context.focus.id if context.focus else None,
            )
        ]
