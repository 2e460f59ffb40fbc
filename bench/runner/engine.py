"""Run a campaign: for each scenario of the profile, set the fixtures, drive the candidate step by step, wait for
the expected exchanges with hard timeouts, run the checks, and roll verdicts up to requirements."""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from bench.actions import registry as actions
from bench.actions.registry import ActionContext, ScenarioPatient
from bench.candidates.base import (
    ActionNotPerformed,
    AdapterError,
    AttestingAdapter,
    CandidateAdapter,
    SettlingAdapter,
    WaitingAdapter,
)
from bench.catalogue.loader import Catalogue
from bench.catalogue.models import Expectation, Scenario, Step
from bench.checks.base import Evidence, Finding, PatientKeys
from bench.runner.ids import new_run_id
from bench.runner.judge import JudgeSettings, Settled, judge_step, matches
from bench.runner.patients import population, scenario_patients
from bench.runner.results import (
    FindingResult,
    RunResult,
    ScenarioResult,
    StepResult,
)
from bench.runner.rollup import build_result
from bench.runner.simulators import SimulatorHub
from bench.runner.verdicts import combine
from bench.validation.packs import ValidationPack
from simulators.common.journal import JOURNAL_NAME, Exchange, Journal, read_journal
from simulators.common.pki import BenchPki

__all__ = ["Campaign", "CampaignOptions", "new_run_id"]

ProgressCallback = Callable[[str, int, int], None]
PROGRESS_DIR = "progress"
ATTESTATIONS = "ATTESTATIONS"
PERSON_POLL_S = 0.25  # how often a person's wait looks at the journal and the keyboard
PERSON_GRACE_S = 5.0  # once the person says they are done, how long a late exchange may still take
SETTLE_POLL_S = 0.05  # how often an absence window asks a settling adapter whether the candidate has finished


@dataclass
class CampaignOptions:
    profile: str
    scenario_ids: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    test_mode: bool = True
    timeout_factor: float = 1.0  # scales every expectation's wait (slow real software, or fast tests)
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)  # fixed simulator ports by name (0 or absent: a free one)
    strict_tls: list[str] = field(default_factory=list)  # simulators keeping to the real service's TLS profile
    pack: ValidationPack | None = None  # CI-SIS validation pack for the CDA checks (XSD, schematrons, value sets)


