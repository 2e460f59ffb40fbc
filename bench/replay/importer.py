"""Read a capture bundle (folder or zip) into an evidence journal: HAR entries become SOAP exchanges identified by
their body (INSi search or verify...), CDA files become documents, bench record extensions become records.
Damaged items are reported one by one and never stop the import of the rest."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bench import signing
from bench.actions.core import CANDIDATE
from bench.domains import registry as domains
from bench.replay.bundle import MANIFEST, MANIFEST_SIGNATURE, sidecar_folder
from bench.replay.identify import UNKNOWN, identify, refused
from simulators.common.archives import ZipLimits, read_members, shown_name
from simulators.common.journal import Exchange, Journal

MAX_ITEM_BYTES = 64 * 1024 * 1024
# Streaming only digests each file (the manifest check of a large field capture): no total, but bombs are refused.
STREAMED_LIMITS = ZipLimits(
    max_members=10_000_000, max_member_bytes=MAX_ITEM_BYTES, max_total_bytes=1 << 62, max_ratio=200
)


@dataclass
class ImportReport:
    exchanges: list[Exchange] = field(default_factory=list)
    original_ids: dict[str, str] = field(default_factory=dict)  # bundle exchange id -> journal exchange id
    problems: list[str] = field(default_factory=list)
    run_files: dict[str, bytes] = field(default_factory=dict)
    altered: list[str] = field(default_factory=list)  # files that are not what the bundle's manifest vouches for
    signer: str | None = None  # fingerprint of the manifest's signer, UNSIGNED, or None (no manifest)


MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
UNSIGNED = "non signé"


def manifest_problems(items: dict[str, bytes]) -> list[str]:
    """Files of the bundle that differ from, are missing from, or are not listed in its manifest's SHA-256 digests.
    A bundle without manifest (a field capture) has nothing to check against."""
    digests = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in items.items()
        if name not in (MANIFEST, MANIFEST_SIGNATURE)
    }
    return _compare(items.get(MANIFEST), digests)


def bundle_manifest_problems(bundle: Path) -> tuple[list[str], str | None]:
    """The same check, streaming the bundle file by file (large field captures), with the manifest's signature:
    (problems, signer's fingerprint or UNSIGNED; None without manifest)."""
    manifest: bytes | None = None
    signature: bytes | None = None
    digests: dict[str, str] = {}
    for name, data, _problem in _items(bundle, STREAMED_LIMITS):
        if name == MANIFEST:
            manifest = data
        elif name == MANIFEST_SIGNATURE:
            signature = data
        else:
            digests[name] = hashlib.sha256(data).hexdigest()
    signer, problems = manifest_signer(manifest, signature)
    return problems + _compare(manifest, digests), signer


def manifest_signer(manifest: bytes | None, signature: bytes | None) -> tuple[str | None, list[str]]:
    """Who signed the manifest: a fingerprint, UNSIGNED for a manifest without signature (said, not refused: bundles
    made by hand or by other tools), None for a bundle without manifest; an invalid signature is a problem."""
    if manifest is None:
        return None, [f"{MANIFEST_SIGNATURE} sans {MANIFEST}"] if signature is not None else []
    if signature is None:
        return UNSIGNED, []
    try:
        record = json.loads(signature) if len(signature) < 64 * 1024 else None
    except (ValueError, RecursionError):
        record = None
    signer, problem = signing.verify(manifest, record)
    return signer, [f"{MANIFEST_SIGNATURE} : {problem}"] if problem else []


def _compare(manifest: bytes | None, digests: dict[str, str]) -> list[str]:
    if manifest is None:
        return []
    if len(manifest) > MAX_MANIFEST_BYTES:
        return [f"{MANIFEST} : plus de {MAX_MANIFEST_BYTES} octets"]
    try:
        files = (yaml.safe_load(manifest) or {}).get("files") or {}
    except (yaml.YAMLError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return [f"{MANIFEST} illisible : {exc}"]
    # Only names and hex digests: anything else (aliases, nested values) is refused before it is turned into text.
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v) for k, v in files.items()
    ):
        return [f"{MANIFEST} : la liste des fichiers doit associer des noms à des SHA-256 hexadécimaux"]
    listed: dict[str, str] = files
    problems = []
    for name, digest in sorted(listed.items()):
        if name not in digests:
            problems.append(f"{name} : listé au manifeste mais absent du lot")
        elif digests[name] != digest:
            problems.append(f"{name} : SHA-256 différent de celui du manifeste (fichier modifié après l'export)")
    problems += [f"{name} : absent du manifeste (ajouté après l'export)" for name in sorted(set(digests) - set(listed))]
    return problems


