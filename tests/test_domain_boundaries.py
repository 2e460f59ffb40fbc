"""Outside its homes, no module names a domain's channels, transactions or actions: the engine, replay, reports,
configuration and command line iterate over the registered domains. A domain's homes are ``bench/domains/<name>/``
and its simulator package ``simulators/<service>/``; ``bench/candidates/`` carries the candidate API's dedicated
operations for the actions that have one (a new domain's actions go through the generic ``perform``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bench.actions.registry import all_actions
from bench.checks.registry import all_checks
from bench.domains import registry as domains

ROOT = Path(__file__).parents[1]
PACKAGES = ("bench", "simulators", "reports")
HOMES = ("bench/domains/", "bench/candidates/")


def _is_home(relative: str) -> bool:
    if relative.startswith(HOMES) and not relative.startswith(("bench/domains/base.py", "bench/domains/registry.py")):
        return True
    parts = relative.split("/")
    return parts[0] == "simulators" and len(parts) > 2 and parts[1] != "common"


def _domain_names() -> set[str]:
    names = set(domains.channels())
    names |= {name for name, spec in all_actions().items() if spec.domain != "core"}
    prefixes = tuple(p for d in domains.load().values() for p in d.transaction_prefixes)
    alternatives = "|".join(re.escape(p) for p in prefixes)
    literal = re.compile(r"""["']((?:""" + alternatives + r""")[a-z0-9_.]+)["']""")
    for path in (ROOT / "simulators").rglob("*.py"):
        names |= set(literal.findall(path.read_text(encoding="utf-8")))  # what the simulators record
    for check in all_checks().values():
        names |= {t for t in check.applies_to if t.startswith(prefixes)}
    for spec in all_actions().values():
        names |= {t for t in (*spec.causes, spec.focus or "") if t.startswith(prefixes)}
    return names


def test_no_module_outside_its_domains_homes_names_their_channels_transactions_or_actions() -> None:
    names = _domain_names()
    assert {"insi", "dmp-untrusted", "mss", "dmp.iti41", "insi.search_traits", "consult_dmp"} <= names
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if _is_home(relative):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                    offenders.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not offenders, "\n".join(offenders)


def test_the_boundary_test_sees_a_domain_name_where_it_should_not_be(tmp_path: Path) -> None:
    tree = ast.parse('LABEL = "dmp.iti41"')
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in _domain_names()]
    assert found == ["dmp.iti41"]
