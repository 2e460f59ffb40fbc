"""Replay a capture bundle through the same judging as a live run.

A bundle exported from a bench run carries the run's structure (scenarios, steps, the exchanges each step saw); the
replay imports the exchanges into a new journal and judges every step again with the shared step judge, so the
verdicts of a run and of the replay of its export are the same. Steps the candidate could not perform stay as they
were (there is nothing to judge)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.actions import registry as actions
from bench.catalogue.loader import Catalogue
from bench.catalogue.models import Expectation
from bench.checks.base import CheckContext, Evidence, Finding, PatientKeys
from bench.checks.registry import standalone_checks
from bench.replay.importer import ImportReport, import_bundle
from bench.runner.engine import ATTESTATIONS
from bench.runner.judge import JudgeSettings, judge_step, matches, run_check
from bench.runner.patients import patient_keys, population
from bench.runner.results import FindingResult, RunResult, ScenarioResult, StepResult
from bench.runner.rollup import build_result
from bench.runner.verdicts import combine
from bench.validation.packs import ValidationPack
from simulators.common.journal import JOURNAL_NAME, Exchange, Journal
from simulators.insi.identities import IdentityBase


def _run_config(imported: ImportReport) -> dict[str, Any]:
    """The exported run's configuration (profile, candidate, defects); an unreadable run.json is said, never fatal."""
    try:
        run_meta = json.loads(imported.run_files.get("run/run.json", b"{}") or b"{}")
        config = run_meta.get("config", {}) if isinstance(run_meta, dict) else None
        if isinstance(config, dict) and isinstance(config.get("candidate") or {}, dict):
            return config
    except (ValueError, RecursionError) as exc:
        imported.problems.append(f"run/run.json illisible : {exc}")
        return {}
    imported.problems.append("run/run.json : configuration de campagne illisible, ignorée")
    return {}


def _scenario_structure(imported: ImportReport) -> list[ScenarioResult]:
    """The exported run's scenarios and steps (which exchanges each step saw), to be judged again; a progress file that
    cannot be read is said and its scenario left out, never a crash (an unsigned bundle may hold anything)."""
    scenarios = []
    for name, data in sorted(imported.run_files.items()):
        if not name.startswith("run/progress/"):
            continue
        try:
            scenarios.append(ScenarioResult.model_validate_json(data))
        except (ValueError, RecursionError) as exc:  # pydantic's ValidationError is a ValueError
            imported.problems.append(f"{name} illisible, scénario non rejoué : {str(exc).splitlines()[0]}")
    return scenarios


