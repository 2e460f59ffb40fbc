"""Validation packs: add a folder, fetch a release archive over a real local HTTP server, refuse bad archives."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.validation.packs import find_packs
from bench.validation.store import PackError, add_folder, fetch

MINI_SCHEMA = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>'


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEGUR_BENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SEGUR_BENCH_PACKS", raising=False)
    return tmp_path / "home"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_fetch_checks_the_digest_and_unpacks_the_release(home: Path, server: tuple[str, Path]) -> None:
    base, root = server
    archive = _zip(
        {
            "TestContenuCDA-3.0/infrastructure/cda/CDA_extended.xsd": MINI_SCHEMA,
            "TestContenuCDA-3.0/jeuxDeValeurs/README": b"x",
        }
    )
    (root / "release.zip").write_bytes(archive)
    pack = fetch(f"{base}/release.zip", hashlib.sha256(archive).hexdigest(), "cisis-3.0")
    assert pack.root == home / "packs" / "cisis-3.0" and pack.has_cda_schema()
    assert [p.name for p in find_packs()] == ["cisis-3.0"]
    with pytest.raises(PackError, match="existe déjà"):
        fetch(f"{base}/release.zip", hashlib.sha256(archive).hexdigest(), "cisis-3.0")


def test_fetch_refuses_a_wrong_digest_and_missing_files(home: Path, server: tuple[str, Path]) -> None:
    base, root = server
    (root / "release.zip").write_bytes(_zip({"infrastructure/cda/CDA_extended.xsd": MINI_SCHEMA}))
    with pytest.raises(PackError, match="empreinte SHA-256"):
        fetch(f"{base}/release.zip", "0" * 64, "x")
    with pytest.raises(PackError, match="HTTP 404"):
        fetch(f"{base}/missing.zip", "0" * 64, "y")
    assert not (home / "packs" / "x").exists()


@pytest.mark.parametrize("name", ["../evil.xsd", "/etc/evil", "a/../../evil"])
def test_fetch_refuses_path_traversal(home: Path, server: tuple[str, Path], name: str) -> None:
    base, root = server
    archive = _zip({"infrastructure/cda/CDA_extended.xsd": MINI_SCHEMA, name: b"evil"})
    (root / "evil.zip").write_bytes(archive)
    with pytest.raises(PackError, match="chemin dangereux"):
        fetch(f"{base}/evil.zip", hashlib.sha256(archive).hexdigest(), "evil")
    assert not list(home.parent.rglob("evil.xsd"))


def test_fetch_refuses_garbage(home: Path, server: tuple[str, Path]) -> None:
    base, root = server
    (root / "garbage.zip").write_bytes(b"not an archive at all")
    with pytest.raises(PackError, match="ni une archive zip"):
        fetch(f"{base}/garbage.zip", hashlib.sha256(b"not an archive at all").hexdigest(), "g")


def test_add_folder(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "mypack" / "infrastructure" / "cda"
    source.mkdir(parents=True)
    (source / "CDA_extended.xsd").write_bytes(MINI_SCHEMA)
    assert add_folder(tmp_path / "mypack").has_cda_schema()
    with pytest.raises(PackError, match="ne contient pas de paquet"):
        add_folder(tmp_path / "mypack" / "infrastructure")
