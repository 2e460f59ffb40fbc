"""Reading zip archives from hostile sources (captures, attachments, files given to ``check``) with bounded memory.

Each member is judged on its central-directory entry before anything is inflated: a dangerous name (absolute, ``..``,
a drive letter), a size beyond the limit, a compression ratio of a bomb. A budget bounds what the whole archive may
inflate to, so that many members, or many entries pointing at the same compressed bytes (overlapping entries), cannot
add up to more than the limit either. Python's zipfile stops inflating a member at its declared size, so a member that
lies about its size cannot exceed what was allowed for it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class ZipLimits:
    max_members: int
    max_member_bytes: int
    max_total_bytes: int  # inflated, over the whole archive
    max_ratio: int  # inflated / compressed, per member


def shown_name(name: str) -> str:
    """A name from a hostile archive as it may be printed: control characters (ANSI escapes...) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def dangerous_name(name: str) -> bool:
    """An entry name that would leave the extraction folder: absolute, with ``..``, or a Windows drive letter."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name) is not None


@dataclass(frozen=True)
class Member:
    """One member: its bytes, or why they were not read (then ``data`` is None)."""

    name: str
    data: bytes | None
    problem: str | None = None


def read_members(
    archive: zipfile.ZipFile, limits: ZipLimits, wanted: Callable[[str], bool] | None = None
) -> Iterator[Member]:
    """The archive's file members in order, each read only when it is within the limits. ``wanted``, a predicate on
    the name, skips members without reading them (and without spending the budget). Past the member count or the
    total budget (the limit, and never more than ``max_ratio`` times the archive's own size: overlapping entries),
    one last Member says so and the iteration ends."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > limits.max_members:
        yield Member("", None, f"archive de {len(infos)} fichiers : au-delà de {limits.max_members}")
        return
    budget = min(limits.max_total_bytes, limits.max_ratio * max(_archive_bytes(archive), 1))
    spent = 0
    for info in infos:
        if dangerous_name(info.filename):
            yield Member(info.filename, None, "chemin dangereux dans l'archive")
            continue
        if wanted is not None and not wanted(info.filename):
            continue
        if info.file_size > limits.max_ratio * max(info.compress_size, 1):
            yield Member(info.filename, None, "taux de compression d'une bombe zip : non décompressé")
            continue
        if info.file_size > limits.max_member_bytes:
            yield Member(info.filename, None, f"{info.file_size} octets décompressés : au-delà de la limite")
            continue
        spent += info.file_size
        if spent > budget:
            yield Member(
                info.filename,
                None,
                f"l'archive se décompresse au-delà de {budget} octets (bombe, entrées superposées) : lecture arrêtée",
            )
            return
        try:
            yield Member(info.filename, archive.read(info))
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            yield Member(info.filename, None, f"illisible : {exc}")


def _archive_bytes(archive: zipfile.ZipFile) -> int:
    handle = archive.fp
    if handle is None:
        return 0
    position = handle.tell()
    size = handle.seek(0, 2)
    handle.seek(position)
    return size
