"""The registered domains. The bench's own come from ``DEFAULT_DOMAINS`` (pytest's ``default_plugins``); an
installed package adds one through the ``segur_bench.domains`` entry point group, and ``$SEGUR_BENCH_DOMAINS``
(module names, comma-separated) adds local ones. Each module exposes ``DOMAIN``, a :class:`Domain`."""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from bench.domains.base import CaptureFile, Channel, Domain

DEFAULT_DOMAINS = (
    "bench.domains.ins",
    "bench.domains.dmp",
    "bench.domains.mss",
    "bench.domains.cda",
    "bench.domains.sec",
    "bench.domains.gen",
)
ENTRY_POINT_GROUP = "segur_bench.domains"
ENV_VARIABLE = "SEGUR_BENCH_DOMAINS"

_DOMAINS: dict[str, Domain] = {}


class DomainError(RuntimeError):
    """A domain declaration that cannot be loaded or clashes with another."""


def _module_names() -> list[str]:
    names = list(DEFAULT_DOMAINS)
    names += [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)]
    names += [n.strip() for n in os.environ.get(ENV_VARIABLE, "").split(",") if n.strip()]
    return list(dict.fromkeys(names))


def register(domain: Domain) -> Domain:
    """Add ``domain`` and import its modules (checks and actions register themselves)."""
    existing = _DOMAINS.get(domain.name)
    if existing is domain:
        return domain
    if existing is not None:
        raise DomainError(f"domaine {domain.name!r} déclaré deux fois")
    taken = {c.name: d.name for d in _DOMAINS.values() for c in d.channels}
    for channel in domain.channels:
        if channel.name in taken:
            raise DomainError(f"canal {channel.name!r} déclaré par {taken[channel.name]} et {domain.name}")
    _DOMAINS[domain.name] = domain
    for module in domain.modules:
        importlib.import_module(module)
    return domain


def load() -> dict[str, Domain]:
    """Every registered domain, loading them on first use."""
    for name in _module_names():
        module = importlib.import_module(name)
        domain = getattr(module, "DOMAIN", None)
        if not isinstance(domain, Domain):
            raise DomainError(f"le module {name} ne déclare pas de DOMAIN")
        register(domain)
    return dict(_DOMAINS)


def channels() -> dict[str, Channel]:
    """Every declared journal channel, by name."""
    return {c.name: c for d in load().values() for c in d.channels}


def channel_of(name: str) -> Channel | None:
    return channels().get(name)


def domain_of_requirement(requirement_id: str) -> Domain | None:
    prefix = requirement_id.split("-")[0]
    return next((d for d in load().values() if prefix in d.requirement_prefixes), None)


def domain_of_transaction(transaction: str) -> Domain | None:
    return next((d for d in load().values() if d.owns_transaction(transaction)), None)


def capture_file(name: str) -> CaptureFile | None:
    """What a domain makes of a captured file called ``name`` (by its ending), if any domain recognises it."""
    lowered = name.lower()
    return next((f for d in load().values() for f in d.capture_files if lowered.endswith(f.suffix)), None)
