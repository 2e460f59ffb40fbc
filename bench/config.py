"""``segur-bench.yaml``: the candidate, its profile, simulator endpoints, certificates and output folder.

Precedence, lowest first: built-in defaults, the file (``./segur-bench.yaml`` or ``--config``), environment variables
(``SEGUR_BENCH_CANDIDATE``, ``SEGUR_BENCH_PROFILE``, ``SEGUR_BENCH_HOOK_URL``, ``SEGUR_BENCH_OUT``), command-line flags.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench.paths import CONFIG_NAME
from bench.yamlio import read_yaml, validate_model

__all__ = ["CONFIG_NAME", "BenchConfig", "CandidateConfig", "ConfigError", "load_config"]

CandidateKind = Literal["reference", "http-hook", "command", "operator"]


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandidateConfig(_Strict):
    kind: CandidateKind = "reference"
    defects: list[str] = Field(default_factory=list, description="reference: defect switches")
    hook_url: str | None = Field(default=None, description="http-hook: base URL of the vendor's hook service")
    hook_token: str | None = Field(default=None, description="http-hook: bearer token, if the hook asks for one")
    commands: dict[str, str] = Field(default_factory=dict, description="command: one shell template per action")
    command_timeout: float = 120.0
    operator_timeout: float = Field(default=300.0, description="operator: seconds to wait for each exchange")
    software: str | None = Field(default=None, description="The tested software's name and version, for the report")
    operator_name: str | None = Field(default=None, description="Who ran the campaign, for the report")


Port = Annotated[int, Field(ge=0, le=65535)]


class SimulatorsConfig(_Strict):
    host: str = "127.0.0.1"
    ports: dict[str, Port] = Field(
        default_factory=dict,
        description="Fixed ports by simulator (names: `segur-bench serve --help`); 0 or absent picks a free port",
    )
    strict_tls: list[str] = Field(
        default_factory=list,
        description="Simulators whose listener keeps to the real service's published TLS profile instead of the "
        "bench's (TLS 1.2 or 1.3); names: the domains declaring one (`segur-bench catalogue domains`)",
    )

    @model_validator(mode="before")
    @classmethod
    def _named_ports(cls, data: Any) -> Any:
        """``insi_port: 8443`` (the earlier spelling) is ``ports: {insi: 8443}``."""
        if isinstance(data, dict):
            legacy = {k[: -len("_port")]: v for k, v in data.items() if isinstance(k, str) and k.endswith("_port")}
            if legacy:
                data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.endswith("_port"))}
                data["ports"] = {**legacy, **dict(data.get("ports") or {})}
        return data


def unknown_ports(ports: dict[str, int]) -> list[str]:
    """Port names no registered domain declares."""
    from bench.domains import registry

    declared = {port.name for domain in registry.load().values() for port in domain.ports}
    return sorted(set(ports) - declared)


class BenchConfig(_Strict):
    candidate: CandidateConfig = Field(default_factory=CandidateConfig)
    profile: str = "medecin-ville"
    out: Path = Path("runs")
    lang: Literal["fr", "en"] = "fr"
    pack: Path | None = None
    ans_grid: Path | None = None  # an export of ANS's wave-2 grid: its scenario and proof texts shown in the report
    simulators: SimulatorsConfig = Field(default_factory=SimulatorsConfig)
    timeout_factor: float = Field(default=1.0, gt=0)


def load_config(path: Path | None = None) -> BenchConfig:
    """The configuration from ``path`` (or ``./segur-bench.yaml`` when present), then the environment."""
    problems: list[str] = []
    config = BenchConfig()
    chosen = path or (Path(CONFIG_NAME) if Path(CONFIG_NAME).is_file() else None)
    if chosen is not None:
        if not chosen.is_file():
            raise ConfigError([f"{chosen}:1: fichier de configuration introuvable"])
        data = read_yaml(chosen, problems)
        if data is not None:
            loaded = validate_model(BenchConfig, data, chosen, problems)
            if loaded is not None:
                config = loaded
        if problems:
            raise ConfigError(problems)
    env = os.environ
    if env.get("SEGUR_BENCH_CANDIDATE"):
        config.candidate.kind = env["SEGUR_BENCH_CANDIDATE"]  # type: ignore[assignment]  # validated below
    if env.get("SEGUR_BENCH_HOOK_URL"):
        config.candidate.hook_url = env["SEGUR_BENCH_HOOK_URL"]
    if env.get("SEGUR_BENCH_PROFILE"):
        config.profile = env["SEGUR_BENCH_PROFILE"]
    if env.get("SEGUR_BENCH_OUT"):
        config.out = Path(env["SEGUR_BENCH_OUT"])
    config = BenchConfig.model_validate(config.model_dump())
    from bench.domains import registry  # lazy: the command line's start-up stays light (issue 21)

    strict = {domain.name for domain in registry.load().values() if domain.published_tls}
    if not set(config.simulators.strict_tls) <= strict:
        where = chosen or CONFIG_NAME
        wrong = ", ".join(sorted(set(config.simulators.strict_tls) - strict))
        raise ConfigError([f"{where}:1: simulators.strict_tls : {wrong} (possibles : {', '.join(sorted(strict))})"])
    unknown = unknown_ports(config.simulators.ports)
    if unknown:
        where = chosen or CONFIG_NAME
        raise ConfigError([f"{where}:1: simulators.ports : simulateur(s) inconnu(s) {', '.join(unknown)}"])
    return config


INIT_TEMPLATE = """\
# segur-bench configuration. Flags override it, and so do SEGUR_BENCH_CANDIDATE, SEGUR_BENCH_PROFILE,
# SEGUR_BENCH_HOOK_URL and SEGUR_BENCH_OUT. JSON Schema: `segur-bench config-schema`.