class Campaign:
    """One run: a catalogue, a profile, a candidate adapter, the simulators, and a run directory."""

    def __init__(
        self,
        catalogue: Catalogue,
        adapter: CandidateAdapter,
        options: CampaignOptions,
        run_dir: Path,
        pki: BenchPki,
        progress: ProgressCallback | None = None,
        completed: dict[str, ScenarioResult] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.adapter = adapter
        self.options = options
        self.run_dir = run_dir
        self.pki = pki
        self.progress = progress or (lambda _label, _done, _total: None)
        self.completed: dict[str, ScenarioResult] = dict(completed or {})
        self._hub: SimulatorHub | None = None
        self._run_state: dict[str, object] = {}  # what actions keep for the whole run (redirections...)
        self._scenario_state: dict[str, object] = {}  # what actions keep for one scenario (deliveries...)
        self._position = (1, 1)  # the scenario being run, among those of the campaign (a person is told)
        self._exchanges: list[Exchange] | None = None
        self._started = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()

    def scenarios(self) -> list[Scenario]:
        selected = self.catalogue.scenarios_for(self.options.profile)
        if self.options.scenario_ids:
            wanted = set(self.options.scenario_ids)
            unknown = wanted - set(self.catalogue.scenarios)
            if unknown:
                raise ValueError(f"scénarios inconnus : {', '.join(sorted(unknown))}")
            selected = [s for s in selected if s.id in wanted]
        return selected

    def run(self) -> RunResult:
        """Run every selected scenario not already in ``self.completed`` and roll everything up."""
        self.open()
        try:
            pending = [s for s in self.scenarios() if s.id not in self.completed]
            done = len(self.completed)
            total = done + len(pending)
            for index, scenario in enumerate(pending):
                self.progress(scenario.id, done + index, total)
                self._position = (done + index + 1, total)
                self.run_scenario(scenario)
            if ATTESTATIONS not in self.completed and "attest" in self.adapter.capabilities:
                self._record(self._attestations())
            self.progress("", total, total)
        finally:
            self.close()
        return self.result()

    def open(self) -> None:
        """Start the simulators on the run directory and the candidate (``run`` does it; plugins call it)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._hub = SimulatorHub(
            self.run_dir,
            self.pki,
            host=self.options.host,
            ports=self.options.ports,
            strict_tls=self.options.strict_tls,
        )
        self._hub.start()
        try:
            self.adapter.start(self._hub.environment())
        except AdapterError as exc:
            self._hub.stop()
            raise RuntimeError(f"le candidat n'a pas démarré : {exc}") from exc

    def run_scenario(self, scenario: Scenario) -> ScenarioResult:
        """Run one scenario and keep its result (also on disk, so that an interrupted run can be resumed)."""
        assert self._hub is not None, "open() first"
        return self._record(self._run_scenario(scenario, self._hub))

    def _record(self, result: ScenarioResult) -> ScenarioResult:
        self.completed[result.id] = result
        progress = self.run_dir / PROGRESS_DIR
        progress.mkdir(exist_ok=True)
        (progress / f"{result.id}.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
        return result

    def _attestations(self) -> ScenarioResult:
        """Operator attestations for the profile's requirements proven by a person (an interactive adapter)."""
        clock = time.monotonic()
        attest = cast(AttestingAdapter, self.adapter).attest
        steps = []
        # A run limited to some scenarios asks only the attestations of their domains (INS-SC-05: INS).
        domains = {s.id.split("-")[0] for s in self.scenarios()} if self.options.scenario_ids else None
        for requirement in self.catalogue.requirements.values():
            if requirement.proof.nature != "operator" or not self.catalogue.applies(requirement, self.options.profile):
                continue
            if domains is not None and requirement.id.split("-")[0] not in domains:
                continue
            answers = attest(requirement.id, requirement.statement, requirement.operator_checklist)
            findings = [
                FindingResult(
                    id=f"{ATTESTATIONS}/{requirement.id}/{n + 1}",
                    check_id="attestation",
                    requirements=[requirement.id],
                    outcome="pass" if ok else "fail",
                    message=f"{'constaté' if ok else 'non constaté'} : {item}"
                    + (f" — commentaire : {comment}" if comment else ""),
                )
                for n, (item, ok, comment) in enumerate(answers)
            ]
            steps.append(
                StepResult(
                    id=requirement.id,
                    title=requirement.title,
                    action="attest",
                    outcome=combine(f.outcome for f in findings) if findings else "skip",
                    findings=findings,
                )
            )
        return ScenarioResult(
            id=ATTESTATIONS,
            title="Attestations de l'opérateur",
            requirements=[s.id for s in steps],
            outcome=combine(s.outcome for s in steps),
            duration_s=round(time.monotonic() - clock, 3),
            steps=steps,
        )

    def close(self) -> None:
        if self._hub is None:
            return
        # A second Ctrl-C must not cut the saving of the evidence short.
        previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
        if previous is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.adapter.stop()
        except AdapterError:
            pass  # stopping is best effort: the evidence is already on disk
        finally:
            self._exchanges = self._hub.journal.exchanges
            self._hub.stop()
            self._hub = None
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def result(self) -> RunResult:
        """Roll up every completed scenario, in catalogue order."""
        order = [s.id for s in self.scenarios()] + [ATTESTATIONS]
        results = [self.completed[i] for i in order if i in self.completed]
        journal = self.run_dir / JOURNAL_NAME
        digest = hashlib.sha256(journal.read_bytes()).hexdigest() if journal.exists() else ""
        exchanges = self._exchanges if self._exchanges is not None else read_journal(self.run_dir)
        finished = dt.datetime.now(dt.UTC)
        return self._result(results, exchanges, digest, self._started, finished, time.monotonic() - self._clock)

    # scenario ------------------------------------------------------------------------------------------
    def _run_scenario(self, scenario: Scenario, hub: SimulatorHub) -> ScenarioResult:
        clock = time.monotonic()
        patients = scenario_patients(scenario, population())
        hub.before_scenario(scenario, patients)
        self._scenario_state = {}
        start_seq = hub.journal.last_seq
        steps: list[StepResult] = []
        blocked: str | None = None
        try:
            self.adapter.reset()
            for hook in actions.scenario_hooks():
                hook(self._context(journal=hub.journal))
        except AdapterError as exc:
            blocked = f"remise à zéro du candidat impossible : {exc}"
        for number, step in enumerate(scenario.steps, start=1):
            if "waiting" in self.adapter.capabilities:  # a person is told where they are, in every panel
                at, of = self._position
                where = f"{scenario.id} ({at}/{of}) · étape {number}/{len(scenario.steps)} : {step.title}"
                cast(WaitingAdapter, self.adapter).at_step(where)
            if blocked:
                steps.append(
                    StepResult(
                        id=step.id,
                        title=step.title,
                        action=step.action,
                        outcome="skip",
                        message=f"non exécutée : {blocked}",
                    )
                )
                continue
            result = self._run_step(scenario, step, patients, hub.journal, start_seq)
            steps.append(result)
            if result.outcome == "error" or result.not_performed:
                blocked = f"l'étape {step.id} n'a pas pu être menée"
        hub.after_scenario(scenario)
        return ScenarioResult(
            id=scenario.id,
            title=scenario.title,
            requirements=scenario.requirements,
            outcome=combine(s.outcome for s in steps),
            duration_s=round(time.monotonic() - clock, 3),
            steps=steps,
        )

    def _run_step(
        self, scenario: Scenario, step: Step, patients: dict[str, ScenarioPatient], journal: Journal, scenario_seq: int
    ) -> StepResult:
        clock = time.monotonic()
        step_seq = journal.last_seq
        patient = patients[step.patient] if step.patient else None
        try:
            focus = self._perform(step, patient, journal)
        except ActionNotPerformed as exc:
            self._after_step(scenario, step)
            message = f"action non réalisée par l'opérateur : {exc}"
            proves = sorted({e.requirement for e in step.expect} | self._step_check_requirements(step))
            skipped = [
                FindingResult(
                    id=f"{scenario.id}/{step.id}/1",
                    check_id="action:non_realisee",
                    requirements=proves,
                    outcome="skip",
                    message=message,
                )
            ]
            skipped = skipped if proves else []
            return StepResult(
                id=step.id,
                title=step.title,
                action=step.action,
                outcome="skip",
                message=message,
                not_performed=True,
                duration_s=round(time.monotonic() - clock, 3),
                findings=skipped,
            )
        except AdapterError as exc:
            self._after_step(scenario, step)
            return StepResult(
                id=step.id,
                title=step.title,
                action=step.action,
                outcome="error",
                message=f"le candidat n'a pas pu réaliser l'action : {exc}",
                duration_s=round(time.monotonic() - clock, 3),
            )
        self._after_step(scenario, step)
        settings = JudgeSettings(self.options.test_mode, self.options.pack, self.options.timeout_factor)
        findings = judge_step(
            step,
            {ref: p.keys for ref, p in patients.items()},
            focus,
            lambda expectation, expected: self._wait(expectation, expected, journal, step_seq),
            lambda: Evidence(journal.run_dir, [x for x in journal.exchanges if x.seq > scenario_seq]),
            settings,
        )
        recorded = [x.id for x in journal.exchanges if x.seq > step_seq]
        numbered = [
            FindingResult(id=f"{scenario.id}/{step.id}/{n + 1}", **_finding_fields(f)) for n, f in enumerate(findings)
        ]
        return StepResult(
            id=step.id,
            title=step.title,
            action=step.action,
            outcome=combine(f.outcome for f in findings) if findings else "pass",
            duration_s=round(time.monotonic() - clock, 3),
            exchanges=recorded,
            findings=numbered,
        )

    @staticmethod
    def _step_check_requirements(step: Step) -> set[str]:
        from bench.checks.registry import get as get_check

        return {r for check_id in step.checks for r in get_check(check_id).requirements}

    def _after_step(self, scenario: Scenario, step: Step) -> None:
        """The simulators' fixtures may end with a step (a DMP outage ends once its step is done)."""
        if self._hub is not None:
            self._hub.after_step(scenario, step)

    def _context(
        self, *, journal: Journal, step: Step | None = None, patient: ScenarioPatient | None = None
    ) -> ActionContext:
        return ActionContext(
            self.adapter, journal, self._hub, step, patient, scenario=self._scenario_state, run=self._run_state
        )

    def _perform(self, step: Step, patient: ScenarioPatient | None, journal: Journal) -> Exchange | None:
        """Ask for the step's action through the registry; return the exchange it produced for the checks, if any."""
        spec = actions.get(step.action)
        if spec.needs_patient and patient is None:
            raise AdapterError(f"l'action {step.action} exige un patient")
        params = step.params
        if "kind" in spec.params.model_fields and "kind" not in params:
            # A step that names no kind is about the document this profile's software produces most.
            params = {**params, "kind": self.catalogue.profiles[self.options.profile].usual_document}
        return spec.perform(self._context(journal=journal, step=step, patient=patient), spec.parse(params))

    def _wait(
        self, expectation: Expectation, keys: PatientKeys | None, journal: Journal, step_seq: int
    ) -> Exchange | Settled | None:
        """Wait for the exchange ``expectation`` names, at most its (scaled) time, showing a countdown if the adapter
        is interactive. A window ends before its time only when the adapter says the candidate has finished
        everything it started (``settles``): nothing more can come unless the bench asks, so the journal is read once
        more and decides (a forbidden exchange absent, a required one missing), and the finding says so."""
        within = expectation.within * self.options.timeout_factor
        test = matches(expectation, keys)
        if "settles" in self.adapter.capabilities:
            return self._wait_until_settled(cast(SettlingAdapter, self.adapter), test, journal, step_seq, within)
        if "waiting" in self.adapter.capabilities:
            what = f"{expectation.transaction} au simulateur {expectation.channel}"
            return self._wait_for_person(cast(WaitingAdapter, self.adapter), what, expectation, test, journal, step_seq)
        return journal.wait_for(test, after_seq=step_seq, timeout=within)

    def _wait_for_person(
        self,
        adapter: WaitingAdapter,
        what: str,
        expectation: Expectation,
        test: Callable[[Exchange], bool],
        journal: Journal,
        step_seq: int,
    ) -> Exchange | Settled | None:
        """A person acts at a person's pace. An exchange that must come is waited for until it arrives, the person
        says they are done (then a short grace), or their patience runs out; they may ask to wait again. A window in
        which nothing must come starts only once the person says they have acted (else it would pass before they
        even start), then runs the scenario's time."""
        within = expectation.within * self.options.timeout_factor
        while True:
            started = time.monotonic()
            with adapter.waiting(what, max(within, adapter.patience)) as wait:
                found = None
                while (
                    found is None and not wait.stopped() and time.monotonic() - started < max(within, adapter.patience)
                ):
                    found = journal.wait_for(test, after_seq=step_seq, timeout=PERSON_POLL_S)
                by_person = found is None and wait.stopped()
                if found is None and (by_person or expectation.absent):
                    grace = within if expectation.absent else min(within, PERSON_GRACE_S)
                    found = journal.wait_for(test, after_seq=step_seq, timeout=grace)
            waited = time.monotonic() - started
            received = found.transaction if found is not None else None
            retry = wait.ended(received, waited, must_come=not expectation.absent)
            if found is not None or expectation.absent or not retry:
                break
        if found is not None or expectation.absent:
            return found
        return Settled(waited, "operator" if by_person else "timeout")

    @staticmethod
    def _wait_until_settled(
        adapter: SettlingAdapter, test: Callable[[Exchange], bool], journal: Journal, step_seq: int, within: float
    ) -> Exchange | Settled | None:
        started = time.monotonic()
        deadline = started + within
        while (remaining := deadline - time.monotonic()) > 0:
            found = journal.wait_for(test, after_seq=step_seq, timeout=min(remaining, SETTLE_POLL_S))
            if found is not None:
                return found
            if adapter.settled(min(max(deadline - time.monotonic(), 0.0), SETTLE_POLL_S)):
                # Settled: every call the candidate made has been answered, so journaled (journal first, answer
                # second); one last look at the journal decides.
                found = journal.wait_for(test, after_seq=step_seq, timeout=0)
                return found if found is not None else Settled(time.monotonic() - started)
        return journal.wait_for(test, after_seq=step_seq, timeout=0)

    # roll-up -------------------------------------------------------------------------------------------
    def _result(
        self,
        scenarios: list[ScenarioResult],
        exchanges: list[Exchange],
        journal_digest: str,
        started: dt.datetime,
        finished: dt.datetime,
        duration: float,
    ) -> RunResult:
        return build_result(
            self.catalogue,
            self.options.profile,
            self.adapter.name,
            list(self.options.defects),
            self.run_dir.name,
            scenarios,
            exchanges,
            journal_digest,
            started,
            finished,
            duration,
        )


def _finding_fields(finding: Finding) -> dict[str, object]:
    return {
        "check_id": finding.check_id,
        "requirements": list(finding.requirements),
        "outcome": finding.outcome,
        "message": finding.message,
        "exchange_id": finding.exchange_id,
        "pointer": finding.pointer,
    }
