"""The domain registry refuses what would make verdicts ambiguous, and loads the bench's own domains by default."""

from __future__ import annotations

import dataclasses

import pytest

from bench.actions.registry import all_actions
from bench.checks.registry import all_checks
from bench.domains import registry as domains
from bench.domains.base import Channel
from tests.toy_domain import DOMAIN as TOY


def test_the_bench_domains_load_by_default() -> None:
    assert {"ins", "dmp", "mss", "cda", "sec", "gen"} <= set(domains.load())
    assert domains.channel_of("dmp-untrusted") == Channel(
        "dmp-untrusted", "http", untrusted=True, before_tls=("dmp.tls_refused",)
    )
    assert domains.domain_of_transaction("mss.smtp.message").name == "mss"  # type: ignore[union-attr]
    assert domains.domain_of_requirement("CDA-003").name == "cda"  # type: ignore[union-attr]


def test_a_channel_declared_twice_or_a_domain_twice_is_refused() -> None:
    with pytest.raises(domains.DomainError, match="canal 'dmp'"):
        domains.register(dataclasses.replace(TOY, name="thief", channels=(Channel("dmp", "http"),)))
    with pytest.raises(domains.DomainError, match="déclaré deux fois"):
        domains.register(dataclasses.replace(domains.load()["ins"], label="autre"))
    assert "thief" not in domains.load()


def test_a_domain_whose_module_fails_to_import_is_not_left_half_registered() -> None:
    broken = dataclasses.replace(TOY, name="broken", channels=(), modules=("tests.toy_domain.plugin", "no.such.module"))
    with pytest.raises(ModuleNotFoundError):
        domains.register(broken)
    assert "broken" not in domains.load()
    assert "toy.said_ping" not in all_checks() and "ping_toy" not in all_actions()


def test_a_declaration_module_without_domain_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(domains.ENV_VARIABLE, "tests.toy_domain.simulator")
    with pytest.raises(domains.DomainError, match="ne déclare pas de DOMAIN"):
        domains.load()


def test_a_domain_named_in_the_environment_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(domains.ENV_VARIABLE, "tests.toy_domain")
    try:
        assert "toy" in domains.load() and "toy.said_ping" in all_checks()
    finally:
        domains.unregister("toy")
    monkeypatch.delenv(domains.ENV_VARIABLE)
    assert "toy" not in domains.load() and "toy.said_ping" not in all_checks()
    assert "ping_toy" not in all_actions()