# A bundle is read whole into memory for a run's replay: what it may inflate to is bounded (zip or folder).
BUNDLE_LIMITS = ZipLimits(
    max_members=100_000, max_member_bytes=MAX_ITEM_BYTES, max_total_bytes=256 * 1024 * 1024, max_ratio=200
)


def _items(bundle: Path, limits: ZipLimits = BUNDLE_LIMITS) -> Iterator[tuple[str, bytes, str | None]]:
    """(name, bytes, problem) of every file of the bundle; a file not read (a symlink, beyond the limits, a dangerous
    name) comes with empty bytes and the reason, so that the manifest check sees it too."""
    if bundle.is_dir():
        spent = 0
        for path in sorted(bundle.rglob("*")):
            name = path.relative_to(bundle).as_posix()
            if path.is_symlink() or (path.exists() and not path.is_file() and not path.is_dir()):
                yield name, b"", "lien symbolique ou fichier spécial, non suivi"
            elif path.is_file():
                size = path.stat().st_size
                spent += size
                if size > limits.max_member_bytes or spent > limits.max_total_bytes:
                    yield name, b"", f"au-delà des limites de lecture ({size} octets ; {spent} en tout)"
                    continue
                yield name, path.read_bytes(), None
        return
    with zipfile.ZipFile(bundle) as archive:
        for member in read_members(archive, limits):
            yield member.name, member.data or b"", member.problem


def _text(holder: dict[str, Any]) -> bytes:
    text = holder.get("text") or ""
    return base64.b64decode(text) if holder.get("encoding") == "base64" else str(text).encode("utf-8")


def import_bundle(bundle: Path, journal: Journal) -> ImportReport:
    """Record every exchange of ``bundle`` into ``journal``, in capture order."""
    report = ImportReport()
    items: dict[str, bytes] = {}
    for name, data, problem in _items(bundle):
        items[name] = data
        if problem:
            report.problems.append(f"{shown_name(name) or 'archive'} : {problem}")
    report.signer, report.altered = manifest_signer(items.get(MANIFEST), items.get(MANIFEST_SIGNATURE))
    report.altered += manifest_problems(items)
    har = items.get("exchanges.har")
    entries: list[Any] = []
    if har is not None:
        try:
            entries = json.loads(har)["log"]["entries"]
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"exchanges.har illisible : {exc}")
    timeline: list[tuple[str, str, Any]] = []  # (time, kind, payload) to replay in capture order
    for index, entry in enumerate(entries):
        try:
            timeline.append((str(entry["startedDateTime"]), "http", entry))
        except (KeyError, TypeError):
            report.problems.append(f"exchanges.har, entrée {index} : incomplète, ignorée")
    views = domains.candidate_views()
    extensions = {view.folder: transaction for transaction, view in views.items()}
    folders = tuple(
        sidecar_folder(d.name) for d in domains.load().values() if any(c.kind == "mail" for c in d.channels)
    )
    sidecars = {name.split("/")[-1] for name in items if name.startswith(folders) and name.endswith(".json")}
    for name, data in items.items():
        for prefix, transaction in extensions.items():
            if name.startswith(prefix) and data:
                timeline.append((name.split("/")[-1], transaction, (name, data)))
        if name.startswith(folders) and name.endswith(".json") and data:
            timeline.append((name.split("/")[-1], "mail", (name, data, items)))
        elif (
            (capture := domains.capture_file(name)) is not None
            and data
            and name.split("/")[-1].rsplit(".", 1)[0] + ".json" not in sidecars
        ):
            timeline.append((name.split("/")[-1], "capture", (name, data, capture)))  # a field capture: bytes only
        if name.startswith("run/"):
            report.run_files[name] = data

    # Exchange ids start with a zero-padded sequence number: sorting by it restores the capture order.
    def order(item: tuple[str, str, Any]) -> str:
        if item[1] == "http":
            meta = item[2].get("_segurBench") or {}
            return str(meta.get("exchange") or item[0])
        return item[0]

    for _key, kind, payload in sorted(timeline, key=order):
        try:
            _record(kind, payload, journal, report)
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"élément {kind} illisible : {exc}")
    report.exchanges = journal.exchanges
    return report


