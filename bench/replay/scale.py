"""Replay of large field captures: the bundle is streamed (one HAR file, one document at a time), exchanges are
judged in chunks on a process pool or a Dask cluster, and only counts and the first failures are kept, so memory
stays flat whatever the bundle size. The bundle itself remains the evidence."""

from __future__ import annotations

import base64
import json
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bench.actions.core import CORE_VIEWS
from bench.checks.base import CheckContext, Evidence, Finding
from bench.checks.registry import standalone_checks
from bench.domains import registry as domains
from bench.replay.identify import identify, refused
from bench.replay.importer import MAX_ITEM_BYTES, STREAMED_LIMITS
from bench.replay.pseudonymise import Pseudonymiser
from bench.runner.judge import run_check
from simulators.common.archives import read_members, shown_name
from simulators.common.journal import EvidenceFile, Exchange

DOCUMENT_VIEW = CORE_VIEWS[0]  # field captures carry the software's CDA documents as files
Engine = Literal["local", "process", "dask"]
CHUNK = 500
KEEP_FAILURES = 1000

# One captured exchange, small and picklable: (id, transaction, {part: (bytes, media type)}).
Item = tuple[str, str, dict[str, tuple[bytes, str]]]


class MemoryEvidence(Evidence):
    """Evidence whose parts are in memory (a streamed capture), not in a run directory."""

    def __init__(self, exchanges: list[Exchange], parts: dict[tuple[str, str], bytes]) -> None:
        super().__init__(Path("."), exchanges)
        self._parts = parts

    def part(self, exchange: Exchange, part: str) -> bytes | None:
        return self._parts.get((exchange.id, part))


@dataclass
class ChunkResult:
    exchanges: int = 0
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (requirement, check, outcome)
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)  # (exchange, check, outcome, message)


@dataclass
class ScaleResult:
    exchanges: int
    seconds: float
    counts: Counter[tuple[str, str, str]]
    failures: list[tuple[str, str, str, str]]
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.exchanges / self.seconds if self.seconds else 0.0


def _text(holder: dict[str, Any]) -> bytes:
    text = holder.get("text") or ""
    return base64.b64decode(text) if holder.get("encoding") == "base64" else str(text).encode("utf-8")


def _members(bundle: Path) -> Iterator[tuple[str, Callable[[], bytes] | None, str | None]]:
    """(name, reader, problem) triples, read lazily one at a time; a member not to be read has no reader but a
    reason (a symlink, a bomb, a dangerous name...)."""
    if bundle.is_dir():
        for path in sorted(bundle.rglob("*")):
            name = path.relative_to(bundle).as_posix()
            if path.is_symlink() or (path.exists() and not path.is_dir() and not path.is_file()):
                yield name, None, "lien symbolique ou fichier spécial, non suivi"
            elif path.is_file():
                too_big = path.stat().st_size > MAX_ITEM_BYTES
                yield name, None if too_big else path.read_bytes, "au-delà de la taille lue" if too_big else None
        return
    with zipfile.ZipFile(bundle) as archive:
        for member in read_members(archive, STREAMED_LIMITS):
            yield member.name, None if member.data is None else _constant_reader(member.data), member.problem


