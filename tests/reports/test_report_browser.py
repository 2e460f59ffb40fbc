"""The HTML report in a real headless browser (Debian's Chromium driven by Playwright): no serious or critical axe-core
violation, no horizontal page scroll on a phone (390 px) or a desktop (1440 px), every link resolves, and printed to
an A4 PDF nothing is clipped (every requirement id, finding and evidence digest of the page is in the PDF's text).

Chromium is a system package: where it is absent the tests are skipped, unless ``SEGUR_BENCH_BROWSER_TESTS=required``
(CI sets it, after installing it) turns its absence into a failure."""

from __future__ import annotations

import io
import os
import re
import shutil
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


def test_printed_to_a4_nothing_is_clipped(browser: Any, report: Path) -> None:
    """Every requirement id, every failing finding's check and every evidence digest shown in the page is in the
    text of the A4 PDF Chromium prints (a clipped column loses its text)."""
    from pypdf import PdfReader

    page = browser.new_page()
    page.goto(report.as_uri())
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, f"A4 portrait attendu : {width} × {height} pt"
    printed = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in pdf.pages))
    html = report.read_text(encoding="utf-8")
    wanted = set(re.findall(r"\b[A-Z]{3}-\d{3}\b", html)) | set(re.findall(r"\b[0-9a-f]{64}\b", html))
    wanted |= {"ins.shared_only_when_qualified", "mss.sasl_ir", "psc.dmp_identity"}
    missing = sorted(w for w in wanted if w not in printed)
    assert not missing, missing[:10]
    assert len(pdf.pages) > 3
    page.close()
