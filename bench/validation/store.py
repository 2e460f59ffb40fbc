"""The per-user store of validation packs (``$SEGUR_BENCH_HOME/packs``): add a folder, or fetch a release archive
from a URL, check its digest and unpack it safely (no path outside the pack, no links, bounded size)."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import httpx

from bench.paths import state_dir
from bench.validation.packs import ValidationPack, is_pack

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 200_000


class PackError(RuntimeError):
    """A pack cannot be added: say why, in words the user can act on."""


def store_dir() -> Path:
    return state_dir() / "packs"


def add_folder(source: Path, name: str | None = None) -> ValidationPack:
    """Copy a pack folder into the store under ``name`` (default: the folder's name)."""
    pack_root = _find_pack_root(source)
    target = store_dir() / (name or pack_root.name)
    if target.exists():
        raise PackError(f"un paquet nommé {target.name!r} existe déjà dans {store_dir()}")
    shutil.copytree(pack_root, target, symlinks=False)
    return ValidationPack(target)


def fetch(url: str, sha256: str, name: str, *, timeout: float = 60.0) -> ValidationPack:
    """Download a release archive (.zip, .tar.gz), verify its SHA-256, unpack it into the store as ``name``."""
    target = store_dir() / name
    if target.exists():
        raise PackError(f"un paquet nommé {name!r} existe déjà dans {store_dir()}")
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise PackError(f"téléchargement refusé : HTTP {response.status_code} pour {url}")
            for chunk in response.iter_bytes():
                buffer.write(chunk)
                digest.update(chunk)
                if buffer.tell() > MAX_ARCHIVE_BYTES:
                    raise PackError(f"archive au-delà de {MAX_ARCHIVE_BYTES // (1024 * 1024)} Mo")
    except httpx.HTTPError as exc:
        raise PackError(f"téléchargement impossible : {exc}") from exc
    if digest.hexdigest() != sha256.lower():
        raise PackError(f"empreinte SHA-256 {digest.hexdigest()} différente de celle attendue {sha256.lower()}")
    with tempfile.TemporaryDirectory(prefix="segur-bench-pack-") as tmp:
        unpacked = Path(tmp) / "unpacked"
        _safe_unpack(buffer.getvalue(), url, unpacked)
        pack_root = _find_pack_root(unpacked)
        store_dir().mkdir(parents=True, exist_ok=True)
        shutil.move(str(pack_root), target)
    return ValidationPack(target)


def _find_pack_root(folder: Path) -> Path:
    """The folder itself, or its single top-level subfolder (release archives wrap everything in one)."""
    if is_pack(folder):
        return folder
    children = [c for c in folder.iterdir() if c.is_dir()] if folder.is_dir() else []
    for child in children:
        if is_pack(child):
            return child
    raise PackError(f"{folder} ne contient pas de paquet CI-SIS (infrastructure/cda, schematrons ou jeuxDeValeurs)")


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise PackError(f"archive refusée : chemin dangereux {name!r}")
    return path


def _safe_unpack(data: bytes, url: str, destination: Path) -> None:
    destination.mkdir(parents=True)
    total = 0
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise PackError("archive refusée : trop de fichiers")
            for member in members:
                relative = _safe_member(member.filename)
                if member.is_dir():
                    continue
                total += member.file_size
                if total > MAX_UNPACKED_BYTES:
                    raise PackError("archive refusée : contenu décompressé trop volumineux")
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        return
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive_tar:
            _unpack_tar(archive_tar, destination)
    except tarfile.TarError as exc:
        raise PackError(f"{url} n'est ni une archive zip ni une archive tar lisible") from exc


def _unpack_tar(archive: tarfile.TarFile, destination: Path) -> None:
    total = 0
    for member in archive.getmembers():
        relative = _safe_member(member.name)
        if member.issym() or member.islnk() or member.isdev():
            raise PackError(f"archive refusée : lien ou fichier spécial {member.name!r}")
        if member.isdir():
            continue
        total += member.size
        if total > MAX_UNPACKED_BYTES:
            raise PackError("archive refusée : contenu décompressé trop volumineux")
        extracted = archive.extractfile(member)
        if extracted is None:
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with extracted, target.open("wb") as sink:
            shutil.copyfileobj(extracted, sink)
