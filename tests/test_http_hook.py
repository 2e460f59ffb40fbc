"""The http-hook adapter driving the sample hook service over a real socket; the API document; a schemathesis fuzz."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from bench.candidates.api import OPENAPI_FILE
from bench.candidates.base import AdapterError
from bench.candidates.hook_service import create_hook_app
from bench.candidates.http_hook import HttpHookAdapter
from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.runner.engine import Campaign, CampaignOptions
from bench.runner.results import RunResult
from bench.validation.packs import ValidationPack
from simulators.common.pki import BenchPki
from simulators.common.server import SimulatorServer


@pytest.fixture
def hook_url() -> Iterator[str]:
    with SimulatorServer(create_hook_app(), "hook", ssl_context=None) as server:
        yield server.url


def _verdicts(result: RunResult) -> dict[str, str]:
    return {r.id: r.verdict for r in result.requirements}


def test_openapi_document_is_valid() -> None:
    spec, _ = read_from_filename(str(OPENAPI_FILE))
    validate(spec)


def test_http_hook_gives_the_reference_verdicts(
    hook_url: str, catalogue: Catalogue, pki: BenchPki, ci_sis_pack: ValidationPack | None, tmp_path: Path
) -> None:
    options = CampaignOptions(profile="medecin-ville", pack=ci_sis_pack, timeout_factor=0.2)
    through_hook = Campaign(catalogue, HttpHookAdapter(hook_url), options, tmp_path / "hook", pki).run()
    direct = Campaign(catalogue, ReferenceCandidate(), options, tmp_path / "direct", pki).run()
    assert _verdicts(through_hook) == _verdicts(direct)
    assert through_hook.candidate == "http-hook" and through_hook.exit_code == 0
    assert {s.id: s.outcome for s in through_hook.scenarios} == {s.id: s.outcome for s in direct.scenarios}


def test_http_hook_gives_the_reference_verdicts_for_an_imaging_department(
    hook_url: str, catalogue: Catalogue, pki: BenchPki, ci_sis_pack: ValidationPack | None, tmp_path: Path
) -> None:
    """API 1.6: the imaging report (its kind, its DMP links) and the search of an order's reports over HTTP."""
    scenarios = ["CDA-SC-03", "DMP-SC-13", "DMP-SC-14"]
    options = CampaignOptions(profile="imagerie", pack=ci_sis_pack, timeout_factor=0.2, scenario_ids=scenarios)
    through_hook = Campaign(catalogue, HttpHookAdapter(hook_url), options, tmp_path / "hook", pki).run()
    direct = Campaign(catalogue, ReferenceCandidate(), options, tmp_path / "direct", pki).run()
    assert _verdicts(through_hook) == _verdicts(direct)
    assert _verdicts(through_hook)["DMP-039"] == _verdicts(through_hook)["DMP-037"] == "conforme"
    assert all(s.outcome == "pass" for s in through_hook.scenarios)


def test_hook_errors_become_adapter_errors(hook_url: str) -> None:
    adapter = HttpHookAdapter(hook_url)
    with pytest.raises(AdapterError, match="HTTP 409 : patient inconnu du candidat : nobody"):
        adapter.read_patient_record("nobody")
    with pytest.raises(AdapterError, match="injoignable"):
        HttpHookAdapter("http://127.0.0.1:9").reset()


def test_the_hook_says_when_the_software_has_settled_and_silence_means_wait(hook_url: str) -> None:
    from starlette.applications import Starlette

    assert HttpHookAdapter(hook_url).settled(0.1) is True  # the sample service has nothing in flight
    # A hook service without the optional operation (API 1.1): never settled, asked once only.
    with SimulatorServer(Starlette(), "hook-1.1", ssl_context=None) as server:
        adapter = HttpHookAdapter(server.url)
        assert adapter.settled(0.1) is False and adapter.settled(0.1) is False
        assert adapter._says_settled is False


schema = schemathesis.openapi.from_path(str(OPENAPI_FILE))


@pytest.fixture(scope="module")
def fuzz_url() -> Iterator[str]:
    with SimulatorServer(create_hook_app(), "hook-fuzz", ssl_context=None) as server:
        yield server.url


@schema.parametrize()
def test_sample_hook_service_never_fails_with_a_server_error(case: schemathesis.Case[Any], fuzz_url: str) -> None:
    response = case.call(base_url=fuzz_url)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        assert "error" in response.json()