class BundleAltered(ValueError):
    """A bundle whose files are not what its manifest vouches for: replaying it would judge other evidence than the
    run's, so it is not judged at all (a bench error for the caller)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ReplayOutcome:
    result: RunResult
    imported: ImportReport


def replay_bundle(
    bundle: Path, out_dir: Path, catalogue: Catalogue, *, pack: ValidationPack | None = None
) -> ReplayOutcome:
    """Import ``bundle`` into ``out_dir`` and judge it again; the run result is ready for the usual reports."""
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(out_dir)
    try:
        imported = import_bundle(bundle, journal)
    finally:
        journal.close()
    if imported.altered:
        raise BundleAltered(imported.altered)
    config = _run_config(imported)
    profile = str(config.get("profile") or "medecin-ville")
    candidate = str((config.get("candidate") or {}).get("kind") or "capture")
    defects = list((config.get("candidate") or {}).get("defects") or [])
    originals = _scenario_structure(imported)
    by_id = {x.id: x for x in imported.exchanges}
    settings = JudgeSettings(pack=pack, timeout_factor=float(config.get("timeout_factor") or 1.0))
    identities = population()
    scenarios = [
        _replay_scenario(original, catalogue, identities, imported, by_id, out_dir, settings)
        if original.id in catalogue.scenarios and original.id != ATTESTATIONS
        else original
        for original in originals
    ]
    if not originals:
        # A field capture: no scenario structure, so each exchange is judged on its own by the checks that apply.
        scenarios = [_capture_scenario(imported, out_dir, settings)]
    digest = hashlib.sha256((out_dir / JOURNAL_NAME).read_bytes()).hexdigest()
    result = build_result(
        catalogue,
        profile,
        f"{candidate} (rejeu)",
        defects,
        out_dir.name,
        scenarios,
        imported.exchanges,
        digest,
        started,
        dt.datetime.now(dt.UTC),
        time.monotonic() - clock,
    )
    return ReplayOutcome(result, imported)


def _replay_scenario(
    original: ScenarioResult,
    catalogue: Catalogue,
    identities: IdentityBase,
    imported: ImportReport,
    by_id: dict[str, Exchange],
    run_dir: Path,
    settings: JudgeSettings,
) -> ScenarioResult:
    scenario = catalogue.scenarios[original.id]
    keys = patient_keys(scenario, identities)
    steps_by_id = {step.id: step for step in scenario.steps}
    seen: list[Exchange] = []
    replayed: list[StepResult] = []
    for step_result in original.steps:
        step = steps_by_id.get(step_result.id)
        mapped = [by_id[i] for i in (imported.original_ids.get(x) for x in step_result.exchanges) if i in by_id]
        seen += mapped
        if step is None or (step_result.outcome in ("error", "skip") and not step_result.findings):
            replayed.append(step_result)
            continue
        focus_transaction = actions.get(step.action).focus
        focus = next((x for x in mapped if x.transaction == focus_transaction), None)

        def find(
            expectation: Expectation, expected: PatientKeys | None, step_exchanges: list[Exchange] = mapped
        ) -> Exchange | None:
            test = matches(expectation, expected)
            return next((x for x in step_exchanges if test(x)), None)

        evidence = Evidence(run_dir, list(seen))  # what had been recorded by the end of this step
        findings = judge_step(step, keys, focus, find, _constant(evidence), settings)
        replayed.append(_step_result(original.id, step_result, findings))
    return ScenarioResult(
        id=original.id,
        title=original.title,
        requirements=original.requirements,
        outcome=combine(s.outcome for s in replayed),
        duration_s=0.0,
        steps=replayed,
    )


CAPTURE = "CAPTURE"


def _capture_scenario(imported: ImportReport, run_dir: Path, settings: JudgeSettings) -> ScenarioResult:
    evidence = Evidence(run_dir, imported.exchanges)
    standalone = standalone_checks()
    steps = []
    for exchange in imported.exchanges:
        checks = standalone.get(exchange.transaction, ())
        context = CheckContext(focus=exchange, test_mode=settings.test_mode, pack=settings.pack, alone=True)
        findings = [f for check_id in checks for f in run_check(check_id, evidence, context)]
        steps.append(
            _step_result(
                CAPTURE,
                StepResult(
                    id=exchange.id,
                    title=exchange.transaction,
                    action="capture",
                    outcome="omit",
                    exchanges=[exchange.id],
                ),
                findings,
            )
        )
    requirements = sorted({r for s in steps for f in s.findings for r in f.requirements})
    return ScenarioResult(
        id=CAPTURE,
        title="Échanges capturés",
        requirements=requirements,
        outcome=combine(s.outcome for s in steps),
        duration_s=0.0,
        steps=steps,
    )


def _constant(evidence: Evidence) -> Callable[[], Evidence]:
    return lambda: evidence


def _step_result(scenario_id: str, original: StepResult, findings: list[Finding]) -> StepResult:
    numbered = [
        FindingResult(
            id=f"{scenario_id}/{original.id}/{n + 1}",
            check_id=f.check_id,
            requirements=list(f.requirements),
            outcome=f.outcome,
            message=f.message,
            exchange_id=f.exchange_id,
            pointer=f.pointer,
        )
        for n, f in enumerate(findings)
    ]
    return StepResult(
        id=original.id,
        title=original.title,
        action=original.action,
        outcome=combine(f.outcome for f in findings)
        if findings
        else ("omit" if original.action == "capture" else "pass"),
        exchanges=original.exchanges,
        findings=numbered,
    )
