"""Fuzzing the file entry points (the simulators' sockets have their own fuzz tests): ``check`` on mutated documents,
archives, messages and HAR files, and ``replay`` on mutated bundles, folder and zip. Whatever the input: reports and
findings, or a stated refusal; never an exception. Bounded in examples, so it runs in CI."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.artifacts import check_file
from bench.catalogue.loader import Catalogue
from bench.replay.engine import BundleAltered, replay_bundle
from bench.replay.scale import replay_capture

FIXTURE = (Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes()
# SEGUR_BENCH_FUZZ_EXAMPLES raises the count for a longer local run (CI keeps the default).
EXAMPLES = int(os.environ.get("SEGUR_BENCH_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def mutated(draw: st.DrawFn, original: bytes = FIXTURE) -> bytes:
    """The original with a few bytes flipped, a slice cut or repeated, or hostile text inserted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))] * draw(st.integers(1, 50))
        else:
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
                        b"&e;",
                        b"\x00\xff\xfe",
                        b"<" * 500,
                        b"]]>",
                        "\u202e\x1b[2J".encode(),
                    ]
                )
            )
    return bytes(data)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@FUZZ
@given(
    document=mutated(),
    suffix=st.sampled_from([".xml", ".zip", ".eml", ".har"]),
    member=st.sampled_from(["IHE_XDM/SUBSET01/DOC0001.XML", "../x.xml", "C:/x.xml", "a\x1b[31m.xml"]),
    truncate=st.integers(0, 3),
)
def test_check_never_raises(tmp_path: Path, document: bytes, suffix: str, member: str, truncate: int) -> None:
    if suffix == ".zip":
        data = _zip({member: document, "METADATA.XML": document[:100]})
    elif suffix == ".eml":
        data = (
            b"From: a@b.mssante.fr\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
            b"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=IHE_XDM.ZIP\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + __import__("base64").b64encode(_zip({member: document}))
        )
    elif suffix == ".har":
        entry = {"request": {"postData": {"mimeType": "text/xml", "text": document.decode("utf-8", "replace")}}}
        data = json.dumps({"log": {"entries": [entry]}}).encode()
    else:
        data = document
    if truncate:
        data = data[: len(data) * truncate // 4]
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    for report in check_file(path, None):
        assert report.error or report.findings is not None


@pytest.fixture(scope="module")
def exported_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from bench.cli import app

    runner = CliRunner()
    out = tmp_path_factory.mktemp("runs")
    assert runner.invoke(app, ["run", "--out", str(out), "--scenario", "INS-SC-05"]).exit_code == 0
    bundle = out.parent / "bundle"
    assert runner.invoke(app, ["export", str(next(out.iterdir())), "--bundle", str(bundle)]).exit_code == 0
    return bundle


@FUZZ
@given(data=st.data(), as_zip=st.booleans(), keep_manifest=st.booleans())
def test_replay_never_raises(
    exported_bundle: Path, catalogue: Catalogue, tmp_path: Path, data: st.DataObject, as_zip: bool, keep_manifest: bool
) -> None:
    bundle = tmp_path / "bundle"
    shutil.rmtree(bundle, ignore_errors=True)
    shutil.copytree(exported_bundle, bundle)
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    victim = data.draw(st.sampled_from(files))
    victim.write_bytes(data.draw(mutated(victim.read_bytes())))
    if not keep_manifest:
        (bundle / "manifest.yaml").unlink()
        (bundle / "manifest.sig.json").unlink(missing_ok=True)
    target = bundle
    if as_zip:
        target = tmp_path / "bundle.zip"
        target.write_bytes(
            _zip({p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()})
        )
    out = tmp_path / "replay"
    shutil.rmtree(out, ignore_errors=True)
    try:
        outcome = replay_bundle(target, out, catalogue)
    except BundleAltered as refused:
        assert refused.problems and keep_manifest  # only a manifest can say a bundle was altered
        return
    assert outcome.result.requirements
    scale = replay_capture(target)
    assert scale.exchanges >= 0