def _constant_reader(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def stream_items(bundle: Path, problems: list[str], shown: Callable[[str], str] = lambda name: name) -> Iterator[Item]:
    """Every exchange of a bundle, streamed; damaged members are reported in ``problems`` (each file named as
    ``shown`` gives it: pseudonymised replays never print a capture's own file names) and skipped."""
    for name, read, problem in _members(bundle):
        if read is None or problem is not None:
            problems.append(f"{shown(shown_name(name)) or 'archive'} : {problem}, élément ignoré")
            continue
        if name.endswith(".har"):
            try:
                entries = json.loads(read())["log"]["entries"]
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"{shown(name)} illisible : {exc}")
                continue
            for index, entry in enumerate(entries):
                try:
                    meta = entry.get("_segurBench") or {}
                    posted = entry["request"].get("postData") or {}
                    answered = entry["response"].get("content") or {}
                    request, response = _text(posted), _text(answered)
                    request_type = str(posted.get("mimeType") or "application/octet-stream")
                    response_type = str(answered.get("mimeType") or "application/octet-stream")
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    problems.append(f"{shown(name)}, entrée {index} illisible : {exc}")
                    continue
                yield (
                    f"{name}#{index}",
                    identify(
                        request,
                        request_type,
                        meta.get("transaction"),
                        was_refused=refused(entry["response"].get("status"), response),
                        path=urlsplit(str(entry["request"].get("url") or "")).path,
                    ),
                    {"request": (request, request_type), "response": (response, response_type)},
                )
        elif name.startswith(DOCUMENT_VIEW.folder) and name.endswith(DOCUMENT_VIEW.suffix):
            yield name, DOCUMENT_VIEW.transaction, {DOCUMENT_VIEW.part: (read(), DOCUMENT_VIEW.media_type)}
        elif (capture := domains.capture_file(name)) is not None:
            yield name, capture.transaction, {capture.part: (read(), capture.media_type)}


def judge_chunk(
    items: list[Item], pack_root: str | None = None, key: bytes | None = None, test_mode: bool = False
) -> ChunkResult:
    """Judge a chunk of exchanges, each on its own with the checks that apply to it alone (runs in a worker
    process). Judging reads the captured bytes as they are (signatures and hashes only hold for those); with
    ``key``, the findings kept are then pseudonymised, consistently under that key."""
    from bench.validation.packs import ValidationPack

    pack = ValidationPack(Path(pack_root)) if pack_root else None
    pseudonymiser = Pseudonymiser(key) if key is not None else None
    standalone = standalone_checks()
    result = ChunkResult()
    for identifier, transaction, data in items:
        files = {
            part: EvidenceFile(f"{identifier}.{part}", "", len(content), media_type)
            for part, (content, media_type) in data.items()
        }
        exchange = Exchange(
            id=identifier,
            seq=1,
            time="",
            channel=transaction.split(".")[0],
            transaction=transaction,
            peer={},
            subjects=[],
            outcome=None,
            files=files,
        )
        evidence = MemoryEvidence([exchange], {(identifier, part): content for part, (content, _t) in data.items()})
        result.exchanges += 1
        context = CheckContext(focus=exchange, pack=pack, test_mode=test_mode, alone=True)
        findings: list[Finding] = []
        for check_id in standalone.get(exchange.transaction, ()):
            findings += run_check(check_id, evidence, context)
        for finding in findings:
            for requirement in finding.requirements:
                result.counts[(requirement, finding.check_id, finding.outcome)] += 1
            if finding.outcome in ("fail", "error") and len(result.failures) < KEEP_FAILURES:
                message = str(pseudonymiser.text(finding.message)) if pseudonymiser else finding.message
                shown = pseudonymiser.file_name(exchange.id) if pseudonymiser else exchange.id
                result.failures.append((shown, finding.check_id, finding.outcome, message))
    return result


