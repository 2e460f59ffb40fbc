"""Find and read CI-SIS validation packs: folders laid out like ANS's public CDA content-testing repository
(``infrastructure/cda/CDA_extended.xsd``, ``schematrons/``, ``jeuxDeValeurs/`` as IHE SVS files).

The bench never ships a pack: it reads one from ``$SEGUR_BENCH_PACKS`` (paths separated by ``os.pathsep``), from
``--pack``, or from ``$SEGUR_BENCH_HOME/packs/<name>``. Compiled schemas and parsed value sets are kept once per
process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bench.paths import state_dir
from simulators.common.xmlsafe import parse_xml

CDA_SCHEMA = Path("infrastructure/cda/CDA_extended.xsd")
VALUE_SETS = Path("jeuxDeValeurs")
SCHEMATRONS = Path("schematrons")
SVS = "urn:ihe:iti:svs:2008"


@dataclass(frozen=True)
class ValueSet:
    """One value set (jeu de valeurs): its OID, its version date, and its (code, code system) pairs."""

    name: str
    oid: str
    revised: str
    concepts: frozenset[tuple[str, str]]

    def __contains__(self, item: object) -> bool:
        return item in self.concepts


@dataclass(frozen=True)
class ValidationPack:
    root: Path

    def __post_init__(self) -> None:
        # Absolute: schematron includes and cached stylesheets refer to the pack by file URI.
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def name(self) -> str:
        return self.root.name

    def digest(self) -> str:
        """SHA-256 over every file of the pack (relative path and content digest, in path order): the report names
        exactly which pack judged the documents."""
        return _pack_digest(str(self.root))

    def has_cda_schema(self) -> bool:
        return (self.root / CDA_SCHEMA).is_file()

    def cda_schema(self) -> Any:
        """The compiled CDA R2 schema with French extensions (compiled once per process)."""
        return _compiled_schema(str((self.root / CDA_SCHEMA).resolve()))

    def schematron_dir(self) -> Path | None:
        path = self.root / SCHEMATRONS
        return path if path.is_dir() else None

    def value_set(self, name: str) -> ValueSet | None:
        """The value set ``name`` (file stem, e.g. ``JDV_J07_XdsTypeCode_CISIS``), or None if the pack lacks it."""
        path = self.root / VALUE_SETS / f"{name}.xml"
        if not path.is_file():
            return None
        return _value_set(str(path.resolve()))


@functools.lru_cache(maxsize=8)
def _pack_digest(root: str) -> str:
    total = hashlib.sha256()
    base = Path(root)
    for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")):
        total.update(path.relative_to(base).as_posix().encode() + b"\0")
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def is_pack(path: Path) -> bool:
    return any((path / part).exists() for part in (CDA_SCHEMA, VALUE_SETS, SCHEMATRONS))


def find_packs(extra: list[Path] | None = None) -> list[ValidationPack]:
    """Packs named explicitly first, then ``$SEGUR_BENCH_PACKS``, then the per-user pack folder."""
    candidates: list[Path] = list(extra or [])
    candidates += [Path(p) for p in os.environ.get("SEGUR_BENCH_PACKS", "").split(os.pathsep) if p]
    user = state_dir() / "packs"
    if user.is_dir():
        candidates += sorted(p for p in user.iterdir() if p.is_dir())
    return [ValidationPack(p) for p in candidates if is_pack(p)]


@functools.lru_cache(maxsize=8)
def _compiled_schema(path: str) -> Any:
    return etree.XMLSchema(etree.parse(path, parser=etree.XMLParser(no_network=True, resolve_entities=False)))


@functools.lru_cache(maxsize=256)
def _value_set(path: str) -> ValueSet:
    root = parse_xml(Path(path).read_bytes())
    value_set = root.find(f"{{{SVS}}}ValueSet")
    if value_set is None:
        raise ValueError(f"{path} n'est pas un jeu de valeurs IHE SVS")
    concepts = frozenset((c.get("code", ""), c.get("codeSystem", "")) for c in value_set.iter(f"{{{SVS}}}Concept"))
    return ValueSet(
        name=Path(path).stem,
        oid=value_set.get("id", ""),
        revised=value_set.get("revisionDate", ""),
        concepts=concepts,
    )
