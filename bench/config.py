"""``segur-bench.yaml``: the candidate, its profile, simulator endpoints, certificates and output folder.

Precedence, lowest first: built-in defaults, the file (``./segur-bench.yaml`` or ``--config``), environment variables
(``SEGUR_BENCH_CANDIDATE``, ``SEGUR_BENCH_PROFILE``, ``SEGUR_BENCH_HOOK_URL``, ``SEGUR_BENCH_OUT``), command-line flags.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bench.yamlio import read_yaml, validate_model

CONFIG_NAME = "segur-bench.yaml"
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


class SimulatorsConfig(_Strict):
    host: str = "127.0.0.1"
    insi_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port at each run")
    dmp_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port at each run")


class BenchConfig(_Strict):
    candidate: CandidateConfig = Field(default_factory=CandidateConfig)
    profile: str = "medecin-ville"
    out: Path = Path("runs")
    lang: Literal["fr", "en"] = "fr"
    pack: Path | None = None
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
    return BenchConfig.model_validate(config.model_dump())


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
  # operator: how long to wait for each exchange, in seconds
  # operator_timeout: 300

# Referencing profile: medecin-ville | officine
profile: medecin-ville

# Where runs (evidence and reports) are written
out: runs

# Report language: fr | en
lang: fr

# CI-SIS validation pack (XSD, schematrons, value sets) for the CDA checks
# pack: /path/to/TestContenuCDA

simulators:
  host: 127.0.0.1
  # Fixed ports make it easy to configure real software once; 0 picks a free port at each run.
  insi_port: 0
  dmp_port: 0

# Multiply every waiting time (slow software, or busy test machines)
timeout_factor: 1.0
"""
