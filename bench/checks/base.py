"""Findings, evidence and context handed to checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from bench.validation.packs import ValidationPack
from simulators.common.journal import EvidenceFile, Exchange, read_part
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

T = TypeVar("T")
Outcome = Literal["pass", "fail", "error", "skip", "omit"]


@dataclass(frozen=True)
class Finding:
    """One verdict of one check on one piece of evidence, with a message a vendor can act on."""

    check_id: str
    requirements: tuple[str, ...]
    outcome: Outcome
    message: str
    exchange_id: str | None = None
    pointer: str | None = None


@dataclass(frozen=True)
class PatientKeys:
    """How exchanges about one scenario patient are recognised (routing keys), and who INSi says they are."""

    ref: str
    keys: frozenset[str]


@dataclass
class Evidence:
    """The exchanges a check may look at (a scenario's so far), with lazy access to their raw bytes."""

    run_dir: Path
    exchanges: list[Exchange]
    _cache: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    _trees: dict[tuple[str, str], Any] = field(default_factory=dict)
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict)

    def memo(self, exchange: Exchange, name: str, build: Callable[[], T]) -> T:
        """What ``build`` derives from an exchange, computed once per evidence (several checks read the same
        message; none may modify what it gets)."""
        key = (exchange.id, name)
        if key not in self._memo:
            self._memo[key] = build()
        result: T = self._memo[key]
        return result

    def part(self, exchange: Exchange, part: str) -> bytes | None:
        key = (exchange.id, part)
        if key not in self._cache:
            self._cache[key] = read_part(self.run_dir, exchange, part)
        return self._cache[key]

    def path(self, exchange: Exchange, part: str) -> Path | None:
        """Where the part's raw bytes are on disk (for tools that read files themselves)."""
        ref = exchange.files.get(part)
        return self.run_dir / ref.name if ref else None

    def xml(self, exchange: Exchange, part: str) -> Any:
        """The part parsed with the hardened parser, once per evidence (checks must not modify it).
        Raises UnsafeXmlError when the part is absent or not acceptable XML."""
        key = (exchange.id, part)
        if key not in self._trees:
            data = self.part(exchange, part)
            if data is None:
                raise UnsafeXmlError(f"aucune partie {part!r} dans l'échange {exchange.id}")
            try:
                self._trees[key] = parse_xml(data)
            except UnsafeXmlError as exc:
                self._trees[key] = exc
        tree = self._trees[key]
        if isinstance(tree, UnsafeXmlError):
            raise tree
        return tree

    def json(self, exchange: Exchange, part: str) -> Any:
        data = self.part(exchange, part)
        return json.loads(data) if data is not None else None

    def select(
        self,
        *,
        channel: str | None = None,
        transactions: tuple[str, ...] = (),
        keys: frozenset[str] | None = None,
        before_seq: int | None = None,
    ) -> list[Exchange]:
        return [
            x
            for x in self.exchanges
            if (channel is None or x.channel == channel)
            and (not transactions or x.transaction in transactions)
            and (keys is None or keys.intersection(x.subjects))
            and (before_seq is None or x.seq < before_seq)
        ]


def document_evidence(folder: Path, name: str) -> tuple[Evidence, Exchange]:
    """Evidence for a standalone document file (``folder/name``), for checks run outside a campaign."""
    data = (folder / name).read_bytes()
    exchange = Exchange(
        id=name,
        seq=1,
        time="",
        channel="file",
        transaction="file.document",
        peer={},
        subjects=[],
        outcome=None,
        files={"document": EvidenceFile(name, hashlib.sha256(data).hexdigest(), len(data), "application/xml")},
    )
    evidence = Evidence(folder, [exchange])
    evidence._cache[(exchange.id, "document")] = data  # read once: hashed above, judged from the same bytes
    return evidence, exchange


@dataclass(frozen=True)
class CheckContext:
    """What a check knows beyond the evidence: the patient in focus, the exchange an expectation matched,
    whether the run uses test data (production OIDs are then a finding), and the CI-SIS validation pack if any."""

    patient: PatientKeys | None = None
    focus: Exchange | None = None
    test_mode: bool = True
    pack: ValidationPack | None = None
    schematron: str | None = None  # volet schematron forced by the user (file stem), instead of the one picked
    # Judged on its own (``check``, a field capture): no campaign, so no INSi answer to judge the exchange against.
    alone: bool = False
