"""The action registry is the one list of actions: adapters, the candidate API and the command adapter follow it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.actions.registry import all_actions, camel_case
from bench.candidates.base import CandidateAdapter
from bench.candidates.command import CommandAdapter, known_actions
from bench.candidates.http_hook import HttpHookAdapter
from bench.candidates.operator import OperatorAdapter
from bench.candidates.reference import ReferenceCandidate
from bench.domains import registry as domains

API = Path(__file__).parents[1] / "bench" / "candidates" / "api" / "candidate-api.yaml"
LIFECYCLE = {"start", "stop", "reset"}
CANDIDATE_ACTIONS = sorted(name for name, spec in all_actions().items() if spec.by == "candidate")


@pytest.mark.parametrize(
    "adapter", [CandidateAdapter, ReferenceCandidate, OperatorAdapter, HttpHookAdapter, CommandAdapter]
)
def test_every_adapter_performs_every_candidate_action(adapter: type) -> None:
    missing = [name for name in CANDIDATE_ACTIONS if not callable(getattr(adapter, name, None))]
    assert not missing, f"{adapter.__name__} lacks {missing}"


def test_the_candidate_api_has_one_operation_per_candidate_action_and_no_other() -> None:
    spec = yaml.safe_load(API.read_text(encoding="utf-8"))
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values() if "operationId" in op}
    assert operations - LIFECYCLE - {"performAction", "settled"} == {camel_case(name) for name in CANDIDATE_ACTIONS}


def test_the_command_adapter_accepts_exactly_the_lifecycle_and_candidate_actions() -> None:
    assert set(known_actions()) == LIFECYCLE | set(CANDIDATE_ACTIONS)


def test_every_action_belongs_to_a_registered_domain_and_causes_its_transactions() -> None:
    registered = domains.load()
    for spec in all_actions().values():
        assert spec.domain == "core" or spec.domain in registered, spec.name
        for transaction in spec.causes:
            owner = domains.domain_of_transaction(transaction)
            assert owner is not None and owner.name == spec.domain, (spec.name, transaction)


def test_catalogue_actions_lists_every_action_with_its_allowed_values() -> None:
    import json

    from typer.testing import CliRunner

    from bench.cli import app

    result = CliRunner().invoke(app, ["catalogue", "actions", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {row["action"]: row for row in json.loads(result.stdout)}
    assert set(listed) == set(all_actions())
    assert listed["search_ins"]["params"]["method"]["allowed"] == ["traits", "vitale"]
    assert listed["deliver_message"]["by"] == "bench" and listed["deliver_message"]["params"]["resend"]["allowed"] == []
