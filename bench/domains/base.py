"""What a domain (INS, DMP, MSSanté, ...) declares to the engine, in one place (pytest's ``hookspec``, Inferno's
test kits): its report labels, the requirement ids it owns, the journal channels and transactions its simulators
record, and the modules that register its checks and actions. The engine, replay and security checks read these
declarations and name no domain themselves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bench.actions.registry import ScenarioPatient
    from bench.catalogue.models import Scenario, Step
    from simulators.common.journal import Exchange, Journal
    from simulators.common.pki import BenchPki

# How a channel's exchanges are exported and re-imported in a capture bundle (DESIGN.md: standard formats only):
# ``http`` as HAR 1.2 entries, ``mail`` as RFC 5322 files with a JSON sidecar. What the candidate hands over or shows
# travels on the bench's own ``candidate`` channel, described by CandidateView.
ChannelKind = Literal["http", "mail"]


@dataclass(frozen=True)
class Channel:
    """A journal channel: where a simulator (or the bench's candidate view) records exchanges."""

    name: str
    kind: ChannelKind
    # A server whose certificate no candidate should trust: anything past the TLS handshake there is a finding.
    untrusted: bool = False
    # Transactions that carry no data (what a client may say before STARTTLS: RFC 3207, RFC 3501).
    before_tls: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaptureFile:
    """A standalone file of a field capture that a domain recognises by its name's ending (``.eml``: an MSSanté
    message), and the transaction and evidence part it becomes."""

    suffix: str
    transaction: str
    part: str
    media_type: str


@dataclass(frozen=True)
class CandidateView:
    """What the candidate hands the bench or shows it (a produced document, a read-only view), recorded on the bench's
    ``candidate`` channel and exported as one file per exchange in ``folder`` (``subject_field``: the JSON field that
    names the scenario patient, for routing on replay)."""

    transaction: str
    part: str
    media_type: str
    folder: str
    suffix: str
    subject_field: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """Something a domain's running simulators tell: ``serve`` prints it; when ``for_candidate``, the candidate gets
    it in its environment under ``key`` (the HTTP hook's start body, ``SEGUR_<KEY>`` for commands, the operator's
    screen)."""

    key: str
    value: str
    label: str  # French, for a person
    for_candidate: bool = True


@dataclass(frozen=True)
class SimulatorSetup:
    """What a domain's simulators start with: the run's journal, the bench PKI, a folder for their state, where to
    listen, and the fixed ports the configuration asks for (by port name; 0 or absent: a free one)."""

    journal: Journal
    pki: BenchPki
    state_dir: Path
    host: str
    ports: Mapping[str, int]
    strict_tls: frozenset[str] = frozenset()  # simulators that keep to the real service's published TLS profile


class RunningSimulators(Protocol):
    """A domain's simulators once started. The scenario hooks set them up from the scenario's fixtures."""

    def endpoints(self) -> list[Endpoint]: ...

    def stop(self) -> None: ...

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None: ...

    def after_step(self, scenario: Scenario, step: Step) -> None: ...

    def after_scenario(self, scenario: Scenario) -> None: ...


class QuietSimulators:
    """Scenario hooks that do nothing, for simulators without fixtures."""

    def before_scenario(self, scenario: Scenario, patients: Mapping[str, ScenarioPatient]) -> None:
        return None

    def after_step(self, scenario: Scenario, step: Step) -> None:
        return None

    def after_scenario(self, scenario: Scenario) -> None:
        return None


class FixtureFields(BaseModel):
    """Base of the fixture fields a domain adds to a scenario's patients or to the scenario itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Port:
    """A listening port a user may fix (``simulators.ports.<name>`` in segur-bench.yaml, ``serve --port name=N``)."""

    name: str
    label: str


@dataclass(frozen=True)
class DashboardCounter:
    """A count the software's dashboard shows for this domain (GEN-003: DMP feeds, MSSanté messages, INSi calls),
    read by ``read_dashboard`` and compared with what reached the domain's simulators."""

    key: str
    label: str  # as the operator is asked for it (French)


@dataclass(frozen=True)
class Domain:
    """A domain's declaration. ``modules`` are imported when the domain loads: they register the domain's checks
    and actions (decorators), so the declaration stays the one list of what the domain brings."""

    name: str
    label: str  # French, as the report shows it
    label_en: str
    requirement_prefixes: tuple[str, ...]
    modules: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    transaction_prefixes: tuple[str, ...] = ()  # its transactions' names start so (``dmp.``: ``dmp.iti41``...)
    # Which of its transactions a captured HTTP request is, from the body and content type (None: not this domain's).
    identify_http: Callable[[bytes, str], str | None] | None = None
    # Which of its transactions a request to this URL path is, for calls whose body says nothing (PSC's GETs): the
    # request target is part of the captured request's bytes, never a label the bundle adds.
    identify_path: Callable[[str], str | None] | None = None
    # Which of its transactions a mail channel's record is, from its parts' bytes (name -> bytes) and the bundle's
    # label (None: the bytes contradict the label); without it, a mail record's label is refused on replay.
    identify_mail: Callable[[str, dict[str, bytes]], str | None] | None = None
    capture_files: tuple[CaptureFile, ...] = ()
    candidate_views: tuple[CandidateView, ...] = ()  # the read-only views its actions record
    dashboard_counters: tuple[DashboardCounter, ...] = ()  # what the software's dashboard counts for this domain
    # The patient traits an exchange of its channels carries (``birth_name``, ``first_name``, ``first_names``,
    # ``birth_date``; ``other_first_names`` joined by "|"), so that replay reports pseudonymise them.
    identity_traits: Callable[[Path, Exchange], list[dict[str, str | None]]] | None = None
    # Its simulators: started by the hub for a campaign or ``serve``, given the setup; None for a domain without.
    start_simulators: Callable[[SimulatorSetup], RunningSimulators] | None = None
    ports: tuple[Port, ...] = ()
    # What its exchanges' outcome codes mean, for the report's legend: (code, meaning in French); a code ending with
    # "*" covers every code that starts with what precedes it (``fault:*``).
    outcomes: tuple[tuple[str, str], ...] = ()
    # The simulators can keep to the real service's published TLS profile (``simulators.strict_tls``).
    published_tls: bool = False
    # A folder with ``requirements/*.yaml`` and ``scenarios/**/*.yaml`` the catalogue adds (a domain shipped apart
    # from the bench's own content).
    content: Path | None = None
    # Fixture fields it adds to each scenario patient and to the scenario (validated by the loader, file:line), and
    # cross-checks a model cannot make (a step id that must exist...): problems in plain words.
    patient_fixture: type[FixtureFields] | None = None
    scenario_fixture: type[FixtureFields] | None = None
    validate_scenario: Callable[[Scenario], list[str]] | None = None

    def outcome_meaning(self, code: str) -> str | None:
        for pattern, meaning in self.outcomes:
            if code == pattern or (pattern.endswith("*") and code.startswith(pattern[:-1])):
                return meaning
        return None

    def owns_transaction(self, transaction: str) -> bool:
        return transaction.startswith(self.transaction_prefixes) if self.transaction_prefixes else False


def tls_refusal_recorder(journal: Journal, channel: str, transaction: str) -> Callable[[dict[str, Any]], None]:
    """What an HTTP simulator's server calls on a refused TLS handshake (no client certificate, a foreign one, an old
    protocol, a client refusing the server's certificate): journaled, with what the TLS layer said, so that the
    attempt is evidence too. Domains declare ``transaction`` in their channel's ``before_tls``: it carries nothing."""

    def record(peer: dict[str, Any]) -> None:
        said = json.dumps(peer, ensure_ascii=False, sort_keys=True).encode()
        journal.record(
            channel,
            transaction,
            {"handshake": (said, "application/json")},
            outcome="refused",
            peer=peer,
            meta={"error": peer.get("refused")},
        )

    return record


def installation_secret(setup: SimulatorSetup, purpose: str, variable: str) -> str:
    """A secret the same at every start, so that real software is configured once: ``$variable`` when set, otherwise
    derived from the bench CA's key for ``purpose`` (one per installation, never the same on two machines)."""
    chosen = os.environ.get(variable)
    if chosen:
        return chosen
    digest = hmac.new(setup.pki.ca.key.read_bytes(), f"segur-bench {purpose}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()
