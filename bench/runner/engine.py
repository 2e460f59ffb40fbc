"""Run a campaign: for each scenario of the profile, set the fixtures, drive the candidate step by step, wait for
the expected exchanges with hard timeouts, run the checks, and roll verdicts up to requirements."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.candidates.base import (
    IDENTITY_STATUSES,
    AdapterError,
    CandidateAdapter,
    HeldIns,
    PatientInput,
    VitaleReading,
)
from bench.catalogue.loader import Catalogue
from bench.catalogue.models import Expectation, PatientFixture, Scenario, Step
from bench.checks.base import Evidence, Finding, PatientKeys
from bench.runner.dmp_seed import seed_patient
from bench.runner.judge import JudgeSettings, judge_step, matches
from bench.runner.mss_inbox import Delivery, build_delivery
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
from simulators.insi.identities import IdentityBase
from simulators.insi.ins import OID_TEST_NIA, OID_TEST_NIR, traits_key
from simulators.mss.app import CORRESPONDENT

ProgressCallback = Callable[[str, int, int], None]
PROGRESS_DIR = "progress"
ATTESTATIONS = "ATTESTATIONS"


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class CampaignOptions:
    profile: str
    scenario_ids: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    test_mode: bool = True
    timeout_factor: float = 1.0  # scales every expectation's wait (slow real software, or fast tests)
    host: str = "127.0.0.1"
    insi_port: int = 0
    dmp_port: int = 0
    pack: ValidationPack | None = None  # CI-SIS validation pack for the CDA checks (XSD, schematrons, value sets)


@dataclass
class _ScenarioPatient:
    fixture: PatientFixture
    keys: PatientKeys
    input: PatientInput


def _patients(scenario: Scenario, identities: IdentityBase) -> dict[str, _ScenarioPatient]:
    patients = {}
    for fixture in scenario.fixtures.patients:
        typed = fixture.typed
        keys = {f"patient:{fixture.ref}", traits_key(typed.birth_name, typed.birth_date)}
        held = None
        if fixture.identity:
            person = identities.by_id(fixture.identity)
            keys.add(f"ins:{person.matricule}")
            keys.add(person.traits.key)
            if fixture.held_ins:
                held = HeldIns(person.matricule, OID_TEST_NIA if person.kind == "nia" else OID_TEST_NIR)
        vitale = None
        if fixture.vitale:
            vitale = VitaleReading(fixture.vitale.beneficiary, fixture.vitale.insured, fixture.vitale.rank)
            keys.update(f"nir:{n[:13].upper()}" for n in (fixture.vitale.beneficiary, fixture.vitale.insured) if n)
        patient_input = PatientInput(
            ref=fixture.ref,
            birth_name=typed.birth_name,
            first_names=list(typed.first_names),
            sex=typed.sex,
            birth_date=typed.birth_date,
            birth_place=typed.birth_place,
            vitale=vitale,
            held_ins=held,
        )
        patients[fixture.ref] = _ScenarioPatient(fixture, PatientKeys(fixture.ref, frozenset(keys)), patient_input)
    return patients


def patient_keys(scenario: Scenario, identities: IdentityBase) -> dict[str, PatientKeys]:
    """How exchanges about each patient of ``scenario`` are recognised (routing keys)."""
    return {ref: patient.keys for ref, patient in _patients(scenario, identities).items()}


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
        self._dmp_redirected = False
        self._mss_redirected = False
        self._deliveries: dict[str, Delivery] = {}  # this scenario's deliveries by step id (for resends)
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
                self.run_scenario(scenario)
            if ATTESTATIONS not in self.completed and hasattr(self.adapter, "attest"):
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
            insi_port=self.options.insi_port,
            dmp_port=self.options.dmp_port,
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
        attest = self.adapter.attest  # type: ignore[attr-defined]
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
        patients = _patients(scenario, hub.insi_state.identities)
        hub.insi_state.set_behaviours(
            {
                p.fixture.identity: p.fixture.insi_behaviour
                for p in patients.values()
                if p.fixture.identity and p.fixture.insi_behaviour
            }
        )
        self._seed_dmp(patients, hub)
        hub.mss.reset()
        self._deliveries = {}
        hub.dmp_state.outage = scenario.fixtures.dmp_outage_until is not None
        start_seq = hub.journal.last_seq
        steps: list[StepResult] = []
        blocked: str | None = None
        try:
            self.adapter.reset()
            if self._dmp_redirected:
                self.adapter.configure_dmp(hub.endpoints.dmp)
                self._dmp_redirected = False
            if self._mss_redirected:
                self.adapter.configure_mss(hub.endpoints.mss_smtp, hub.endpoints.mss_imap)
                self._mss_redirected = False
        except AdapterError as exc:
            blocked = f"remise à zéro du candidat impossible : {exc}"
        for step in scenario.steps:
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
            if result.outcome == "error":
                blocked = f"l'étape {step.id} n'a pas pu être menée"
        hub.insi_state.set_behaviours({})
        hub.dmp_state.outage = False
        return ScenarioResult(
            id=scenario.id,
            title=scenario.title,
            requirements=scenario.requirements,
            outcome=combine(s.outcome for s in steps),
            duration_s=round(time.monotonic() - clock, 3),
            steps=steps,
        )

    @staticmethod
    def _seed_dmp(patients: dict[str, _ScenarioPatient], hub: SimulatorHub) -> None:
        """Each scenario starts from an empty DMP holding only what its fixtures put there."""
        hub.dmp_state.registry.clear()
        for patient in patients.values():
            fixture = patient.fixture
            if fixture.identity and (fixture.dmp != "actif" or fixture.dmp_documents):
                person = hub.insi_state.identities.by_id(fixture.identity)
                seed_patient(hub.dmp_state, person, fixture.dmp, fixture.dmp_documents)

    def _run_step(
        self, scenario: Scenario, step: Step, patients: dict[str, _ScenarioPatient], journal: Journal, scenario_seq: int
    ) -> StepResult:
        clock = time.monotonic()
        step_seq = journal.last_seq
        patient = patients[step.patient] if step.patient else None
        try:
            focus = self._perform(step, patient, journal)
        except AdapterError as exc:
            self._end_outage(scenario, step)
            return StepResult(
                id=step.id,
                title=step.title,
                action=step.action,
                outcome="error",
                message=f"le candidat n'a pas pu réaliser l'action : {exc}",
                duration_s=round(time.monotonic() - clock, 3),
            )
        self._end_outage(scenario, step)
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

    def _end_outage(self, scenario: Scenario, step: Step) -> None:
        """The DMP comes back once the step the fixtures name is done (its expectations then wait for the candidate)."""
        if self._hub is not None and scenario.fixtures.dmp_outage_until == step.id:
            self._hub.dmp_state.outage = False

    def _perform(self, step: Step, patient: _ScenarioPatient | None, journal: Journal) -> Exchange | None:
        """Ask the candidate for the step's action; return the exchange it produced for the bench, if any."""
        adapter = self.adapter
        if step.action == "configure_dmp":
            assert self._hub is not None
            untrusted = step.params.get("server") == "untrusted"
            adapter.configure_dmp(self._hub.endpoints.dmp_untrusted if untrusted else self._hub.endpoints.dmp)
            self._dmp_redirected = untrusted
            return None
        if step.action == "configure_mss":
            assert self._hub is not None
            untrusted = step.params.get("server") == "untrusted"
            endpoints = self._hub.endpoints
            if untrusted:
                adapter.configure_mss(endpoints.mss_smtp_untrusted, endpoints.mss_imap_untrusted)
            else:
                adapter.configure_mss(endpoints.mss_smtp, endpoints.mss_imap)
            self._mss_redirected = untrusted
            return None
        if step.action == "check_mailbox":
            adapter.check_mailbox()
            return None
        if step.action == "read_received_documents":
            view = adapter.read_received_documents()
            data = json.dumps(asdict(view), ensure_ascii=False, indent=2).encode()
            return journal.record("candidate", "candidate.received_documents", {"received": (data, "application/json")})
        if patient is None:
            raise AdapterError(f"l'action {step.action} exige un patient")
        ref = patient.fixture.ref
        subjects = sorted(patient.keys.keys)
        if step.action == "register_patient":
            adapter.register_patient(patient.input)
        elif step.action == "record_identity_document":
            adapter.record_identity_document(ref, step.params.get("document", "carte nationale d'identité"))
        elif step.action == "search_ins":
            method = step.params.get("method", "traits")
            adapter.search_ins(ref, "vitale" if method == "vitale" else "traits")
        elif step.action == "verify_ins":
            adapter.verify_ins(ref)
        elif step.action in ("produce_document", "replace_document"):
            kind = step.params.get("kind", "consultation-report")
            produce = adapter.produce_document if step.action == "produce_document" else adapter.replace_document
            artifact = produce(ref, kind)
            document = journal.record(
                "candidate",
                "candidate.document",
                {"document": (artifact.data, artifact.media_type)},
                subjects=subjects,
                meta={"name": artifact.name},
            )
            self._snapshot(ref, subjects, journal)  # the identity status at the time of production
            return document
        elif step.action == "read_patient_record":
            return self._snapshot(ref, subjects, journal)
        elif step.action == "open_patient_record":
            adapter.open_patient_record(ref)
        elif step.action == "consult_dmp":
            adapter.consult_dmp(ref, step.params.get("mode", "normal"))
        elif step.action == "mask_document":
            adapter.mask_document(ref, step.params.get("kind", "consultation-report"))
        elif step.action == "send_document":
            adapter.send_document(
                ref, step.params.get("kind", "consultation-report"), step.params.get("to", CORRESPONDENT)
            )
        elif step.action == "deliver_message":
            return self._deliver(step, patient, subjects)
        return None

    def _deliver(self, step: Step, patient: _ScenarioPatient, subjects: list[str]) -> Exchange:
        """The bench, as a correspondent, puts a message for ``patient`` in the candidate's mailbox (or sends again
        the very message of an earlier step, ``resend``)."""
        assert self._hub is not None
        if not patient.fixture.identity:
            raise AdapterError(f"l'étape {step.id} exige un patient doté d'une identité INSi")
        person = self._hub.insi_state.identities.by_id(patient.fixture.identity)
        resend = step.params.get("resend")
        with_ins = step.params.get("ins", "oui") != "non"
        xdm = step.params.get("xdm", "valid")
        if resend:
            if resend not in self._deliveries:
                raise AdapterError(f"l'étape {step.id} renvoie le message de l'étape {resend}, qui n'a rien remis")
            delivery = self._deliveries[resend]
        else:
            delivery = build_delivery(
                person, step.params.get("kind", "consultation-report"), with_ins=with_ins, xdm=xdm
            )
        self._deliveries[step.id] = delivery
        return self._hub.mss.deliver(
            delivery.data,
            kind="document",
            subjects=subjects,
            meta={
                "message_id": delivery.message_id,
                "unique_id": delivery.unique_id,
                "filed_in": step.params.get("filed_in"),  # the record it belongs in; None: it must await matching
                "ins": person.matricule if with_ins and xdm == "valid" else None,  # what INSi must be asked about
                "resend_of": resend,
            },
        )

    def _snapshot(self, ref: str, subjects: list[str], journal: Journal) -> Exchange:
        view = self.adapter.read_patient_record(ref)
        if view.status not in IDENTITY_STATUSES:
            # An unknown status cannot be judged: a bench error, never a silent pass.
            raise AdapterError(f"statut d'identité inconnu {view.status!r} : attendu {', '.join(IDENTITY_STATUSES)}")
        data = json.dumps(asdict(view), ensure_ascii=False, indent=2).encode()
        return journal.record(
            "candidate",
            "candidate.patient_record",
            {"record": (data, "application/json")},
            subjects=subjects,
            outcome=view.status,
        )

    def _wait(
        self, expectation: Expectation, keys: PatientKeys | None, journal: Journal, step_seq: int
    ) -> Exchange | None:
        """Wait for the exchange ``expectation`` names, at most its (scaled) time, showing a countdown if the adapter
        is interactive."""
        within = expectation.within * self.options.timeout_factor
        test = matches(expectation, keys)
        waiting = getattr(self.adapter, "waiting", None)
        if waiting is not None:
            with waiting(f"{expectation.transaction} au simulateur {expectation.channel}", within):
                return journal.wait_for(test, after_seq=step_seq, timeout=within)
        return journal.wait_for(test, after_seq=step_seq, timeout=within)

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