def _record(kind: str, payload: Any, journal: Journal, report: ImportReport) -> None:
    if kind == "http":
        meta = payload.get("_segurBench") or {}
        request = _text(payload["request"].get("postData") or {})
        response = _text(payload["response"].get("content") or {})
        request_type = (payload["request"].get("postData") or {}).get("mimeType", "application/octet-stream")
        status = payload["response"].get("status")
        path = urlsplit(str(payload["request"].get("url") or "")).path
        transaction = identify(
            request, request_type, meta.get("transaction"), was_refused=refused(status, response), path=path
        )
        if meta.get("transaction") and meta["transaction"] != transaction:
            report.problems.append(
                f"{meta.get('exchange') or 'entrée HAR'} : étiquette {meta['transaction']!r} contredite par les octets "
                f"({transaction}) : les octets font foi"
            )
        channel = _http_channel(meta.get("channel"), transaction, report)
        response_type = (payload["response"].get("content") or {}).get("mimeType", "application/octet-stream")
        exchange = journal.record(
            channel,
            transaction,
            {"request": (request, request_type), "response": (response, response_type)},
            subjects=list(meta.get("subjects") or []),
            outcome=str(meta["outcome"]) if meta.get("outcome") else None,
            peer=dict(meta.get("peer") or {}),
            meta={
                **dict(meta.get("meta") or {}),
                "http_status": payload["response"].get("status"),
                "replayed_from": meta.get("exchange"),
            },
        )
        if meta.get("exchange"):
            report.original_ids[str(meta["exchange"])] = exchange.id
        return
    if kind == "mail":
        _record_mail(payload, journal, report)
        return
    if kind == "capture":
        name, data, capture = payload
        original = name.split("/")[-1].rsplit(".", 1)[0]
        owner = domains.domain_of_transaction(capture.transaction)
        channel = owner.channels[0].name if owner and owner.channels else "capture"
        parts = {capture.part: (data, capture.media_type)}
        exchange = journal.record(channel, capture.transaction, parts, meta={"replayed_from": original})
        report.original_ids[original] = exchange.id
        return
    name, data = payload
    original = name.split("/")[-1].rsplit(".", 1)[0]
    view = domains.candidate_views()[kind]
    subjects: list[str] = []
    if view.subject_field:
        answered = json.loads(data).get(view.subject_field)
        subjects = [f"patient:{answered}"] if answered else []
    exchange = journal.record(
        CANDIDATE, kind, {view.part: (data, view.media_type)}, subjects=subjects, meta={"replayed_from": original}
    )
    report.original_ids[original] = exchange.id


def _http_channel(claimed: Any, transaction: str, report: ImportReport) -> str:
    """The channel of a captured HTTP exchange: the one the bundle names, if a domain declares it as HTTP, else the
    channel of the domain that recognised the call. A channel no domain declares is said, never relabelled."""
    if claimed:
        channel = domains.channel_of(str(claimed))
        if channel is None or channel.kind != "http":
            report.problems.append(
                f"canal {claimed!r} inconnu (aucun domaine ne le déclare en HTTP) : échange importé tel quel, non jugé"
            )
        return str(claimed)
    owner = domains.domain_of_transaction(transaction) if transaction != UNKNOWN else None
    http = [c.name for c in owner.channels if c.kind == "http"] if owner else []
    return http[0] if http else "http"


def _record_mail(payload: tuple[str, bytes, dict[str, bytes]], journal: Journal, report: ImportReport) -> None:
    """An exchange of a mail channel from its JSON sidecar and the files it names (``.eml`` messages, transcripts)."""
    name, data, items = payload
    sidecar = json.loads(data)
    channel = str(sidecar.get("channel"))
    transaction = str(sidecar.get("transaction"))
    declared = domains.channel_of(channel)
    owner = domains.domain_of_transaction(transaction)
    if declared is None or declared.kind != "mail" or owner is None or declared not in owner.channels:
        raise ValueError(f"{name} : canal {channel!r} ou transaction {transaction!r} inconnus")
    parts: dict[str, tuple[bytes, str]] = {}
    for part, ref in dict(sidecar.get("parts") or {}).items():
        content = items.get(str(ref.get("file")))
        if content is None:
            raise ValueError(f"{name} : fichier {ref.get('file')!r} absent du lot")
        parts[str(part)] = (content, str(ref.get("media_type") or "application/octet-stream"))
    # The sidecar's label is input: the parts' bytes decide (see bench/replay/identify.py).
    found = owner.identify_mail(transaction, {k: v[0] for k, v in parts.items()}) if owner.identify_mail else None
    if found is None:
        raise ValueError(f"{name} : transaction {transaction!r} contredite par les octets de l'échange")
    if found != transaction:
        report.problems.append(
            f"{name} : étiquette {transaction!r} contredite par les octets ({found}) : les octets font foi"
        )
        transaction = found
    exchange = journal.record(
        channel,
        transaction,
        parts,
        subjects=list(sidecar.get("subjects") or []),
        outcome=str(sidecar["outcome"]) if sidecar.get("outcome") else None,
        peer=dict(sidecar.get("peer") or {}),
        meta={**dict(sidecar.get("meta") or {}), "replayed_from": sidecar.get("exchange")},
    )
    if sidecar.get("exchange"):
        report.original_ids[str(sidecar["exchange"])] = exchange.id
