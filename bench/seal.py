"""A run directory's seal: when the reports are written, ``seal.json`` lists the SHA-256 of every file of the run
(journal, evidence, progress, state, reports) and the journal chain's head, signed with the user's key. Any byte
changed, any file added or removed afterwards, and any seal rewritten without the key, is then visible to
``segur-bench verify``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from bench import signing
from simulators.common.journal import journal_head

SEAL_NAME = "seal.json"
SEAL_FORMAT = "segur-bench seal 1"


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _walk(run_dir: Path) -> tuple[dict[str, str], list[str]]:
    """(regular file -> SHA-256, anything else found: symlinks, FIFOs...), the seal itself left out."""
    files: dict[str, str] = {}
    strange: list[str] = []
    for path in sorted(run_dir.rglob("*")):
        name = path.relative_to(run_dir).as_posix()
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            strange.append(name)
        elif path.is_file() and name != SEAL_NAME:
            files[name] = _digest(path)
    return files, strange


def write_seal(run_dir: Path) -> dict[str, Any]:
    """Seal ``run_dir`` as it stands now (call it last, once every report is written)."""
    files, _ = _walk(run_dir)
    body = {
        "format": SEAL_FORMAT,
        "run_id": run_dir.name,
        "sealed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "journal_head": journal_head(run_dir),
        "files": files,
    }
    seal = {**body, "signature": signing.sign(_canonical(body)).as_dict()}
    (run_dir / SEAL_NAME).write_text(json.dumps(seal, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return seal


def seal_problems(run_dir: Path, expected_signer: str | None = None) -> tuple[list[str], str | None]:
    """(problems, signer's fingerprint) of ``run_dir`` against its seal: signature, signer, journal head, and every
    file as sealed (changed, removed, added, or not a regular file)."""
    try:
        seal = json.loads((run_dir / SEAL_NAME).read_text(encoding="utf-8"))
        body = {key: seal[key] for key in ("format", "run_id", "sealed", "journal_head", "files")}
        sealed = body["files"]
        if body["format"] != SEAL_FORMAT or not isinstance(sealed, dict):
            raise ValueError(f"format inconnu {body['format']!r}")
    except FileNotFoundError:
        return [f"{SEAL_NAME} absent : la campagne n'a pas été scellée (rien ne garantit ses fichiers)"], None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"{SEAL_NAME} illisible : {exc}"], None
    signer, problem = signing.verify(_canonical(body), seal.get("signature"))
    problems = [f"{SEAL_NAME} : {problem}"] if problem else []
    if signer and expected_signer and signer != expected_signer:
        problems.append(f"{SEAL_NAME} : scellé par la clé {signer}, et non par la clé attendue {expected_signer}")
    if body["journal_head"] != journal_head(run_dir):
        problems.append(f"{SEAL_NAME} : tête de chaîne du journal différente (journal modifié après le scellement)")
    files, strange = _walk(run_dir)
    problems += [f"{name} : ni fichier ni dossier ordinaire (lien symbolique ?), non suivi" for name in strange]
    for name, digest in sorted(sealed.items()):
        if name not in files:
            problems.append(f"{name} : scellé mais absent")
        elif files[name] != digest:
            problems.append(f"{name} : modifié après le scellement (SHA-256 différent)")
    problems += [f"{name} : ajouté après le scellement" for name in sorted(set(files) - set(sealed))]
    return problems, signer
