"""Capture bundles in standard formats (DESIGN.md): HTTP/SOAP exchanges as a HAR 1.2 file, documents as CDA
``.xml`` files, messages as ``.eml``, plus ``manifest.yaml``; in a folder or a zip. Any run's journal exports as
one, with the SHA-256 of every file in the manifest."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench import __version__, signing
from bench.domains import registry as domains
from simulators.common.journal import Exchange, journal_head, read_journal, read_part

HAR_NAME = "exchanges.har"
MANIFEST = "manifest.yaml"
MANIFEST_SIGNATURE = "manifest.sig.json"  # detached Ed25519 signature of manifest.yaml's bytes (bench/signing.py)
MESSAGES = "messages/"  # RFC 5322 messages of every mail channel


def sidecar_folder(domain_name: str) -> str:
    """Where a mail domain's sidecars and transcripts go in a bundle (``mss/`` for MSSanté)."""
    return f"{domain_name}/"


def _mail_files(run_dir: Path, exchange: Exchange, folder: str) -> dict[str, bytes]:
    """An exchange of a mail channel: messages as RFC 5322 ``.eml``, transcripts and mailbox commands as text, and a
    JSON sidecar (bench extension, like the HAR's ``_segurBench``) with what the simulator saw around the bytes: TLS,
    authentication, envelope, routing keys."""
    files: dict[str, bytes] = {}
    parts: dict[str, dict[str, str]] = {}
    for part, ref in exchange.files.items():
        name = f"{MESSAGES}{exchange.id}.eml" if part == "message" else f"{folder}{exchange.id}.{part}.txt"
        files[name] = read_part(run_dir, exchange, part) or b""
        parts[part] = {"file": name, "media_type": ref.media_type}
    sidecar = {
        "exchange": exchange.id,
        "channel": exchange.channel,
        "transaction": exchange.transaction,
        "outcome": exchange.outcome,
        "subjects": exchange.subjects,
        "peer": exchange.peer,
        "meta": exchange.meta,
        "parts": parts,
    }
    files[f"{folder}{exchange.id}.json"] = json.dumps(sidecar, ensure_ascii=False, indent=1).encode()
    return files


def _har_content(data: bytes, media_type: str) -> dict[str, Any]:
    try:
        return {"size": len(data), "mimeType": media_type, "text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {
            "size": len(data),
            "mimeType": media_type,
            "text": base64.b64encode(data).decode(),
            "encoding": "base64",
        }


def _har_entry(run_dir: Path, exchange: Exchange) -> dict[str, Any]:
    request = read_part(run_dir, exchange, "request") or b""
    response = read_part(run_dir, exchange, "response") or b""
    request_type = exchange.files["request"].media_type if "request" in exchange.files else "application/octet-stream"
    response_type = exchange.files["response"].media_type if "response" in exchange.files else "text/plain"
    status = int(exchange.meta.get("http_status", 200))
    path = str(exchange.meta.get("path", f"/{exchange.channel}"))
    posted = _har_content(request, request_type)
    post_data: dict[str, Any] = {"mimeType": request_type, "text": posted["text"]}
    if "encoding" in posted:
        post_data["encoding"] = posted["encoding"]
    return {
        "startedDateTime": exchange.time,
        "time": 0,
        "request": {
            "method": "POST",
            "url": f"https://{exchange.channel}.segur-bench.invalid{path}",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": "Content-Type", "value": request_type}],
            "queryString": [],
            "postData": post_data,
            "headersSize": -1,
            "bodySize": len(request),
        },
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": "Content-Type", "value": response_type}],
            "content": _har_content(response, response_type),
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(response),
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
        "comment": f"segur-bench {exchange.id} {exchange.transaction} {exchange.outcome or ''}".strip(),
        # What the simulator concluded when it answered (outcome, VIHF verification, XDS errors): evidence as
        # much as the bytes, and what a signature broken by pseudonymisation could no longer tell.
        "_segurBench": {
            "exchange": exchange.id,
            "channel": exchange.channel,
            "outcome": exchange.outcome,
            "meta": exchange.meta,
            "transaction": exchange.transaction,
            "subjects": exchange.subjects,
            "peer": exchange.peer,
        },
    }


def export_run(
    run_dir: Path,
    destination: Path,
    *,
    candidate: str | None = None,
    profile: str | None = None,
    transform: Callable[[str, bytes], bytes] | None = None,
) -> Path:
    """Write ``run_dir``'s journal as a bundle at ``destination`` (a folder, or a ``.zip`` file). ``transform``
    rewrites each file's bytes first (pseudonymisation of a replay's export); digests are of what is written."""
    exchanges = read_journal(run_dir)
    files: dict[str, bytes] = {}
    channels = domains.channels()
    mail_folders = {
        c.name: sidecar_folder(d.name) for d in domains.load().values() for c in d.channels if c.kind == "mail"
    }
    entries = [
        _har_entry(run_dir, x) for x in exchanges if x.channel in channels and channels[x.channel].kind == "http"
    ]
    har = {"log": {"version": "1.2", "creator": {"name": "segur-bench", "version": __version__}, "entries": entries}}
    files[HAR_NAME] = json.dumps(har, ensure_ascii=False, indent=1).encode()
    views = domains.candidate_views()
    for exchange in exchanges:
        if (view := views.get(exchange.transaction)) is not None:
            files[f"{view.folder}{exchange.id}{view.suffix}"] = read_part(run_dir, exchange, view.part) or b""
        elif exchange.channel in mail_folders:
            files.update(_mail_files(run_dir, exchange, mail_folders[exchange.channel]))
    # The run's structure (scenarios, steps, findings), so that a replay can judge the same evidence the same way.
    for path in sorted((run_dir / "progress").glob("*.json")) if (run_dir / "progress").is_dir() else []:
        files[f"run/progress/{path.name}"] = path.read_bytes()
    if (run_dir / "run.json").is_file():
        files["run/run.json"] = (run_dir / "run.json").read_bytes()
    if transform is not None:
        files = {name: transform(name, data) for name, data in files.items()}
    manifest = {
        "format": "segur-bench capture bundle 1.0",
        "candidate": candidate,
        "profile": profile,
        "capture_date": (exchanges[0].time[:10] if exchanges else dt.date.today().isoformat()),
        "source_run": run_dir.name,
        "journal_head": journal_head(run_dir),  # the source run's chain head, as its report and seal name it
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files[MANIFEST] = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False).encode()
    files[MANIFEST_SIGNATURE] = json.dumps(signing.sign(files[MANIFEST]).as_dict(), indent=1).encode()
    if destination.suffix.lower() == ".zip":
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
    else:
        for name, data in files.items():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return destination
