"""The registered domains. The bench's own come from ``DEFAULT_DOMAINS`` (pytest's ``default_plugins``); an
installed package adds one through the ``segur_bench.domains`` entry point group, and ``$SEGUR_BENCH_DOMAINS``
(module names, comma-separated) adds local ones. Each module exposes ``DOMAIN``, a :class:`Domain`."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points

from bench.domains.base import CandidateView, CaptureFile, Channel, DashboardCounter, Domain

DEFAULT_DOMAINS = (
    "bench.domains.ins",
    "bench.domains.dmp",
    "bench.domains.mss",
    "bench.domains.cda",
    "bench.domains.sec",
    "bench.domains.gen",
    "bench.domains.psc",
)
ENTRY_POINT_GROUP = "segur_bench.domains"
ENV_VARIABLE = "SEGUR_BENCH_DOMAINS"

_DOMAINS: dict[str, Domain] = {}
_LOADED: set[str] = set()  # declaration modules already read (load() runs in hot loops: it must stay cheap)
_SOURCES: dict[str, str] = {}  # declaration module -> domain name


class DomainError(RuntimeError):
    """A domain declaration that cannot be loaded or clashes with another."""


@functools.cache
def _installed() -> tuple[str, ...]:
    """Domains installed packages declare (scanned once: the scan is slow and installs do not change mid-run)."""
    return tuple(ep.value for ep in entry_points(group=ENTRY_POINT_GROUP))


def _module_names() -> list[str]:
    names = [*DEFAULT_DOMAINS, *_installed()]
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
    try:
        for module in domain.modules:
            importlib.import_module(module)
    except BaseException:
        unregister(domain.name)  # half a domain would judge with some of its checks missing
        raise
    return domain


def load() -> dict[str, Domain]:
    """Every registered domain, loading them on first use."""
    for name in _module_names():
        if name in _LOADED:
            continue
        module = importlib.import_module(name)
        domain = getattr(module, "DOMAIN", None)
        if not isinstance(domain, Domain):
            raise DomainError(f"le module {name} ne déclare pas de DOMAIN")
        register(domain)
        _LOADED.add(name)
        _SOURCES[name] = domain.name
    return dict(_DOMAINS)


def channels() -> dict[str, Channel]:
    """Every declared journal channel, by name."""
    return {c.name: c for d in load().values() for c in d.channels}


def domain_of_channel(name: str) -> Domain | None:
    return next((d for d in load().values() if any(c.name == name for c in d.channels)), None)


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


def unregister(name: str) -> None:
    """Remove domain ``name`` with the checks, actions and hooks its modules registered (tests add toy domains)."""
    from bench.actions import registry as actions
    from bench.checks import registry as checks

    domain = _DOMAINS.pop(name, None)
    if domain is None:
        return
    modules = set(domain.modules)
    checks.forget_modules(modules)
    actions.forget_modules(modules)
    for module in modules:
        sys.modules.pop(module, None)
    _LOADED.difference_update(m for m, d in _SOURCES.items() if d == name)


@contextmanager
def added(domain: Domain) -> Iterator[Domain]:
    """``domain`` registered for the time of a ``with`` block (a vendor's or a test's domain)."""
    register(domain)
    try:
        yield domain
    finally:
        unregister(domain.name)


def dashboard_counters() -> list[DashboardCounter]:
    """What the software's dashboard counts, every registered domain's counters in turn (GEN-003)."""
    return [c for d in load().values() for c in d.dashboard_counters]


def candidate_views() -> dict[str, CandidateView]:
    """Every view of the candidate channel by transaction: the core ones (documents, patient records) and the
    domains'."""
    from bench.actions.core import CORE_VIEWS

    views = list(CORE_VIEWS) + [v for d in load().values() for v in d.candidate_views]
    return {v.transaction: v for v in views}