def _chunks(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def replay_capture(
    bundle: Path,
    *,
    engine: Engine = "local",
    scheduler: str | None = None,
    workers: int = 2,
    pack_root: str | None = None,
    chunk_size: int = CHUNK,
    key: bytes | None = None,
    test_mode: bool = False,
) -> ScaleResult:
    """Judge every exchange of a (large) field capture; at most ``2 * workers`` chunks are in flight at once.
    ``test_mode``: the capture comes from a test environment (field captures are production ones by default)."""
    problems: list[str] = []
    total = ChunkResult()
    clock = time.perf_counter()
    shown = Pseudonymiser(key).file_name if key is not None else (lambda name: name)
    chunks = _chunks(stream_items(bundle, problems, shown), chunk_size)

    def merge(part: ChunkResult) -> None:
        total.exchanges += part.exchanges
        total.counts.update(part.counts)
        room = KEEP_FAILURES - len(total.failures)
        total.failures.extend(part.failures[:room])

    if engine == "local":
        for chunk in chunks:
            merge(judge_chunk(chunk, pack_root, key, test_mode))
    elif engine == "process":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            _bounded(pool.submit, chunks, (pack_root, key, test_mode), 2 * workers, merge)
    else:
        from distributed import Client

        if not scheduler:
            raise ValueError("--engine dask demande --scheduler ADRESSE (tcp://hôte:port)")
        with Client(scheduler) as client:

            def submit(function: Callable[..., ChunkResult], chunk: list[Item], *options: Any) -> Any:
                # The chunk goes straight to a worker; the task names it by key. Passed as an argument, it would
                # travel inside the task graph, which the scheduler keeps in its history of computations: memory
                # then grew with the capture (762 MiB at 500,000 exchanges).
                (data,) = client.scatter([chunk], direct=True, hash=False)  # one key for the chunk, not one per item
                return client.submit(function, data, *options, pure=False)

            _bounded(submit, chunks, (pack_root, key, test_mode), 2 * workers, merge)
    return ScaleResult(total.exchanges, time.perf_counter() - clock, total.counts, total.failures, problems)


def _bounded(
    submit: Any,
    chunks: Iterator[list[Item]],
    options: tuple[str | None, bytes | None, bool],
    in_flight: int,
    merge: Any,
) -> None:
    """Submit chunks with at most ``in_flight`` pending, merging results in completion order."""
    pending: list[Any] = []
    for chunk in chunks:
        pending.append(submit(judge_chunk, chunk, *options))
        if len(pending) >= in_flight:
            merge(pending.pop(0).result())
    for future in pending:
        merge(future.result())


def scale_result_to_run(scale: ScaleResult, catalogue: Any, profile: str, run_id: str) -> Any:
    """A run result for the usual reports: one finding per (requirement, check, outcome) group with its count, and
    the first failures one by one, in a single CAPTURE section."""
    import datetime as dt

    from bench.runner.results import FindingResult, ScenarioResult, StepResult
    from bench.runner.rollup import build_result
    from bench.runner.verdicts import combine

    summary = [
        FindingResult(
            id=f"CAPTURE/summary/{n + 1}",
            check_id=check,
            requirements=[requirement],
            outcome=outcome,
            message=f"{count} constat(s) « {outcome} » sur {scale.exchanges} échanges",
        )
        for n, ((requirement, check, outcome), count) in enumerate(sorted(scale.counts.items()))
    ]
    failures = [
        FindingResult(
            id=f"CAPTURE/failures/{n + 1}",
            check_id=check,
            requirements=[],
            outcome=outcome,
            message=message,
            exchange_id=exchange,
        )
        for n, (exchange, check, outcome, message) in enumerate(scale.failures)
    ]
    steps = [
        StepResult(
            id="summary",
            title=f"{scale.exchanges} échanges jugés",
            action="capture",
            outcome=combine(f.outcome for f in summary) if summary else "omit",
            findings=summary,
        ),
        StepResult(
            id="failures",
            title=f"{len(failures)} premiers échecs",
            action="capture",
            outcome=combine(f.outcome for f in failures) if failures else "omit",
            findings=failures,
        ),
    ]
    scenario = ScenarioResult(
        id="CAPTURE",
        title="Échanges capturés",
        requirements=sorted({r for r, _c, _o in scale.counts}),
        outcome=combine(s.outcome for s in steps),
        duration_s=round(scale.seconds, 3),
        steps=steps,
    )
    now = dt.datetime.now(dt.UTC)
    return build_result(catalogue, profile, "capture", [], run_id, [scenario], [], "", now, now, scale.seconds)
