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
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bench.actions.core import CANDIDATE
from bench.domains import registry as domains
from bench.replay.bundle import sidecar_folder
from bench.replay.identify import UNKNOWN, identify
from simulators.common.journal import Exchange, Journal

MAX_ITEM_BYTES = 64 * 1024 * 1024


@dataclass
class ImportReport:
    exchanges: list[Exchange] = field(default_factory=list)
    original_ids: dict[str, str] = field(default_factory=dict)  # bundle exchange id -> journal exchange id
    problems: list[str] = field(default_factory=list)
    run_files: dict[str, bytes] = field(default_factory=dict)
    altered: list[str] = field(default_factory=list)  # files that are not what the bundle's manifest vouches for


MANIFEST = "manifest.yaml"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


def manifest_problems(items: dict[str, bytes]) -> list[str]:
    """Files of the bundle that differ from, are missing from, or are not listed in its manifest's SHA-256 digests.
    A bundle without manifest (a field capture) has nothing to check against."""
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in items.items() if name != MANIFEST}
    return _compare(items.get(MANIFEST), digests)


def bundle_manifest_problems(bundle: Path) -> list[str]:
    """The same check, streaming the bundle file by file (large field captures)."""
    manifest: bytes | None = None
    digests: dict[str, str] = {}
    for name, data in _items(bundle):
        if name == MANIFEST:
            manifest = data
        else:
            digests[name] = hashlib.sha256(data).hexdigest()
    return _compare(manifest, digests)


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


def _items(bundle: Path) -> Iterator[tuple[str, bytes]]:
    if bundle.is_dir():
        for path in sorted(bundle.rglob("*")):
            if path.is_symlink() or (path.exists() and not path.is_file() and not path.is_dir()):
                yield path.relative_to(bundle).as_posix(), b""  # never followed: reported below, and unvouched for
            elif path.is_file():
                if path.stat().st_size > MAX_ITEM_BYTES:
                    yield path.relative_to(bundle).as_posix(), b""
                    continue
                yield path.relative_to(bundle).as_posix(), path.read_bytes()
        return
    with zipfile.ZipFile(bundle) as archive:
        for member in archive.infolist():
            name = PurePosixPath(member.filename)
            if member.is_dir():
                continue
            if name.is_absolute() or ".." in name.parts:
                yield member.filename, b""  # reported as dangerous below
                continue
            if member.file_size > MAX_ITEM_BYTES:
                yield member.filename, b""
                continue
            yield member.filename, archive.read(member)


def _text(holder: dict[str, Any]) -> bytes:
    text = holder.get("text") or ""
    return base64.b64decode(text) if holder.get("encoding") == "base64" else str(text).encode("utf-8")


def import_bundle(bundle: Path, journal: Journal) -> ImportReport:
    """Record every exchange of ``bundle`` into ``journal``, in capture order."""
    report = ImportReport()
    items = dict(_items(bundle))
    report.altered = manifest_problems(items)
    if bundle.is_dir():
        for path in sorted(p for p in bundle.rglob("*") if p.is_symlink()):
            report.problems.append(f"{path.relative_to(bundle).as_posix()} : lien symbolique, non suivi")
    for name in items:
        if ".." in PurePosixPath(name).parts or PurePosixPath(name).is_absolute():
            report.problems.append(f"{name} : chemin dangereux, élément ignoré")
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
        transaction = identify(request, request_type, meta.get("transaction"))
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
