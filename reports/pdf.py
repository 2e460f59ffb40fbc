"""The HTML report printed to an A4 PDF by headless Chromium, for an auditor who files or signs a PDF.

Why Chromium and not a Python library: measured on a 200-page report with defects (2026-11-30, 2 cores), WeasyPrint
70 took 75 s and 403 MiB and left no text out; Chromium 156 headless took 4.2 s and 305 MiB and left no text out once
closed ``<details>`` print open. Chromium is also the browser the report's accessibility tests drive. It is a system
package (``apt-get install chromium``), found on PATH or named by ``SEGUR_BENCH_CHROMIUM``.

The report's print stylesheet does the layout (A4, repeated table headers, run id and page number in the page
margins); Chromium is run offline (every host name unresolvable, no background services) in a throwaway profile. The
PDF's metadata then ties it to the sealed ``report.html`` it was printed from (its SHA-256)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter

CHROMIUM_ENV = "SEGUR_BENCH_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 300.0
OFFLINE_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # the report is self-contained: nothing to fetch, nothing may leak
    "--no-pdf-header-footer",  # the print stylesheet's own page margins carry the run id and page numbers
)


class PdfError(Exception):
    """The PDF could not be produced; the message says what to do."""


def find_chromium() -> str | None:
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() and os.access(named, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_report(html: Path, pdf: Path, run_id: str) -> Path:
    """Print ``html`` to ``pdf`` (A4, as its print stylesheet lays it out) and record in the PDF's metadata the run
    and the SHA-256 of the HTML it shows."""
    chromium = find_chromium()
    if chromium is None:
        raise PdfError(
            f"Chromium introuvable ({', '.join(CHROMIUM_NAMES)} ou ${CHROMIUM_ENV}) : "
            "apt-get install chromium, ou ouvrez report.html dans un navigateur et imprimez-le en PDF (A4)"
        )
    html_digest = hashlib.sha256(html.read_bytes()).hexdigest()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="segur-bench-pdf-") as scratch:
        printed = Path(scratch) / "report.pdf"
        command = [
            chromium,
            *OFFLINE_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            f"--print-to-pdf={printed}",
            html.resolve().as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
        try:
            done = subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium n'a pas imprimé le rapport en {PRINT_TIMEOUT_S:.0f} s") from exc
        except OSError as exc:
            raise PdfError(f"Chromium ne démarre pas ({chromium}) : {exc}") from exc
        if done.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["aucun message"]
            raise PdfError(f"Chromium n'a pas imprimé le rapport (code {done.returncode}) : {said[0][:300]}")
        _stamp(printed, pdf, run_id, html_digest)
    return pdf


def _stamp(printed: Path, pdf: Path, run_id: str, html_digest: str) -> None:
    """Add to Chromium's metadata (its title is the report's) what the PDF shows, as an incremental update: the
    printed bytes stay as Chromium wrote them."""
    writer = PdfWriter(printed, incremental=True)
    writer.add_metadata(
        {
            "/Subject": f"segur-bench, campagne {run_id}",
            "/Keywords": f"report.html SHA-256 {html_digest}",
        }
    )
    partial = pdf.with_name(pdf.name + ".partial")
    with partial.open("wb") as handle:
        writer.write(handle)
    partial.replace(pdf)  # never a half-written PDF under the final name


def pdf_report_digest(pdf: Path) -> str | None:
    """The SHA-256 of the report.html a PDF says it shows (None when it says nothing)."""
    metadata = PdfReader(pdf).metadata
    keywords = str(metadata.get("/Keywords") or "") if metadata is not None else ""
    prefix = "report.html SHA-256 "
    return keywords[len(prefix) :] if keywords.startswith(prefix) else None
