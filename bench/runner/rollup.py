"""Roll findings up into a run result: requirement verdicts over every finding that names them, evidence digests."""

from __future__ import annotations

import datetime as dt

from bench import __version__
from bench.catalogue.loader import Catalogue
from bench.runner.results import EvidenceEntry, FindingResult, RequirementResult, RunResult, ScenarioResult
from bench.runner.verdicts import exit_code, requirement_verdict
from simulators.common.journal import Exchange


def build_result(
    catalogue: Catalogue,
    profile_id: str,
    candidate: str,
    defects: list[str],
    run_id: str,
    scenarios: list[ScenarioResult],
    exchanges: list[Exchange],
    journal_digest: str,
    started: dt.datetime,
    finished: dt.datetime,
    duration: float,
) -> RunResult:
    by_requirement: dict[str, list[FindingResult]] = {}
    scenario_of: dict[str, set[str]] = {}
    for scenario in scenarios:
        for step in scenario.steps:
            for finding in step.findings:
                for req in finding.requirements:
                    by_requirement.setdefault(req, []).append(finding)
                    scenario_of.setdefault(req, set()).add(scenario.id)
    requirements = []
    for model in catalogue.requirements.values():
        findings = by_requirement.get(model.id, [])
        applicable = catalogue.applies(model, profile_id)
        verdict, reason = requirement_verdict(applicable, model.proof.nature, findings)
        counts = {o: sum(1 for f in findings if f.outcome == o) for o in ("pass", "fail", "error", "skip", "omit")}
        requirements.append(
            RequirementResult(
                id=model.id,
                official_ids=model.official_ids,
                title=model.title,
                statement=model.statement,
                section=model.section,
                block=model.block,
                function=model.function,
                nature=model.nature,
                perimeter=model.perimeter,
                criticality=model.criticality,
                proof_nature=model.proof.nature,
                verdict=verdict,
                reason=reason,
                counts=counts,
                scenarios=sorted(scenario_of.get(model.id, set())),
                finding_ids=[f.id for f in findings],
                first_failure=next((f"{f.check_id} : {f.message}" for f in findings if f.outcome == "fail"), ""),
                title_en=model.title_en,
                proof_reference=model.proof.reference,
                proof_verification=model.proof.verification,
                candidate_view=model.proof.candidate_view,
                source=", ".join(p for p in (model.source.specification, model.source.section) if p),
                confidence=model.source.confidence,
                source_note=model.source.note,
                checklist=list(model.operator_checklist),
            )
        )
    evidence = [
        EvidenceEntry(
            exchange_id=x.id,
            channel=x.channel,
            transaction=x.transaction,
            time=x.time,
            outcome=x.outcome,
            file=ref.name,
            sha256=ref.sha256,
            size=ref.size,
        )
        for x in exchanges
        for ref in x.files.values()
    ]
    summary = {
        v: sum(1 for r in requirements if r.verdict == v)
        for v in ("conforme", "non_conforme", "non_teste", "non_applicable", "erreur")
    }
    profile = catalogue.profiles.get(profile_id)
    return RunResult(
        run_id=run_id,
        bench_version=__version__,
        catalogue_version=catalogue.header.catalogue_version,
        catalogue_source=f"{catalogue.header.source_specification} ({catalogue.header.source_version})",
        candidate=candidate,
        defects=list(defects),
        profile=profile_id,
        profile_label=profile.label if profile else profile_id,
        profile_grid=profile.grid if profile else "",
        started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        duration_s=round(duration, 3),
        scenarios=scenarios,
        requirements=requirements,
        evidence=evidence,
        journal_sha256=journal_digest,
        summary=summary,
        exit_code=exit_code(r.verdict for r in requirements),
    )
