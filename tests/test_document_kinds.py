"""Document kinds are one list: the builder, the candidate API (models and OpenAPI enums) and the operator read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import yaml

from bench.candidates.api.models import ApiDocumentRequest
from bench.catalogue.loader import Catalogue
from bench.fixtures.kinds import DOCUMENT_KINDS

API = Path(__file__).parents[1] / "bench" / "candidates" / "api" / "candidate-api.yaml"


def _enums(node: Any) -> list[list[str]]:
    if isinstance(node, dict):
        found = [node["enum"]] if isinstance(node.get("enum"), list) else []
        return found + [e for value in node.values() for e in _enums(value)]
    if isinstance(node, list):
        return [e for value in node for e in _enums(value)]
    return []


def test_the_openapi_document_kind_enums_are_the_list() -> None:
    kinds = [e for e in _enums(yaml.safe_load(API.read_text(encoding="utf-8"))) if "consultation-report" in e]
    assert kinds, "no document kind enum in the candidate API"
    for enum in kinds:
        assert enum == list(DOCUMENT_KINDS)


def test_the_api_model_accepts_exactly_the_list() -> None:
    annotation = ApiDocumentRequest.model_fields["kind"].annotation
    assert list(get_args(annotation)) == list(DOCUMENT_KINDS)


def test_every_kind_names_known_profiles_and_each_profile_produces_one(catalogue: Catalogue) -> None:
    for kind in DOCUMENT_KINDS.values():
        assert kind.profiles and set(kind.profiles) <= set(catalogue.profiles), kind
    for profile in catalogue.profiles:
        assert any(profile in kind.profiles for kind in DOCUMENT_KINDS.values()), profile
