"""Actions as a typed registry. An action declares its parameters (a pydantic model: enums, defaults, no unknown
key), whether it is about a patient, who performs it (the candidate, or the bench as a correspondent), the
transactions it is expected to cause, the exchange it hands to the checks (``focus``), and how it is performed.
The catalogue loader validates every step against it (``file:line``); the runner performs steps through it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from bench.candidates.base import CandidateAdapter, PatientInput
    from bench.catalogue.models import PatientFixture, Scenario, Step
    from bench.checks.base import PatientKeys
    from simulators.common.journal import Exchange, Journal


class Params(BaseModel):
    """Base of every action's parameters: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """An action that takes no parameter."""


@dataclass
class ScenarioPatient:
    """A patient of the running scenario: its fixture, routing keys and what the professional types."""

    fixture: PatientFixture
    keys: PatientKeys
    input: PatientInput


@dataclass
class ActionContext:
    """What an action's implementation may use: the adapter, the journal, the running simulators, the step's
    patient, and state kept per scenario (``scenario``) or for the whole run (``run``), keyed by the domain."""

    adapter: CandidateAdapter
    journal: Journal
    simulators: Any  # bench.runner.simulators.SimulatorHub (kept untyped here: the runner imports this module)
    step: Step | None = None
    patient: ScenarioPatient | None = None
    scenario: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)

    def require_patient(self) -> ScenarioPatient:
        from bench.candidates.base import AdapterError

        if self.patient is None:
            name = self.step.action if self.step else "?"
            raise AdapterError(f"l'action {name} exige un patient")
        return self.patient

    def require_identity(self) -> str:
        """The id of the step's patient in the INSi identity base (what a bench-made document is about)."""
        from bench.candidates.base import AdapterError

        identity = self.require_patient().fixture.identity
        if not identity:
            raise AdapterError(f"l'étape {self.step_id} exige un patient doté d'une identité INSi")
        return identity

    @property
    def step_id(self) -> str:
        return self.step.id if self.step else "?"

    @property
    def subjects(self) -> list[str]:
        return sorted(self.patient.keys.keys) if self.patient else []


P = TypeVar("P", bound=Params)
Perform = Callable[[ActionContext, Any], "Exchange | None"]
ScenarioHook = Callable[[ActionContext], None]


@dataclass(frozen=True)
class Action:
    name: str
    domain: str
    description: str  # French, for the docs and the report
    params: type[Params]
    perform: Perform
    needs_patient: bool = True
    by: Literal["candidate", "bench"] = "candidate"
    causes: tuple[str, ...] = ()  # transactions a conforming candidate is expected to cause
    focus: str | None = None  # transaction of the exchange ``perform`` returns for the checks, if any
    # Cross-references a parameter model alone cannot check (a step id, a patient ref): problems in plain words.
    validate: Callable[[Any, Scenario], list[str]] | None = None

    def parse(self, raw: dict[str, str]) -> Params:
        return self.params.model_validate(raw)


_ACTIONS: dict[str, Action] = {}
_SCENARIO_HOOKS: list[tuple[str, ScenarioHook]] = []


def action(
    name: str,
    *,
    domain: str,
    description: str,
    params: type[P] | None = None,
    needs_patient: bool = True,
    by: Literal["candidate", "bench"] = "candidate",
    causes: tuple[str, ...] = (),
    focus: str | None = None,
    validate: Callable[[P, Scenario], list[str]] | None = None,
) -> Callable[[Callable[[ActionContext, P], Exchange | None]], Callable[[ActionContext, P], Exchange | None]]:
    """Register how action ``name`` is performed.

    >>> @action("ping", domain="demo", description="Saluer", params=PingParams)  # doctest: +SKIP
    ... def ping(context, params):
    ...     context.adapter.perform("ping", None, params.model_dump())
    """

    def register(
        perform: Callable[[ActionContext, P], Exchange | None],
    ) -> Callable[[ActionContext, P], Exchange | None]:
        if name in _ACTIONS:
            raise ValueError(f"action {name} registered twice")
        _ACTIONS[name] = Action(
            name,
            domain,
            description,
            params or NoParams,
            perform,
            needs_patient,
            by,
            causes,
            focus,
            validate,
        )
        return perform

    return register


def on_scenario_start(domain: str) -> Callable[[ScenarioHook], ScenarioHook]:
    """Register what a domain does when a scenario starts, after the candidate was reset (for example, point the
    candidate back to the trusted server a previous scenario redirected)."""

    def register(hook: ScenarioHook) -> ScenarioHook:
        _SCENARIO_HOOKS.append((domain, hook))
        return hook

    return register


def forget_modules(modules: set[str]) -> None:
    """Drop the actions and scenario hooks that ``modules`` registered (a domain being removed)."""
    for name in [a.name for a in _ACTIONS.values() if a.perform.__module__ in modules]:
        del _ACTIONS[name]
    _SCENARIO_HOOKS[:] = [(d, hook) for d, hook in _SCENARIO_HOOKS if hook.__module__ not in modules]


def all_actions() -> dict[str, Action]:
    import bench.actions.core  # noqa: F401  (registers the actions every software answers)
    from bench.domains import registry as domains

    domains.load()
    return dict(_ACTIONS)


def get(name: str) -> Action:
    return all_actions()[name]


def scenario_hooks() -> list[ScenarioHook]:
    all_actions()
    return [hook for _domain, hook in _SCENARIO_HOOKS]


def camel_case(name: str) -> str:
    """The candidate API's operationId of an action (``search_ins`` -> ``searchIns``)."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def allowed_values(model: type[BaseModel], name: str) -> tuple[Any, ...]:
    """The values a ``Literal`` field (or an optional one) allows; empty for a free field."""
    info = model.model_fields.get(name)
    annotation = info.annotation if info is not None else None
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    literals = [a for a in get_args(annotation) if get_origin(a) is Literal]
    return get_args(literals[0]) if len(literals) == 1 else ()


def param_problems(spec: Action, raw: dict[str, Any], scenario: Scenario) -> list[tuple[str | None, str]]:
    """(parameter name or None, problem in plain words) for a step's parameters; empty when they are right."""
    try:
        parsed = spec.parse(raw)
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            if error["type"] == "extra_forbidden":
                permitted = ", ".join(spec.params.model_fields) or "aucun"
                problems.append((name, f"paramètre inconnu {name!r} pour l'action {spec.name} (permis : {permitted})"))
                continue
            allowed = allowed_values(spec.params, name) if name else ()
            if allowed:
                values = ", ".join(str(a) for a in allowed)
                problems.append(
                    (name, f"{spec.name} : {name}={error.get('input')!r} refusé (valeurs permises : {values})")
                )
            else:
                problems.append((name, f"{spec.name} : paramètre {name!r} : {error['msg']}"))
        return problems
    return [(None, p) for p in (spec.validate(parsed, scenario) if spec.validate else [])]
