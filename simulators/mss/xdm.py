"""IHE XDM media as MSSanté carries it: a zip attachment ``IHE_XDM.ZIP`` (IHE ITI TF-1 §16 and TF-3 §4.2.4.2;
CI-SIS "Volet Transport MSSanté" / IHE XDM for the zip over e-mail option).

Layout: ``INDEX.HTM`` and ``README.TXT`` at the root, then ``IHE_XDM/SUBSET01/METADATA.XML`` (an ebRIM
``lcm:SubmitObjectsRequest``) beside the documents it describes; each DocumentEntry names its file in a ``URI`` slot,
relative to the subset folder.

Reading is defensive: attachments come from outside. Entry names with ``..``, absolute paths or drive letters, more
entries than a real package has, sizes beyond the limits and compression ratios of a zip bomb are refused before any
byte is inflated, and inflation itself stops at the declared size.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from simulators.common.xmlsafe import UnsafeXmlError, parse_xml
from simulators.dmp.xds import LCM, RIM

ATTACHMENT_NAME = "IHE_XDM.ZIP"
SUBSET = "IHE_XDM/SUBSET01"
METADATA = f"{SUBSET}/METADATA.XML"
INDEX = "INDEX.HTM"
README = "README.TXT"

MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 200
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed; real CDA packages stay far below


class XdmError(ValueError):
    """The attachment is not a readable XDM zip (a finding for the checks, a refusal for a mail client)."""


@dataclass
class XdmPackage:
    """The files of an XDM zip, by their path in the archive."""

    files: dict[str, bytes]
    names: list[str] = field(default_factory=list)  # as written in the archive, in order

    def get(self, path: str) -> bytes | None:
        """A file by path, compared without case (media written by other systems vary in case)."""
        wanted = path.upper()
        return next((data for name, data in self.files.items() if name.upper() == wanted), None)

    def metadata(self) -> Any:
        """METADATA.XML parsed with the hardened parser; raises XdmError when absent or not XML."""
        data = self.get(METADATA)
        if data is None:
            raise XdmError(f"{METADATA} absent")
        try:
            return parse_xml(data)
        except UnsafeXmlError as exc:
            raise XdmError(f"{METADATA} illisible : {exc}") from exc

    def document(self, uri: str) -> bytes | None:
        return self.get(f"{SUBSET}/{uri}")


def _unsafe_name(name: str) -> str | None:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "chemin absolu"
    if any(part == ".." for part in name.replace("\\", "/").split("/")):
        return "remontée de dossier (..)"
    if "\x00" in name:
        return "caractère nul"
    return None


def read_xdm(data: bytes) -> XdmPackage:
    """Open an XDM zip from untrusted bytes, within the limits above.

    >>> read_xdm(b"not a zip")
    Traceback (most recent call last):
    ...
    simulators.mss.xdm.XdmError: pièce jointe XDM : ce n'est pas une archive zip
    """
    if len(data) > MAX_ARCHIVE_BYTES:
        raise XdmError(f"pièce jointe XDM de {len(data)} octets : au-delà de {MAX_ARCHIVE_BYTES}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise XdmError("pièce jointe XDM : ce n'est pas une archive zip") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise XdmError(f"archive XDM de {len(infos)} entrées : au-delà de {MAX_ENTRIES}")
        total = 0
        for info in infos:
            problem = _unsafe_name(info.filename)
            if problem:
                raise XdmError(f"entrée {info.filename!r} refusée : {problem}")
            total += info.file_size
            if info.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
                raise XdmError(f"entrée {info.filename!r} : taille décompressée au-delà des limites")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise XdmError(f"entrée {info.filename!r} : taux de compression de bombe zip")
        files: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as handle:
                    content = handle.read(info.file_size + 1)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
                raise XdmError(f"entrée {info.filename!r} illisible : {exc}") from exc
            if len(content) != info.file_size:
                raise XdmError(f"entrée {info.filename!r} : taille réelle différente de la taille déclarée")
            files[info.filename] = content
        return XdmPackage(files, [i.filename for i in infos])


def submission_metadata(provide_and_register: bytes, uris: dict[str, str]) -> bytes:
    """METADATA.XML from an ITI-41 request body: its SubmitObjectsRequest, each DocumentEntry given a ``URI`` slot
    (``uris``: entryUUID -> file name in the subset)."""
    root = parse_xml(provide_and_register)
    request = root if root.tag == f"{{{LCM}}}SubmitObjectsRequest" else root.find(f"{{{LCM}}}SubmitObjectsRequest")
    if request is None:
        raise XdmError("aucune SubmitObjectsRequest dans la soumission")
    for entry in request.iter(f"{{{RIM}}}ExtrinsicObject"):
        uri = uris.get(entry.get("id", ""))
        if uri is None:
            continue
        slot = etree.Element(f"{{{RIM}}}Slot", name="URI")
        values = etree.SubElement(slot, f"{{{RIM}}}ValueList")
        etree.SubElement(values, f"{{{RIM}}}Value").text = uri
        entry.insert(0, slot)
    return bytes(etree.tostring(request, xml_declaration=True, encoding="UTF-8"))


def build_xdm(
    documents: dict[str, bytes],
    metadata: bytes,
    *,
    sender: str,
    leave_out: frozenset[str] = frozenset(),
) -> bytes:
    """The zip of an XDM package: ``documents`` (file name -> bytes) and their METADATA.XML in SUBSET01.
    ``leave_out`` drops named files on purpose (the bench's broken packages, a candidate's defect switch)."""
    index = (
        "<html><head><title>IHE XDM</title></head><body><h1>Documents</h1><ul>"
        + "".join(f'<li><a href="{SUBSET}/{name}">{name}</a></li>' for name in documents)
        + f"</ul><p>Émetteur : {sender}</p></body></html>"
    ).encode()
    readme = (
        f"Support IHE XDM (IHE ITI TF-1 §16).\r\nÉmetteur : {sender}\r\n"
        f"Métadonnées : {METADATA}\r\nDocuments : {len(documents)}\r\n"
    ).encode()
    files = {INDEX: index, README: readme, METADATA: metadata}
    files.update({f"{SUBSET}/{name}": data for name, data in documents.items()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            if name not in leave_out:
                archive.writestr(name, data)
    return buffer.getvalue()
