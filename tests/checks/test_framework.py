"""The check framework stamps every verdict with the check's own id and requirements: a check cannot mislabel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import RegisteredCheck, Verdict, all_checks, failed, passed, verdict
from bench.runner.judge import run_check


def _registered(*verdicts: object, requirements: tuple[str, ...] = ("INS-001",)) -> RegisteredCheck:
    return RegisteredCheck("test.demo", requirements, "démo", (), lambda _e, _c: list(verdicts))  # type: ignore[arg-type]


def test_verdicts_are_stamped_with_the_check_and_its_requirements(tmp_path: Path) -> None:
    findings = _registered(passed("ok"), failed("ko", "x1", "/a")).function(Evidence(tmp_path, []), CheckContext())
    assert [(f.check_id, f.requirements, f.outcome, f.exchange_id, f.pointer) for f in findings] == [
        ("test.demo", ("INS-001",), "pass", None, None),
        ("test.demo", ("INS-001",), "fail", "x1", "/a"),
    ]


def test_a_verdict_narrowed_to_one_declared_requirement(tmp_path: Path) -> None:
    check = _registered(verdict("fail", "ko", requirement="INS-002"), requirements=("INS-001", "INS-002"))
    assert check.function(Evidence(tmp_path, []), CheckContext())[0].requirements == ("INS-002",)


@pytest.mark.parametrize("bad", [verdict("pass", "ok", requirement="DMP-001"), ("INS-001", "pass")])
def test_an_undeclared_requirement_or_a_hand_made_result_is_refused(tmp_path: Path, bad: object) -> None:
    check = _registered(bad)
    with pytest.raises((ValueError, TypeError)):
        check.function(Evidence(tmp_path, []), CheckContext())


def test_the_judge_turns_a_mislabelled_verdict_into_a_bench_error_on_the_declared_requirement(tmp_path: Path) -> None:
    registry = all_checks()
    name = "ins.matricule_format"
    original = registry[name]
    from bench.checks import registry as module

    module._CHECKS[name] = RegisteredCheck(
        name, original.requirements, original.title, (), lambda _e, _c: [Verdict("pass", "ok", requirement="DMP-003")]
    )
    try:
        findings = run_check(name, Evidence(tmp_path, []), CheckContext())
    finally:
        module._CHECKS[name] = original
    assert [(f.outcome, f.requirements) for f in findings] == [("error", ("INS-006",))]


def test_every_check_declares_requirements_and_standalone_transactions_of_a_known_domain() -> None:
    from bench.domains import registry as domains

    for registered in all_checks().values():
        assert registered.requirements, registered.id
        for requirement in registered.requirements:
            assert domains.domain_of_requirement(requirement) is not None, (registered.id, requirement)
        for transaction in registered.applies_to:
            assert transaction.startswith("candidate.") or domains.domain_of_transaction(transaction), transaction
