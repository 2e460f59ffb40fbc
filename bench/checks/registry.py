"""The check framework: a check declares its id, the requirements it proves, a title for the report and, when it
can judge a captured exchange on its own, the transactions it applies to. It returns *verdicts* (outcome, message,
pointer) made with the bound helpers below; the framework stamps each one with the check's id and requirements,
so a check cannot put a verdict on a requirement it does not declare (Inferno's ``pass``/``omit``/``assert``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.checks.base import Finding, Outcome
from simulators.common.journal import Exchange

if TYPE_CHECKING:
    from bench.checks.base import CheckContext, Evidence


@dataclass(frozen=True)
class Verdict:
    """What a check concludes on one piece of evidence, before the framework names the check and requirement.
    ``requirement`` narrows a multi-requirement check's verdict to one of the requirements it declares."""

    outcome: Outcome
    message: str
    exchange_id: str | None = None
    pointer: str | None = None
    requirement: str | None = None


def _exchange_id(exchange: Exchange | str | None) -> str | None:
    return exchange.id if isinstance(exchange, Exchange) else exchange


def verdict(
    outcome: Outcome,
    message: str,
    exchange: Exchange | str | None = None,
    pointer: str | None = None,
    *,
    requirement: str | None = None,
) -> Verdict:
    """A verdict with the outcome given (``pass``, ``fail``, ``error``, ``skip``, ``omit``)."""
    return Verdict(outcome, message, _exchange_id(exchange), pointer, requirement)


def passed(message: str, exchange: Exchange | str | None = None, pointer: str | None = None) -> Verdict:
    """The evidence meets the requirement. ``passed("VIHF signé", call)``"""
    return verdict("pass", message, exchange, pointer)


def failed(message: str, exchange: Exchange | str | None = None, pointer: str | None = None) -> Verdict:
    """The evidence breaks the requirement; say what to fix. ``failed("OID de production en test", doc, "id/@root")``"""
    return verdict("fail", message, exchange, pointer)


def omitted(message: str, exchange: Exchange | str | None = None, pointer: str | None = None) -> Verdict:
    """Nothing this check applies to in the evidence (not applicable)."""
    return verdict("omit", message, exchange, pointer)


def skipped(message: str, exchange: Exchange | str | None = None, pointer: str | None = None) -> Verdict:
    """Applicable, but it could not be evaluated (a prerequisite is missing); never a pass."""
    return verdict("skip", message, exchange, pointer)


def errored(message: str, exchange: Exchange | str | None = None, pointer: str | None = None) -> Verdict:
    """The bench could not judge (its own fault, not the candidate's); never a pass."""
    return verdict("error", message, exchange, pointer)


CheckBody = Callable[["Evidence", "CheckContext"], Iterable[Verdict]]
CheckFunction = Callable[["Evidence", "CheckContext"], list[Finding]]


@dataclass(frozen=True)
class RegisteredCheck:
    """A check as the catalogue cites it. ``function`` runs it and returns findings stamped with its identity."""

    id: str
    requirements: tuple[str, ...]
    title: str
    applies_to: tuple[str, ...]  # transactions it judges on their own in a field capture (none: in scenarios only)
    body: CheckBody

    def function(self, evidence: Evidence, context: CheckContext) -> list[Finding]:
        return [self.stamp(v) for v in self.body(evidence, context)]

    def stamp(self, result: Verdict) -> Finding:
        if not isinstance(result, Verdict):
            raise TypeError(f"la vérification {self.id} a rendu {type(result).__name__}, pas un verdict")
        if result.requirement is None:
            requirements = self.requirements
        elif result.requirement in self.requirements:
            requirements = (result.requirement,)
        else:
            raise ValueError(f"la vérification {self.id} ne prouve pas {result.requirement}")
        return Finding(self.id, requirements, result.outcome, result.message, result.exchange_id, result.pointer)


_CHECKS: dict[str, RegisteredCheck] = {}


def check(
    check_id: str, *, requirements: tuple[str, ...], title: str, applies_to: tuple[str, ...] = ()
) -> Callable[[CheckBody], CheckFunction]:
    """Register a check under ``check_id``; the decorated function returns verdicts, the registered one findings.

    >>> @check("demo.always", requirements=("INS-006",), title="Démonstration")  # doctest: +SKIP
    ... def always(evidence, context):
    ...     return [omitted("rien à juger")]
    """
    if not requirements:
        raise ValueError(f"check {check_id} proves no requirement")

    def register(body: CheckBody) -> CheckFunction:
        if check_id in _CHECKS:
            raise ValueError(f"check {check_id} registered twice")
        registered = RegisteredCheck(check_id, tuple(requirements), title, tuple(applies_to), body)
        _CHECKS[check_id] = registered
        return registered.function

    return register


def forget_modules(modules: set[str]) -> None:
    """Drop the checks that ``modules`` registered (a domain being removed)."""
    for check_id in [c.id for c in _CHECKS.values() if c.body.__module__ in modules]:
        del _CHECKS[check_id]


def all_checks() -> dict[str, RegisteredCheck]:
    from bench.domains import registry as domains

    domains.load()  # make sure every domain's checks have registered
    return dict(_CHECKS)


def get(check_id: str) -> RegisteredCheck:
    """A check by id; the domains are all loaded only when it has not registered yet (``check`` on a CDA document
    needs the CDA checks alone: loading every domain cost ~0.1 s of its start-up)."""
    registered = _CHECKS.get(check_id)
    return registered if registered is not None else all_checks()[check_id]


def standalone_checks() -> dict[str, tuple[str, ...]]:
    """For each transaction, the checks that judge a captured exchange of it on its own (field-capture replays)."""
    by_transaction: dict[str, tuple[str, ...]] = {}
    for registered in all_checks().values():
        for transaction in registered.applies_to:
            by_transaction[transaction] = (*by_transaction.get(transaction, ()), registered.id)
    return by_transaction
