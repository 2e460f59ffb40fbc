"""The command adapter, driving the sample hook service through one shell command per action."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.candidates.base import AdapterError
from bench.candidates.command import CommandAdapter
from bench.candidates.hook_service import create_hook_app
from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.runner.engine import Campaign, CampaignOptions
from simulators.common.pki import BenchPki
from simulators.common.server import SimulatorServer

FORWARD = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).parent / 'data' / 'command' / 'forward.py'))}"
TEMPLATES = {
    "start": f"{FORWARD} POST /v1/session/start",
    "reset": f"{FORWARD} POST /v1/session/reset",
    "register_patient": f"{FORWARD} POST /v1/patients",
    "record_identity_document": f"{FORWARD} POST /v1/patients/{{ref}}/identity-document",
    "search_ins": f"{FORWARD} POST /v1/patients/{{ref}}/ins-search",
    "verify_ins": f"{FORWARD} POST /v1/patients/{{ref}}/ins-verification",
    "produce_document": f"{FORWARD} POST /v1/patients/{{ref}}/documents",
    "read_patient_record": f"{FORWARD} GET /v1/patients/{{ref}}/record",
    "open_patient_record": f"{FORWARD} POST /v1/patients/{{ref}}/opening",
    "consult_dmp": f"{FORWARD} POST /v1/patients/{{ref}}/dmp-consultation",
    "replace_document": f"{FORWARD} POST /v1/patients/{{ref}}/documents/{{kind}}/replacement",
    "mask_document": f"{FORWARD} POST /v1/patients/{{ref}}/documents/{{kind}}/masking",
    "configure_dmp": f"{FORWARD} POST /v1/session/dmp-endpoint",
    "search_dmp": f"{FORWARD} POST /v1/patients/{{ref}}/dmp-search",
    "delete_document": f"{FORWARD} POST /v1/patients/{{ref}}/documents/{{kind}}/deletion",
    "integrate_dmp_document": f"{FORWARD} POST /v1/patients/{{ref}}/dmp-documents/{{kind}}/integration",
    "open_dmp_document": f"{FORWARD} POST /v1/patients/{{ref}}/dmp-documents/{{kind}}/opening",
    "find_order_reports": f"{FORWARD} POST /v1/patients/{{ref}}/dmp-order-reports",
}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with SimulatorServer(create_hook_app(), "hook", ssl_context=None) as server:
        monkeypatch.setenv("SEGUR_TEST_HOOK", server.url)
        yield server.url


def test_command_adapter_gives_the_reference_verdicts(
    hook: str, catalogue: Catalogue, pki: BenchPki, tmp_path: Path
) -> None:
    options = CampaignOptions(
        profile="medecin-ville", scenario_ids=["INS-SC-04", "INS-SC-06", "DMP-SC-03", "DMP-SC-04"], timeout_factor=0.2
    )
    by_command = Campaign(catalogue, CommandAdapter(TEMPLATES), options, tmp_path / "cmd", pki).run()
    direct = Campaign(catalogue, ReferenceCandidate(), options, tmp_path / "direct", pki).run()
    assert {r.id: r.verdict for r in by_command.requirements} == {r.id: r.verdict for r in direct.requirements}
    assert all(s.outcome == "pass" for s in by_command.scenarios)


def test_command_adapter_finds_an_orders_reports(
    hook: str, catalogue: Catalogue, pki: BenchPki, tmp_path: Path
) -> None:
    options = CampaignOptions(profile="imagerie", scenario_ids=["DMP-SC-14"], timeout_factor=0.2)
    result = Campaign(catalogue, CommandAdapter(TEMPLATES), options, tmp_path / "cmd", pki).run()
    assert {r.id: r.verdict for r in result.requirements}["DMP-039"] == "conforme"


def test_command_failures_and_configuration_errors() -> None:
    adapter = CommandAdapter({"reset": "echo 'base indisponible' >&2; exit 3", "read_patient_record": "echo '{}'"})
    with pytest.raises(AdapterError, match="code 3\\) : base indisponible"):
        adapter.reset()
    with pytest.raises(AdapterError, match="sortie non conforme"):
        adapter.read_patient_record("p1")
    with pytest.raises(AdapterError, match="aucune commande configurée pour l'action verify_ins"):
        adapter.verify_ins("p1")
    with pytest.raises(AdapterError, match="actions inconnues"):
        CommandAdapter({"fly": "true"})
    with pytest.raises(AdapterError, match="n'a pas fini"):
        CommandAdapter({"reset": "sleep 5"}, timeout=0.2).reset()
