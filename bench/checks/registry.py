"""Registry of checks by id. A check declares the requirement ids it proves; the catalogue cites it by id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.checks.base import CheckContext, Evidence, Finding

CheckFunction = Callable[["Evidence", "CheckContext"], list["Finding"]]


@dataclass(frozen=True)
class RegisteredCheck:
    id: str
    requirements: tuple[str, ...]
    title: str
    function: CheckFunction


_CHECKS: dict[str, RegisteredCheck] = {}


def check(check_id: str, *, requirements: tuple[str, ...], title: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under ``check_id``.

    >>> @check("demo.always", requirements=("INS-006",), title="Démonstration")  # doctest: +SKIP
    ... def always(evidence, context): return []
    """

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in _CHECKS:
            raise ValueError(f"check {check_id} registered twice")
        _CHECKS[check_id] = RegisteredCheck(check_id, requirements, title, function)
        return function

    return register


def all_checks() -> dict[str, RegisteredCheck]:
    import bench.checks  # noqa: F401  (make sure every module has registered)

    return dict(_CHECKS)


def get(check_id: str) -> RegisteredCheck:
    return all_checks()[check_id]
