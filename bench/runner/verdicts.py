"""Roll-ups: findings -> step and scenario outcomes -> requirement verdicts."""

from __future__ import annotations

from collections.abc import Iterable

from bench.exit_codes import EXIT_BENCH_ERROR
from bench.runner.results import FindingResult, Outcome, RequirementVerdict

__all__ = ["EXIT_BENCH_ERROR"]

EXIT_OK = 0
EXIT_NON_CONFORME = 1


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """fail beats error beats pass beats skip beats omit: one failure is enough to fail."""
    seen = set(outcomes)
    precedence: tuple[Outcome, ...] = ("fail", "error", "pass", "skip")
    for outcome in precedence:
        if outcome in seen:
            return outcome
    return "omit"


def requirement_verdict(
    applicable: bool, proof_nature: str, findings: list[FindingResult]
) -> tuple[RequirementVerdict, str]:
    """Verdict of one requirement over the findings that name it, and why."""
    if not applicable:
        return "non_applicable", "hors du profil du candidat"
    outcomes = {f.outcome for f in findings}
    if "fail" in outcomes:
        return "non_conforme", "au moins une vérification échoue"
    if "error" in outcomes:
        return "erreur", "le banc n'a pas pu juger au moins une vérification"
    if "pass" in outcomes:
        return "conforme", "toutes les vérifications jugées réussissent"
    if proof_nature == "operator":
        return "non_teste", "preuve par attestation de l'opérateur, non fournie"
    if proof_nature == "document":
        return "non_teste", "preuve documentaire, non fournie"
    if not findings:
        return "non_teste", "aucune vérification automatisée n'a été exécutée"
    return "non_teste", "vérifications non évaluables ou non applicables dans cette campagne"


def exit_code(verdicts: Iterable[RequirementVerdict]) -> int:
    seen = set(verdicts)
    if "non_conforme" in seen:
        return EXIT_NON_CONFORME
    if "erreur" in seen:
        return EXIT_BENCH_ERROR
    return EXIT_OK
