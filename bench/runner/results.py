"""Results of a run: the data every report renders, and the JSON report's documented schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["pass", "fail", "error", "skip", "omit"]
RequirementVerdict = Literal["conforme", "non_conforme", "non_teste", "non_applicable", "erreur"]
REPORT_SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingResult(_Model):
    """One check's verdict on one piece of evidence. ``id`` is stable within the run: a permanent proof link."""

    id: str
    check_id: str
    requirements: list[str]
    outcome: Outcome
    message: str
    exchange_id: str | None = None
    pointer: str | None = None


class StepResult(_Model):
    id: str
    title: str
    action: str
    outcome: Outcome
    message: str = ""
    not_performed: bool = Field(default=False, description="The person could not do the action (operator mode)")
    duration_s: float = 0.0
    exchanges: list[str] = Field(default_factory=list, description="ids of the exchanges recorded during the step")
    findings: list[FindingResult] = Field(default_factory=list)


class ScenarioResult(_Model):
    id: str
    title: str
    requirements: list[str]
    outcome: Outcome
    duration_s: float
    steps: list[StepResult]


class AnsScenario(_Model):
    """One approved row of ANS's grid a requirement carries: its ids, ANS's scenario and the proof ANS asks for."""

    reference: str
    scenario_ref: str
    scenario: str
    proof: str


class RequirementResult(_Model):
    id: str
    official_ids: list[str]
    title: str
    statement: str
    section: str
    block: str
    function: str
    nature: str
    perimeter: str
    criticality: str
    proof_nature: str
    verdict: RequirementVerdict
    reason: str
    counts: dict[str, int]
    scenarios: list[str]
    finding_ids: list[str]
    first_failure: str = Field(default="", description="Non conforme: the first failing finding, check and message")
    title_en: str | None = None
    proof_reference: str = Field(default="", description="The proof ANS asks for, or the bench's scenario")
    proof_verification: str = Field(default="", description="What the auditor verifies")
    candidate_view: bool = Field(
        default=False, description="The verdict rests on what the software says it shows (a read-only view)"
    )
    source: str = Field(default="", description="The public specification and section the statement comes from")
    confidence: str | None = Field(default=None, description="How far the public sources can be trusted: high…low")
    source_note: str | None = None
    checklist: list[str] = Field(default_factory=list, description="What the operator attests, item by item")
    ans_scenarios: list[AnsScenario] = Field(
        default_factory=list, description="ANS's own scenario and proof texts for it, from the grid export given"
    )


class EvidenceEntry(_Model):
    exchange_id: str
    channel: str
    transaction: str
    time: str
    outcome: str | None
    file: str
    sha256: str
    size: int
    abandoned: bool = Field(
        default=False, description="Recorded by a scenario abandoned at an interruption (it ran again on resume)"
    )


class RunResult(_Model):
    """Everything a run established. Serialised as ``report.json``; ``reports/report.schema.json`` documents it."""

    schema_version: str = REPORT_SCHEMA_VERSION
    run_id: str
    bench_version: str
    catalogue_version: str
    catalogue_source: str
    candidate: str
    defects: list[str]
    profile: str
    profile_label: str
    profile_grid: str = Field(default="", description="The release or draft of ANS's requirements the profile follows")
    started: str
    finished: str
    duration_s: float
    scenarios: list[ScenarioResult]
    requirements: list[RequirementResult]
    evidence: list[EvidenceEntry]
    journal_sha256: str = Field(description="SHA-256 of journal.jsonl as it stood when the run ended")
    journal_head: str = Field(
        default="", description="SHA-256 of the journal's last line: the head of its hash chain, signed in seal.json"
    )
    source_signer: str = Field(
        default="",
        description="Replays: fingerprint of the key that signed the bundle's manifest, 'non signé', or '' if none",
    )
    sealed_by: str = Field(
        default="", description="Fingerprint (SHA256:...) of the Ed25519 key that signed the run's seal.json"
    )
    summary: dict[str, int]
    exit_code: int
    software: str = Field(default="", description="The tested software's name and version, as configured")
    operator_name: str = Field(default="", description="Who ran the campaign, as configured")
    pack: str = Field(default="", description="The CI-SIS validation pack: folder name and SHA-256 of its files")
    ans_grid: str = Field(
        default="", description="The ANS grid export the scenario and proof texts come from: name, REM, SHA-256"
    )
    bench_commit: str = Field(default="", description="The bench's git commit, when it runs from a checkout")
    interruptions: list[dict[str, str]] = Field(
        default_factory=list, description="Each interruption: 'interrupted' and 'resumed' (UTC ISO), 'last_seq'"
    )
    identities: Literal["clair", "pseudonymisees"] = Field(
        default="clair", description="Whether identities in this report are pseudonymised (replays, by default)"
    )
