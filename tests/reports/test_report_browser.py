"""The HTML report in a real headless browser (Debian's Chromium driven by Playwright): no serious or critical axe-core
violation, no horizontal page scroll on a phone (390 px) or a desktop (1440 px), every link resolves, and printed to
an A4 PDF by ``segur-bench report --pdf`` nothing is clipped (every text of the page is in the PDF's text).

Chromium is a system package: where it is absent the tests are skipped, unless ``SEGUR_BENCH_BROWSER_TESTS=required``
(CI sets it, after installing it) turns its absence into a failure."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.runner.engine import Campaign, CampaignOptions
from reports.render import write_reports
from simulators.common.pki import BenchPki

DEFECTS = ["ins.share_unqualified", "mss.no_sasl_ir", "dmp.vihf_ignores_psc"]
CHROMIUM_FLAGS = [  # a machine with no network: Chromium must not try to reach its services
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    required = os.environ.get("SEGUR_BENCH_BROWSER_TESTS") == "required"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            raise
        pytest.skip("Playwright absent (pip install -e '.[dev]')")
    if executable is None:
        if required:
            pytest.fail("Chromium absent alors que SEGUR_BENCH_BROWSER_TESTS=required (apt-get install chromium)")
        pytest.skip("Chromium absent (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report(catalogue: Catalogue, pki: BenchPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("browser") / "run"
    options = CampaignOptions(profile="medecin-ville", defects=DEFECTS)
    result = Campaign(catalogue, ReferenceCandidate(DEFECTS), options, run_dir, pki).run()
    return write_reports(result, run_dir)["html"]


@pytest.mark.parametrize("width", [390, 1440])
def test_no_horizontal_page_scroll_and_no_serious_accessibility_violation(
    browser: Any, report: Path, width: int
) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(report.as_uri())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"la page défile horizontalement de {overflow} px à {width} px"
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], len(v["nodes"])) for v in serious]
    page.close()


def test_every_link_resolves(browser: Any, report: Path) -> None:
    page = browser.new_page()
    page.goto(report.as_uri())
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    ids = set(page.eval_on_selector_all("[id]", "nodes => nodes.map(n => n.id)"))
    broken = [h for h in hrefs if (h[1:] not in ids if h.startswith("#") else not (report.parent / h).is_file())]
    assert hrefs and not broken, broken[:10]
    page.close()


def _text_nodes(html: Path) -> list[str]:
    """Every piece of text a printed page must show (what print hides, the page's own scripts and styles, left out),
    whitespace removed: a PDF wraps lines and cells where the page did not."""
    from lxml import html as lxml_html

    root = lxml_html.parse(str(html)).getroot()
    for hidden in root.xpath("//script|//style|//nav|//*[@class='skip-link' or @class='filter']"):
        hidden.drop_tree()
    return [flat for text in root.xpath("//body//text()") if (flat := _flat(str(text)))]


def _flat(text: str) -> str:
    # NFKC: Chromium's fonts print "ﬀ", "ﬁ", "ﬃ" ligatures that read back as one character.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _across_pages(text: str, pages: list[str]) -> bool:
    """A table row taller than what is left of a page runs onto the next one, cell by cell: a cell's text then ends
    the next page's text, after the row's other cells on the first page."""
    return any(
        text[:k] in first and text[k:] in second
        for first, second in itertools.pairwise(pages)
        for k in range(1, len(text))
    )


def _without_marks(page: str, *marks: str) -> str:
    for mark in marks:
        at = page.rfind(mark)
        if at >= 0:
            page = page[:at] + page[at + len(mark) :]
    return page


def test_report_pdf_is_a4_and_shows_every_text_of_the_page(browser: Any, report: Path, tmp_path: Path) -> None:
    """``segur-bench report RUN --pdf`` (headless Chromium): A4 portrait, every text node of the HTML report is in the
    PDF's text (a clipped column or a closed section loses its text), the run id and page number on every page, and the
    metadata name the sealed report.html by its SHA-256."""
    from pypdf import PdfReader
    from typer.testing import CliRunner

    from bench.cli import app
    from reports.pdf import pdf_report_digest

    pdf_path = tmp_path / "rapport.pdf"
    result = CliRunner().invoke(app, ["report", str(report.parent), "--pdf", "--output", str(pdf_path)])
    assert result.exit_code == 0, result.output
    pdf = PdfReader(pdf_path)
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, f"A4 portrait attendu : {width} × {height} pt"
    pages = [_flat(page.extract_text() or "") for page in pdf.pages]
    assert len(pages) > 3
    run_id = report.parent.name
    # A text that runs onto the next page has that page's margin marks (run id, page number) in between: read the
    # pages without them.
    printed = "".join(
        _without_marks(text, f"segur-bench·{run_id}", f"{n}/{len(pages)}") for n, text in enumerate(pages, 1)
    )
    missing = [text for text in _text_nodes(report) if text not in printed and not _across_pages(text, pages)]
    assert not missing, f"{len(missing)} textes du rapport absents du PDF : {missing[:5]}"
    unmarked = [
        n for n, text in enumerate(pages, 1) if f"segur-bench·{run_id}" not in text or f"{n}/{len(pages)}" not in text
    ]
    assert not unmarked, f"pages sans l'id de campagne ou leur numéro : {unmarked[:10]}"
    assert pdf_report_digest(pdf_path) == hashlib.sha256(report.read_bytes()).hexdigest()
