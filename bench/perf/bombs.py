"""A generated set of hostile files (zip bombs, overlapping zip entries, many members, nested archives, deeply nested
MIME and YAML) and the peak memory ``check`` and ``replay`` reach on each, each run as its own process (the figure is
that process's peak resident memory, lxml and Saxon included, which tracemalloc cannot see)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.perf.rss import BENCH, measured

_DOCUMENT = b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'


def _deflate_bomb() -> bytes:
    """One member that inflates 1,000-fold: 256 MiB of zeros in about 256 KiB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("IHE_XDM/doc.xml", "w") as member:
        member.write(_DOCUMENT)
        block = b"\0" * (1 << 20)
        for _ in range(256):
            member.write(block)
    return buffer.getvalue()


def _overlapping(entries: int = 4000) -> bytes:
    """One member (about 1 MiB, ratio about 4) listed ``entries`` times in the central directory, every entry pointing
    at the same compressed bytes: each passes a per-member ratio check, together they inflate to gigabytes."""
    pattern = b"".join(os.urandom(64).hex().encode() + b" " * 128 for _ in range(4096))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.xml", _DOCUMENT + pattern)
    data = buffer.getvalue()
    end = data.rindex(b"PK\x05\x06")
    directory_offset = struct.unpack("<I", data[end + 16 : end + 20])[0]
    entry = data[directory_offset:end]
    directory = entry * entries
    count = min(entries, 0xFFFF)
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), directory_offset, 0)
    return data[:directory_offset] + directory + eocd


def _many_members(members: int = 20_000) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(members):
            archive.writestr(f"documents/{index:06d}.xml", _DOCUMENT + b"</ClinicalDocument>")
    return buffer.getvalue()


def _nested(depth: int = 20) -> bytes:
    data = _deflate_bomb()
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"level{level}.zip", data)
        data = buffer.getvalue()
    return data


def _deep_mime(depth: int = 5000) -> bytes:
    """A message whose parts nest ``depth`` multiparts deep (each a boundary of its own)."""
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level) for level in range(depth)
    )
    return b"From: a@b.mssante.fr\r\nMIME-Version: 1.0\r\n" + head + b"Content-Type: text/plain\r\n\r\nx\r\n"


def write_bomb_set(folder: Path) -> list[Path]:
    """The hostile files, written under ``folder`` (about 10 MB in all)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "deflate-bomb.zip": _deflate_bomb(),
        "overlapping-entries.zip": _overlapping(),
        "many-members.zip": _many_members(),
        "nested-archives.zip": _nested(),
        "deep-mime.eml": _deep_mime(),
        "deep-yaml/manifest.yaml": b"files: " + b"[" * 50_000 + b"]" * 50_000,
    }
    written = []
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


@dataclass(frozen=True)
class HostileFigure:
    file: str
    size_kib: int
    command: str
    exit_code: int
    peak_rss_mib: float


def measure_hostile(folder: Path) -> list[HostileFigure]:
    """Peak memory of ``segur-bench check`` and ``segur-bench replay`` on each file of the bomb set."""
    figures = []
    for path in write_bomb_set(folder / "bombs"):
        target = path.parent if path.parent.name == "deep-yaml" else path
        for command in ("check", "replay"):
            arguments = [*BENCH, command, str(target)]
            if command == "replay":
                arguments += ["--out", str(folder / "replays")]
            run = measured(arguments)
            size = sum(p.stat().st_size for p in target.rglob("*")) if target.is_dir() else target.stat().st_size
            figures.append(HostileFigure(target.name, size // 1024, command, run.exit_code, run.peak_rss_mib))
    return figures
