"""Load and validate the catalogue from YAML, reporting every defect as ``file:line: message``.

YAML is read with a loader that remembers where each mapping, key and list item stands, so that a pydantic
validation error (unknown key, wrong type, missing field) and a cross-reference error (duplicate id, dangling
requirement or check id) point at the line to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bench.actions import registry as actions
from bench.actions.registry import Action, param_problems
from bench.catalogue.models import (
    CatalogueHeader,
    DomainFields,
    Profile,
    ProfilesFile,
    Requirement,
    RequirementFile,
    Scenario,
)
from bench.domains import registry as domains
from bench.fixtures.kinds import DOCUMENT_KINDS
from bench.yamlio import read_yaml, validate_model

HEADER_FILE = "catalogue.yaml"
PROFILES_FILE = "profiles.yaml"
ANS_GRID_FILE = "ans-grid.yaml"  # approved rows of ANS's draft grid left out, with why (bench/catalogue/ans_grid.py)
NOT_REQUIREMENTS = (HEADER_FILE, PROFILES_FILE, ANS_GRID_FILE)


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class CatalogueError(Exception):
    """One or more catalogue defects, each as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Catalogue:
    header: CatalogueHeader
    requirements: dict[str, Requirement]
    profiles: dict[str, Profile]
    scenarios: dict[str, Scenario]
    locations: dict[str, Location] = field(default_factory=dict)

    def applies(self, requirement: Requirement, profile: str) -> bool:
        return profile in requirement.profiles

    def scenarios_for(self, profile: str) -> list[Scenario]:
        return [s for s in self.scenarios.values() if profile in s.profiles]


def load_catalogue(
    root: Path,
    *,
    known_checks: dict[str, tuple[str, ...]] | None = None,
    known_actions: dict[str, Action] | None = None,
    validate_fixture: Callable[[str], str | None] | None = None,
) -> Catalogue:
    """Load ``root/requirements`` and ``root/scenarios``; raise CatalogueError listing every defect.

    ``known_checks`` maps registered check ids to the requirements they prove (default: the bench's registry);
    ``validate_fixture`` answers a problem (or None) for each patient fixture's identity id.
    """
    if known_checks is None:
        from bench.checks import registry

        known_checks = {check_id: c.requirements for check_id, c in registry.all_checks().items()}
    if known_actions is None:
        known_actions = actions.all_actions()
    problems: list[str] = []
    req_dir, scen_dir = root / "requirements", root / "scenarios"
    header_data = read_yaml(req_dir / HEADER_FILE, problems) if (req_dir / HEADER_FILE).exists() else None
    if header_data is None and not (req_dir / HEADER_FILE).exists():
        problems.append(f"{req_dir / HEADER_FILE}:1: en-tête de catalogue absent")
    header = validate_model(CatalogueHeader, header_data, req_dir / HEADER_FILE, problems) if header_data else None

    profiles: dict[str, Profile] = {}
    profiles_data = read_yaml(req_dir / PROFILES_FILE, problems) if (req_dir / PROFILES_FILE).exists() else None
    if profiles_data is not None:
        parsed = validate_model(ProfilesFile, profiles_data, req_dir / PROFILES_FILE, problems)
        for index, declared in enumerate(parsed.profiles if parsed else []):
            profiles[declared.id] = declared
            if declared.id not in DOCUMENT_KINDS[declared.usual_document].profiles:
                line = profiles_data["profiles"][index].key_lines.get("usual_document", 1)
                problems.append(
                    f"{req_dir / PROFILES_FILE}:{line}: profil {declared.id} : son document habituel "
                    f"{declared.usual_document} n'est pas produit par ce profil (bench/fixtures/kinds.py)"
                )
    else:
        problems.append(f"{req_dir / PROFILES_FILE}:1: fichier des profils absent")
    known_profiles = set(profiles)

    requirements: dict[str, Requirement] = {}
    locations: dict[str, Location] = {}
    extra_roots = [d.content for d in domains.load().values() if d.content is not None]
    requirement_files = sorted(req_dir.glob("*.yaml")) + [
        p for r in extra_roots for p in sorted(r.glob("requirements/*.yaml"))
    ]
    for path in requirement_files:
        if path.parent == req_dir and path.name in NOT_REQUIREMENTS:
            continue
        data = read_yaml(path, problems)
        if data is None:
            continue
        parsed_file = validate_model(RequirementFile, data, path, problems)
        if parsed_file is None:
            continue
        for index, requirement in enumerate(parsed_file.requirements):
            line = data["requirements"].item_lines[index]
            here = Location(path, line)
            if requirement.id in requirements:
                problems.append(f"{here}: exigence {requirement.id} en double (déjà en {locations[requirement.id]})")
                continue
            requirements[requirement.id] = requirement
            locations[requirement.id] = here
            item = data["requirements"][index]
            for profile in requirement.profiles:
                if profile not in known_profiles:
                    problems.append(f"{path}:{item.key_lines['profiles']}: {_unknown_profile(profile, known_profiles)}")
            for check in requirement.checks:
                if check not in known_checks:
                    problems.append(f"{path}:{item.key_lines['checks']}: vérification inconnue {check!r}")
                elif requirement.id not in known_checks[check]:
                    proves = ", ".join(known_checks[check])
                    problems.append(
                        f"{path}:{item.key_lines['checks']}: la vérification {check!r} prouve {proves}, "
                        f"pas {requirement.id}"
                    )
            if requirement.proof.nature == "automated" and not requirement.checks:
                pass  # automated in a later issue: reported as Non testé, and visible in `catalogue coverage`
            if requirement.proof.nature == "operator" and not requirement.operator_checklist:
                problems.append(f"{here}: {requirement.id} se prouve par l'opérateur mais n'a pas de liste de contrôle")

    scenarios: dict[str, Scenario] = {}
    for path in sorted(scen_dir.rglob("*.yaml")) + [
        p for r in extra_roots for p in sorted(r.glob("scenarios/**/*.yaml"))
    ]:
        data = read_yaml(path, problems)
        if data is None:
            continue
        scenario = validate_model(Scenario, data, path, problems)
        if scenario is None:
            continue
        here = Location(path, getattr(data, "line", 1))
        if scenario.id in scenarios:
            problems.append(f"{here}: scénario {scenario.id} en double (déjà en {locations[scenario.id]})")
            continue
        scenarios[scenario.id] = scenario
        locations[scenario.id] = here
        problems.extend(
            _scenario_problems(scenario, data, path, requirements, known_checks, known_profiles, validate_fixture)
            + _step_action_problems(scenario, data, path, known_actions)
            + _fixture_problems(scenario, data, path)
        )

    if problems:
        raise CatalogueError(problems)
    assert header is not None
    order = {domain: index for index, domain in enumerate(header.domains)}
    requirements = dict(
        sorted(requirements.items(), key=lambda item: (order.get(item[0].split("-")[0], len(order)), item[0]))
    )
    return Catalogue(
        header=header, requirements=requirements, profiles=profiles, scenarios=scenarios, locations=locations
    )


