"""Standalone checks of archives and messages: documents found inside are judged; hostile archives are findings."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

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
