"""The one hardened XML parser: a DTD is refused whatever the encoding, and nothing external is ever opened."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from simulators.common.xmlsafe import UnsafeXmlError, parse_xml


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_a_dtd_is_refused_in_any_encoding_before_anything_is_read(tmp_path: Path, codec: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would block until a writer comes: a hang, not an answer
    name = codec.upper().replace("-BE", "BE")
    text = f'<?xml version="1.0" encoding="{name}"?><!DOCTYPE a SYSTEM "file://{fifo}"><a>&e;</a>'
    outcome: list[str] = []

    def parse() -> None:
        try:
            parse_xml(text.encode(codec))
            outcome.append("accepted")
        except UnsafeXmlError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(30)
    assert outcome and "DTD" in outcome[0], outcome or "the parser blocked on the FIFO"


def test_an_ordinary_utf16_document_still_parses() -> None:
    assert parse_xml('<?xml version="1.0" encoding="UTF-16"?><a><b>é</b></a>'.encode("utf-16")).find("b").text == "é"