def _scenario_problems(
    scenario: Scenario,
    data: Any,
    path: Path,
    requirements: dict[str, Requirement],
    known_checks: dict[str, tuple[str, ...]],
    known_profiles: set[str],
    validate_fixture: Callable[[str], str | None] | None,
) -> list[str]:
    problems = []
    for index, req_id in enumerate(scenario.requirements):
        if req_id not in requirements:
            problems.append(f"{path}:{data['requirements'].item_lines[index]}: exigence inconnue {req_id!r}")
    for index, profile in enumerate(scenario.profiles):
        if profile not in known_profiles:
            problems.append(f"{path}:{data['profiles'].item_lines[index]}: {_unknown_profile(profile, known_profiles)}")
    patient_refs = {p.ref for p in scenario.fixtures.patients}
    if "fixtures" in data:
        for index, patient in enumerate(scenario.fixtures.patients):
            line = data["fixtures"]["patients"].item_lines[index]
            if patient.identity and validate_fixture:
                problem = validate_fixture(patient.identity)
                if problem:
                    problems.append(f"{path}:{line}: {problem}")
    for s_index, step in enumerate(scenario.steps):
        step_data = data["steps"][s_index]
        step_line = data["steps"].item_lines[s_index]
        if step.patient and step.patient not in patient_refs:
            problems.append(f"{path}:{step_data.key_lines['patient']}: patient inconnu {step.patient!r}")
        step_checks = [(c, step_data.key_lines.get("checks", step_line)) for c in step.checks]
        for e_index, expectation in enumerate(step.expect):
            e_line = step_data["expect"].item_lines[e_index]
            step_checks += [(c, e_line) for c in expectation.checks]
            if expectation.patient and expectation.patient not in patient_refs:
                problems.append(f"{path}:{e_line}: patient inconnu {expectation.patient!r}")
            if expectation.requirement not in requirements:
                problems.append(f"{path}:{e_line}: exigence inconnue {expectation.requirement!r}")
            elif expectation.requirement not in scenario.requirements:
                problems.append(
                    f"{path}:{e_line}: l'attente porte sur {expectation.requirement}, absente des exigences du scénario"
                )
        for check, line in step_checks:
            if check not in known_checks:
                problems.append(f"{path}:{line}: vérification inconnue {check!r}")
            elif not set(known_checks[check]) & set(scenario.requirements):
                problems.append(
                    f"{path}:{line}: la vérification {check!r} prouve {', '.join(known_checks[check])}, "
                    "qu'aucune exigence du scénario ne cite"
                )
    return problems