candidate:
  # reference (built into the bench) | http-hook (your HTTP service implementing the candidate API,
  # see the OpenAPI document bench/candidates/api/candidate-api.yaml) | command (one shell command per action) |
  # operator (a person performs each step in your software, the bench waits for the exchanges)
  kind: reference
  # http-hook:
  # hook_url: http://127.0.0.1:8765
  # hook_token: change-me
  # command: JSON on standard input; {ref}, {method}, {kind}, {document} are replaced (shell-quoted).
  # commands:
  #   register_patient: mysoft-cli patients create --stdin
  #   record_identity_document: mysoft-cli patients id-check {ref} --document {document}
  #   search_ins: mysoft-cli ins search {ref} --method {method}
  #   verify_ins: mysoft-cli ins verify {ref}
  #   produce_document: mysoft-cli documents produce {ref} --kind {kind} --json
  #   read_patient_record: mysoft-cli patients show {ref} --json
  # command_timeout: 120
  # operator: how long a person is given for each exchange (Enter ends a wait earlier), in seconds
  # operator_timeout: 300
  # For the report: the tested software (name and version) and who ran the campaign
  # software: MonLogiciel 4.2.1
  # operator_name: Jeanne Dupont (QA)

# Referencing profile: medecin-ville | officine
profile: medecin-ville

# Where runs (evidence and reports) are written
out: runs

# Report language: fr | en
lang: fr

# CI-SIS validation pack (XSD, schematrons, value sets) for the CDA checks
# pack: /path/to/TestContenuCDA

# CSV export of ANS's wave-2 grid (sheet prepub_va2_avec_scenarios): ANS's scenario and proof beside each verdict
# ans_grid: /path/to/segur-va2-prepub_va2_avec_scenarios.csv

simulators:
  host: 127.0.0.1
  # Fixed ports make it easy to configure real software once; 0 picks a free port at each run.
  ports:
@PORTS@
  # Keep a simulator to the real service's published TLS profile (dmp: TLS 1.2, the DMP's cipher suites)
  # strict_tls: [dmp]

# Multiply every waiting time (slow software, or busy test machines)
timeout_factor: 1.0
"""


def init_template() -> str:
    """The commented ``segur-bench.yaml`` that ``init`` writes, with a line per port the registered domains declare."""
    from bench.domains import registry

    ports = [port for domain in registry.load().values() for port in domain.ports]
    lines = "\n".join(f"    {port.name}: 0  # {port.label}" for port in ports) or "    {}"
    return INIT_TEMPLATE.replace("@PORTS@", lines)
