"""The loader accepts the shipped catalogue and names file:line for every kind of defect."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench.catalogue.loader import Catalogue, CatalogueError, load_catalogue
from bench.paths import content_root

DOMAIN_IDS = (
    [f"INS-{n:03d}" for n in range(1, 10)]
    + [f"DMP-{n:03d}" for n in range(1, 36)]
    + [f"MSS-{n:03d}" for n in range(1, 47)]
    + [f"CDA-{n:03d}" for n in range(1, 14)]
    + [f"SEC-{n:03d}" for n in range(1, 12)]
    + [f"GEN-{n:03d}" for n in range(1, 6)]
)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(content_root() / "requirements", root / "requirements")
    shutil.copytree(content_root() / "scenarios", root / "scenarios")
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(root)
    return caught.value.problems


def _line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_shipped_catalogue_encodes_every_domain_id(catalogue: Catalogue) -> None:
    assert set(DOMAIN_IDS) <= set(catalogue.requirements)
    assert {"medecin-ville", "officine"} <= set(catalogue.profiles)
    assert catalogue.requirements["INS-005"].official_ids == ["INS/va1.53"]
    for requirement in catalogue.requirements.values():
        assert requirement.statement and requirement.source.specification
    ins_scenarios = [s for s in catalogue.scenarios.values() if s.id.startswith("INS-")]
    covered = {req for s in ins_scenarios for req in s.requirements}
    assert {f"INS-{n:03d}" for n in range(1, 8)} <= covered


def test_unknown_key_names_its_line(content: Path) -> None:
    path = content / "requirements" / "ins.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    nature: exigence\n", "    nature: exigence\n    colour: blue\n", 1
    )
    path.write_text(text, encoding="utf-8")
    problems = _problems(content)
    assert f"{path}:{_line_of(path, 'colour: blue')}: requirements.0.colour : clé inconnue" in problems


def test_missing_field_names_the_mapping(content: Path) -> None:
    path = content / "requirements" / "ins.yaml"
    text = path.read_text(encoding="utf-8").replace("    criticality: major\n", "", 1)
    path.write_text(text, encoding="utf-8")
    problems = _problems(content)
    assert any(p.startswith(f"{path}:{_line_of(path, '- id: INS-001')}:") and "criticality" in p for p in problems)


def test_duplicate_requirement_id_names_both_places(content: Path) -> None:
    path = content / "requirements" / "sec.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: SEC-002", "id: SEC-001"), encoding="utf-8")
    problems = _problems(content)
    expected = f"{path}:{_line_of(path, '- id: SEC-001', 2)}: exigence SEC-001 en double (déjà en {path}:"
    assert any(p.startswith(expected) for p in problems), problems


def test_dangling_requirement_in_scenario(content: Path) -> None:
    path = content / "scenarios" / "ins" / "sc05-inconnu.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- INS-004\n", "- INS-999\n", 1), encoding="utf-8")
    problems = _problems(content)
    assert f"{path}:{_line_of(path, '- INS-999')}: exigence inconnue 'INS-999'" in problems


def test_dangling_check_in_requirement_and_scenario(content: Path) -> None:
    req_path = content / "requirements" / "ins.yaml"
    req_path.write_text(
        req_path.read_text(encoding="utf-8").replace(
            "checks: [ins.verify_request, ins.verify_decision]", "checks: [ins.nope]"
        ),
        encoding="utf-8",
    )
    scen_path = content / "scenarios" / "ins" / "sc06-homonymes.yaml"
    scen_path.write_text(
        scen_path.read_text(encoding="utf-8").replace("- ins.shared_only_when_qualified", "- ins.missing", 1),
        encoding="utf-8",
    )
    problems = _problems(content)
    assert f"{req_path}:{_line_of(req_path, 'ins.nope')}: vérification inconnue 'ins.nope'" in problems
    assert any(p.startswith(f"{scen_path}:") and "vérification inconnue 'ins.missing'" in p for p in problems)


def test_check_proving_another_requirement_is_refused(content: Path) -> None:
    req_path = content / "requirements" / "ins.yaml"
    req_path.write_text(
        req_path.read_text(encoding="utf-8").replace(
            "checks: [ins.verify_request, ins.verify_decision]", "checks: [ins.traits_fidelity]"
        ),
        encoding="utf-8",
    )
    scen_path = content / "scenarios" / "ins" / "sc04-verification.yaml"
    scen_path.write_text(
        scen_path.read_text(encoding="utf-8").replace("- ins.verify_request", "- ins.traits_fidelity", 1),
        encoding="utf-8",
    )
    problems = _problems(content)
    line = _line_of(req_path, "checks: [ins.traits_fidelity]")
    assert f"{req_path}:{line}: la vérification 'ins.traits_fidelity' prouve INS-003, pas INS-002" in problems
    assert any(p.startswith(f"{scen_path}:") and "qu'aucune exigence du scénario ne cite" in p for p in problems)


def test_yaml_syntax_error_names_its_line(content: Path) -> None:
    path = content / "scenarios" / "ins" / "sc04-verification.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "title: [unclosed")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _problems(content)
    assert any(re.match(rf"{re.escape(str(path))}:\d+: YAML invalide", p) for p in problems), problems


def test_duplicate_yaml_key_is_refused(content: Path) -> None:
    path = content / "scenarios" / "ins" / "sc04-verification.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: Vérification", "title: Doublon\ntitle: Vérification", 1), encoding="utf-8")
    problems = _problems(content)
    assert any(f"{path}:" in p and "clé 'title' en double" in p for p in problems), problems


def test_unknown_fixture_identity_is_reported(content: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(content, validate_fixture=lambda ident: None if ident == "lefevre" else f"inconnue {ident}")
    assert any("inconnue casanova" in p and "sc02" in p for p in caught.value.problems)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("profiles: [general]", "profil 'general' supprimé"),
        ("profiles: []", "profiles"),
        ("profiles: [dentiste]", "inconnu"),
    ],
)
def test_profiles_are_explicit_general_empty_or_unknown_are_refused(content: Path, written: str, said: str) -> None:
    path = content / "requirements" / "ins.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("profiles: [medecin-ville, officine, biologie, imagerie, hopital]", written, 1), encoding="utf-8"
    )
    line = _line_of(path, written)
    problems = _problems(content)
    assert any(p.startswith(f"{path}:{line}:") and said in p for p in problems), (line, problems)


def test_every_requirement_names_its_profiles(catalogue: Catalogue) -> None:
    for requirement in catalogue.requirements.values():
        assert requirement.profiles and set(requirement.profiles) <= set(catalogue.profiles), requirement.id


@pytest.mark.parametrize(
    ("scenario", "old", "new", "said"),
    [
        (
            "ins/sc02-qualification-vitale",
            "method: vitale",
            "method: vitalle",
            "search_ins : method='vitalle' refusé (valeurs permises : traits, vitale)",
        ),
        (
            "dmp/sc01-alimentation-medecin-ville",
            "kind: consultation-report",
            "kind: consultation-reprot",
            "kind='consultation-reprot' refusé",
        ),
        (
            "ins/sc02-qualification-vitale",
            "method: vitale",
            "methode: vitale",
            "paramètre inconnu 'methode' pour l'action search_ins (permis : method)",
        ),
        (
            "ins/sc02-qualification-vitale",
            "action: search_ins",
            "action: search_inss",
            "action inconnue 'search_inss' (actions connues : ",
        ),
    ],
)
def test_a_step_with_a_misspelt_action_or_parameter_is_refused_at_its_line(
    content: Path, scenario: str, old: str, new: str, said: str
) -> None:
    path = content / "scenarios" / f"{scenario}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = _line_of(path, new)
    problems = _problems(content)
    assert any(p.startswith(f"{path}:{line}:") and said in p for p in problems), (line, problems)


@pytest.mark.parametrize(
    ("file", "old", "new", "said"),
    [
        ("dmp/sc06-refus-du-dmp.yaml", "dmp: ferme", "dmp: fermé", "patient p3 : dmp : Input should be"),
        ("dmp/sc06-refus-du-dmp.yaml", "dmp: ferme", "dmpp: ferme", "champ inconnu 'dmpp' (champs des domaines : "),
        ("dmp/sc04-consultation.yaml", "- medical-summary", "- medical-sumary", "dmp_documents : Input should be"),
        ("ins/sc07-pannes-insi.yaml", "insi_behaviour: fault", "insi_behaviour: faute", "insi_behaviour : Input"),
        ("dmp/sc08-dmp-injoignable.yaml", "dmp_outage_until: p1-document", "dmp_outage_until: nowhere", "aucune étape"),
    ],
)
def test_a_domain_fixture_field_misspelt_or_out_of_range_is_refused(
    content: Path, file: str, old: str, new: str, said: str
) -> None:
    path = content / "scenarios" / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = _problems(content)
    assert any(p.startswith(f"{path}:") and said in p for p in problems), problems


def test_the_scenario_json_schema_accepts_every_shipped_scenario_and_flags_a_misspelt_parameter() -> None:
    import jsonschema
    import yaml

    from bench.catalogue.loader import scenario_json_schema

    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    for path in sorted((content_root() / "scenarios").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert not list(validator.iter_errors(data)), path
    bad = yaml.safe_load((content_root() / "scenarios" / "ins" / "sc02-qualification-vitale.yaml").read_text())
    next(s for s in bad["steps"] if s["action"] == "search_ins")["params"]["method"] = "vitalle"
    bad["fixtures"]["patients"][0]["dmpp"] = "ferme"
    messages = [e.message for e in validator.iter_errors(bad)]
    assert any("vitalle" in m for m in messages) and any("dmpp" in m for m in messages), messages


@pytest.mark.parametrize("nesting", ["flow", "block"])
def test_yaml_nested_too_deep_is_a_file_line_problem_not_a_traceback(content: Path, nesting: str) -> None:
    path = content / "scenarios" / "ins" / "sc04-verification.yaml"
    depth = 20_000
    if nesting == "flow":
        deep = "notes: " + "[" * depth + "]" * depth + "\n"
    else:
        deep = "notes:\n" + "".join(" " * level + "- \n" for level in range(0, 4000, 1))
    path.write_text(path.read_text(encoding="utf-8") + deep, encoding="utf-8")
    problems = _problems(content)
    assert any(p.startswith(f"{path}:") for p in problems), problems


def test_a_profiles_usual_document_must_be_one_it_produces(content: Path) -> None:
    """A step naming no kind asks for the profile's usual document: one its software does not produce is refused at
    its line."""
    path = content / "requirements" / "profiles.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("usual_document: consultation-report", "usual_document: lab-report", 1), "utf-8")
    line = _line_of(path, "usual_document: lab-report")
    problems = _problems(content)
    assert any(p.startswith(f"{path}:{line}:") and "medecin-ville" in p and "lab-report" in p for p in problems), (
        problems
    )