def _unknown_profile(profile: str, known: set[str]) -> str:
    """Say which profiles exist; ``general`` (every profile) was removed on purpose: a new profile inherits nothing."""
    allowed = ", ".join(sorted(known))
    if profile == "general":
        return f"profil 'general' supprimé : nommer explicitement les profils concernés ({allowed})"
    return f"profil inconnu {profile!r} (profils déclarés : {allowed})"


def _step_action_problems(scenario: Scenario, data: Any, path: Path, known: dict[str, Action]) -> list[str]:
    """Every step names a registered action, with a patient when the action needs one, and parameters its model
    accepts (``method: vitalle`` is refused with the allowed values, at the parameter's line)."""
    problems = []
    for index, step in enumerate(scenario.steps):
        step_data = data["steps"][index]
        action_line = step_data.key_lines.get("action", data["steps"].item_lines[index])
        spec = known.get(step.action)
        if spec is None:
            names = ", ".join(sorted(known))
            problems.append(f"{path}:{action_line}: action inconnue {step.action!r} (actions connues : {names})")
            continue
        if spec.needs_patient and not step.patient:
            problems.append(f"{path}:{action_line}: l'action {step.action} exige un patient (clé patient)")
        params = step_data.get("params")
        params_line = step_data.key_lines.get("params", action_line)
        for name, problem in param_problems(spec, dict(step.params), scenario):
            line = params.key_lines.get(name, params_line) if params is not None and name else params_line
            problems.append(f"{path}:{line}: {problem}")
    return problems


def _domain_field_problems(
    holder: DomainFields, models: list[type[BaseModel]], data: Any, path: Path, line: int, what: str
) -> list[str]:
    """The extra fields of ``holder`` are the domains' own: each known to a domain, each valid for its model."""
    problems = []
    known = {name for model in models for name in model.model_fields}
    for key in holder.model_extra or {}:
        if key not in known:
            permitted = ", ".join(sorted(known)) or "aucun"
            where = data.key_lines.get(key, line)
            problems.append(f"{path}:{where}: {what} : champ inconnu {key!r} (champs des domaines : {permitted})")
    for model in models:
        try:
            holder.part(model)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                problems.append(f"{path}:{data.key_lines.get(name, line)}: {what} : {name} : {error['msg']}")
    return problems


def _fixture_models() -> tuple[list[type[BaseModel]], list[type[BaseModel]]]:
    """The fixture-field models the domains declare: for each scenario patient, and for the scenario."""
    declared = domains.load().values()
    return (
        [d.patient_fixture for d in declared if d.patient_fixture],
        [d.scenario_fixture for d in declared if d.scenario_fixture],
    )


def _fixture_problems(scenario: Scenario, data: Any, path: Path) -> list[str]:
    """Fixture fields the domains declare (a patient's DMP state, an outage until a step...), checked per domain."""
    declared = list(domains.load().values())
    patient_models, scenario_models = _fixture_models()
    fixtures = data.get("fixtures") if hasattr(data, "get") else None
    line = data.key_lines.get("fixtures", getattr(data, "line", 1))
    problems = []
    if fixtures is not None:
        problems += _domain_field_problems(scenario.fixtures, scenario_models, fixtures, path, line, "fixtures")
        for index, patient in enumerate(scenario.fixtures.patients):
            item = fixtures["patients"][index]
            item_line = fixtures["patients"].item_lines[index]
            problems += _domain_field_problems(patient, patient_models, item, path, item_line, f"patient {patient.ref}")
    if not problems:
        for domain in declared:
            if domain.validate_scenario is not None:
                problems += [f"{path}:{line}: {p}" for p in domain.validate_scenario(scenario)]
    return problems


def scenario_json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema for editors, with each action's name and parameters from the registry and the
    domains' fixture fields, so an editor flags ``method: vitalle`` as the loader does."""
    schema = Scenario.model_json_schema()
    defs = schema.setdefault("$defs", {})
    known = actions.all_actions()
    step = defs["Step"]
    step["properties"]["action"] = {**step["properties"]["action"], "enum": sorted(known)}
    step["allOf"] = [
        {
            "if": {"properties": {"action": {"const": name}}, "required": ["action"]},
            "then": {"properties": {"params": spec.params.model_json_schema()}},
        }
        for name, spec in sorted(known.items())
    ]
    patient_models, scenario_models = _fixture_models()
    for holder, models in (("PatientFixture", patient_models), ("Fixtures", scenario_models)):
        for model in models:
            for name, field_schema in model.model_json_schema().get("properties", {}).items():
                defs[holder]["properties"][name] = field_schema
        defs[holder]["additionalProperties"] = False
    return schema
