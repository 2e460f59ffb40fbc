"""Standalone checks of archives and messages: documents found inside are judged; hostile archives are findings."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench.artifacts import check_file, exit_code

FIXTURE = Path(__file__).parent / "data" / "cda" / "consultation-n1.xml"


def _xdm(extra: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("INDEX.HTM", b"<html/>")
        archive.writestr("README.TXT", b"segur-bench")
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", b"<SubmitObjectsRequest/>")
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", FIXTURE.read_bytes())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_documents_inside_an_xdm_archive_are_checked(tmp_path: Path) -> None:
    archive = tmp_path / "IHE_XDM.ZIP"
    archive.write_bytes(_xdm())
    reports = check_file(archive, None)
    assert [str(r.path) for r in reports] == [f"{archive}!/IHE_XDM/SUBSET01/DOC0001.XML"]
    assert {f.check_id for f in reports[0].findings if f.outcome == "pass"} >= {"cda.header", "cda.body"}
    assert exit_code(reports) == 0


def test_hostile_archive_members_are_findings(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(
        _xdm({"../../etc/evil.xml": b"<x/>", "IHE_XDM/SUBSET01/BOMB.XML": b"<a>" + b" " * 5_000_000 + b"</a>"})
    )
    reports = check_file(archive, None)
    messages = [f.message for f in reports[0].findings]
    assert any("chemin dangereux" in m for m in messages) and any("bombe zip" in m for m in messages)
    assert exit_code(reports) == 1


def test_broken_zip_is_a_finding(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 truncated")
    reports = check_file(archive, None)
    assert reports[0].findings[0].message == "archive zip illisible"


def test_documents_attached_to_a_message(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "medecin@test.mssante.fr"
    message["To"] = "confrere@test.mssante.fr"
    message["Subject"] = "Compte rendu"
    message.set_content("Veuillez trouver le compte rendu.")
    message.add_attachment(FIXTURE.read_bytes(), maintype="text", subtype="xml", filename="CR.xml")
    message.add_attachment(_xdm(), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    eml = tmp_path / "message.eml"
    eml.write_bytes(message.as_bytes())
    reports = check_file(eml, None)
    assert sorted(str(r.path).split("!/", 1)[1] for r in reports) == [
        "CR.xml",
        "IHE_XDM.ZIP!/IHE_XDM/SUBSET01/DOC0001.XML",
    ]
    assert exit_code(reports) == 0


def _har(entries: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}
    ).encode()


def test_documents_in_a_har_capture(tmp_path: Path) -> None:
    document = base64.b64encode(FIXTURE.read_bytes()).decode()
    soap = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        '<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">'
        f'<xdsb:Document id="Doc1">{document}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>'
        "</s:Body></s:Envelope>"
    )
    boundary = "MIMEBoundary_test"
    mtom = (
        f'--{boundary}\r\nContent-Type: application/xop+xml\r\n\r\n<s:Envelope xmlns:s="x"/>\r\n'
        f"--{boundary}\r\nContent-Type: text/xml\r\nContent-ID: <doc1>\r\n\r\n{FIXTURE.read_text(encoding='utf-8')}\r\n"
        f"--{boundary}--\r\n"
    )
    har = tmp_path / "capture.har"
    har.write_bytes(
        _har(
            [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://dmp/",
                        "postData": {"mimeType": "application/soap+xml", "text": soap},
                    },
                    "response": {"status": 200, "content": {"mimeType": "application/soap+xml", "text": "<ok/>"}},
                },
                {
                    "request": {
                        "method": "POST",
                        "url": "https://dmp/",
                        "postData": {
                            "mimeType": f'multipart/related; type="application/xop+xml"; boundary="{boundary}"',
                            "text": mtom,
                        },
                    },
                    "response": {"status": 200, "content": {"mimeType": "text/plain", "text": ""}},
                },
            ]
        )
    )
    reports = check_file(har, None)
    assert [str(r.path).split("!/")[1] for r in reports] == [
        "entries[0]/request/part0/document0",
        "entries[1]/request/part1/document0",
    ]
    assert exit_code(reports) == 0


def test_broken_har_is_a_finding(tmp_path: Path) -> None:
    har = tmp_path / "broken.har"
    har.write_bytes(b'{"log": {"entries": [')
    reports = check_file(har, None)
    assert reports[0].findings[0].outcome == "fail" and "HAR illisible" in reports[0].findings[0].message


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "tube.xml"
    os.mkfifo(fifo)  # reading it would block until a writer comes
    for path in (fifo, Path("/dev/zero")):
        [report] = check_file(path, None)
        assert report.kind == "illisible" and "pas un fichier ordinaire" in (report.error or "")


def test_zip_member_names_with_a_drive_or_terminal_escapes_are_flagged_and_escaped(tmp_path: Path) -> None:
    import io
    import zipfile

    document = (Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("C:/Windows/evil.xml", document)
        archive.writestr("IHE_XDM/SUBSET01/\x1b[31mrouge.xml", document)
    path = tmp_path / "x.zip"
    path.write_bytes(buffer.getvalue())
    reports = check_file(path, None)
    messages = [f.message for r in reports for f in r.findings]
    assert any("chemin dangereux" in m and "C:/Windows" in m for m in messages), messages
    assert all("\x1b" not in str(r.path) and "\x1b" not in m for r in reports for m in messages)


def test_a_check_that_crashes_gives_a_bench_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.checks import registry

    original = registry.get("cda.header")

    def broken(_evidence: object, _context: object) -> list[registry.Verdict]:
        raise KeyError("birthTime")

    crashing = registry.RegisteredCheck(original.id, original.requirements, original.title, (), broken)
    monkeypatch.setitem(registry._CHECKS, "cda.header", crashing)
    [report] = check_file(Path(__file__).parent / "data" / "cda" / "consultation-n1.xml", None)
    errors = [f for f in report.findings if f.check_id == "cda.header"]
    assert [f.outcome for f in errors] == ["error"] and "KeyError" in errors[0].message
    assert exit_code([report]) == 3


def test_a_har_nested_too_deep_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "deep.har"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    [report] = check_file(path, None)
    assert any(f.check_id == "artifact.har" and f.outcome == "fail" for f in report.findings)


def _folder_of_documents(folder: Path, count: int) -> list[Path]:
    fixture = (Path(__file__).parent / "data" / "cda" / "consultation-n1.xml").read_bytes()
    broken = fixture.replace(b'<languageCode code="fr-FR"/>', b'<languageCode code="en"/>')
    folder.mkdir()
    paths = []
    for index in range(count):
        path = folder / f"doc{index:03d}.xml"
        path.write_bytes(broken if index % 7 == 3 else fixture)
        paths.append(path)
    return paths


def test_a_process_pool_gives_the_same_reports_in_the_same_order(tmp_path: Path) -> None:
    from bench.artifacts import PARALLEL_FROM, Judging, check_all

    paths = _folder_of_documents(tmp_path / "docs", PARALLEL_FROM + 20)
    judging = Judging(None)
    serial = [
        [(r.path, [(f.check_id, f.outcome) for f in r.findings]) for r in rs] for rs in check_all(paths, judging, 1)
    ]
    pooled = [
        [(r.path, [(f.check_id, f.outcome) for f in r.findings]) for r in rs] for rs in check_all(paths, judging, 2)
    ]
    assert pooled == serial and [rs[0][0] for rs in pooled] == paths
    assert sum(1 for rs in pooled for _p, findings in rs if ("cda.header", "fail") in findings) == len(paths[3::7])


def test_check_streams_json_and_text_with_the_same_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bench.cli import app

    folder = tmp_path / "docs"
    _folder_of_documents(folder, 40)
    as_json = CliRunner().invoke(app, ["check", str(folder), "--format", "json", "--jobs", "2"])
    assert as_json.exit_code == 1, as_json.output
    files = json.loads(as_json.stdout)["files"]
    assert [Path(f["path"]).name for f in files] == [f"doc{i:03d}.xml" for i in range(40)]
    as_text = CliRunner().invoke(app, ["check", str(folder), "--jobs", "1"])
    assert as_text.exit_code == 1 and as_text.output.count("FAIL") >= 6
