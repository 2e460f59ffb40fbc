"""Reports: a self-contained French HTML, a JSON report matching its shipped schema, JUnit XML."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.runner.engine import Campaign, CampaignOptions
from bench.runner.results import RunResult
from reports.render import SCHEMA_FILE, evidence_groups, report_schema, write_reports
from simulators.common.pki import BenchPki


@pytest.fixture(scope="module")
def defective_run(
    catalogue: Catalogue, pki: BenchPki, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RunResult, Path]:
    run_dir = tmp_path_factory.mktemp("reports") / "run"
    options = CampaignOptions(profile="medecin-ville", defects=["ins.share_unqualified"])
    result = Campaign(catalogue, ReferenceCandidate(["ins.share_unqualified"]), options, run_dir, pki).run()
    write_reports(result, run_dir)
    return result, run_dir


def test_html_is_french_self_contained_and_links_evidence(defective_run: tuple[RunResult, Path]) -> None:
    result, run_dir = defective_run
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    for label in ("Grille des exigences", "Non conforme", "Conforme", "Non testé", "INS/va1.53", "Preuves (empreintes"):
        assert label in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must not load anything from the network"
    for href in re.findall(r'href="(exchanges/[^"]+)"', html):
        assert (run_dir / href).is_file()
    assert not re.search(r'href="exchanges/[^"]+\.bin"', html), "every evidence file opens in a browser"
    assert re.search(r'href="exchanges/[^"]+-dmp\.iti41\.request-part1\.xml"', html), "the fed CDA, split out"
    failing = next(r for r in result.requirements if r.verdict == "non_conforme")
    assert failing.id == "INS-005" and "transmet l&#39;INS" in html
    # The header says which release or draft of ANS's requirements the profile follows.
    assert result.profile_grid.startswith("REM LGC vague 2 publié") and "Exigences suivies" in html


def test_html_leads_with_the_non_conforming_requirements_and_reads_on_any_screen_and_paper(
    defective_run: tuple[RunResult, Path],
) -> None:
    """One row per non-conforming requirement first (ANS id, criticality, first failing finding, evidence links);
    every requirement with its statement, source, confidence and what the auditor verifies; phone and A4 layouts."""
    _result, run_dir = defective_run
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    top = html[html.index('id="nonconforming"') : html.index('id="requirements"')]
    assert "INS/va1.53" in top and "INS-005" in top and "critique" in top and "ins.shared_only_when_qualified" in top
    assert re.search(r'href="exchanges/[^"]+"', top), "the non-conforming row links its evidence"
    assert html.index('id="nonconforming"') < html.index('id="nonconformities"')
    for needed in ('name="viewport"', "<main", 'class="skip-link"', '<th scope="col">', "@page", "size: A4", "<thead>"):
        assert needed in html, needed
    assert "Ce que l&#39;auditeur vérifie" in html and "Source : " in html and "confiance" in html
    assert "à attester" in html and "preuve documentaire attendue" in html  # Non testé, told apart
    assert '<details><summary class="small">énoncé' not in html  # statements are printed, not folded
    legend = html[html.index("Codes de résultat des échanges") :]
    assert "<code>CR00</code>" in legend and "une identité trouvée" in legend  # raw outcome codes explained
    assert re.search(r"\b(0|1) réussi\b", html) or re.search(r"\b([2-9]|\d\d+) réussis\b", html)  # CLDR plurals
    assert not re.search(r"\b([2-9]|\d\d+) réussi\b", html) and not re.search(r"\b([2-9]|\d\d+) échec\b", html)
    assert "heure de Paris" in html and re.search(r"\d+,\d+ s", html)  # local time, French decimals
    dmp_017 = html[html.index('id="req-DMP-017"') :]
    assert "déclare afficher" in dmp_017[: dmp_017.index("</tr>")]  # rests on the software's own account


def test_evidence_is_grouped_by_the_scenario_that_recorded_it(defective_run: tuple[RunResult, Path]) -> None:
    """Each exchange sits under the scenario whose step recorded it, in the run's order, with Paris times; one no step
    listed goes with the exchange before it; one before any scenario's comes last, under its own heading. Unlisted
    ones are journaled just after their cause: an SMTP session as it closes, a notification (DSN) the operator puts in
    the mailbox for a message the software sent again in the background once the step had seen it."""
    result, run_dir = defective_run
    groups = evidence_groups(result)
    assert sum(len(entries) for _s, entries in groups) == len(result.evidence)
    for scenario, entries in groups:
        assert scenario is not None
        recorded = {x for step in scenario.steps for x in step.exchanges}
        assert entries[0].exchange_id in recorded
        late = ("mss.smtp.session", "mss.delivery")
        assert all(e.exchange_id in recorded or e.transaction in late for e in entries)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    evidence = html[html.index('id="evidence"') :]
    first, second = groups[0][0], groups[1][0]
    assert first and second and evidence.index(f'id="ev-{first.id}"') < evidence.index(f'id="ev-{second.id}"')
    assert re.search(
        r'<time class="small" datetime="[^"]+\+00:00">\d\d/\d\d/\d{4} \d\d:\d\d:\d\d,\d{3}</time>', evidence
    )
    early = result.evidence[0].model_copy(update={"exchange_id": "000000-early"})
    stray = result.model_copy(update={"evidence": [early, *result.evidence]})
    last_scenario, last_entries = evidence_groups(stray)[-1]
    assert last_scenario is None and [e.exchange_id for e in last_entries] == ["000000-early"]


def test_html_in_english(defective_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    result, _run_dir = defective_run
    paths = write_reports(result, tmp_path, lang="en")
    html = paths["html"].read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Requirement grid" in html and "Non-compliant" in html
    assert "at least one check fails" in html and "au moins une vérification échoue" not in html  # reasons translated
    assert '<span lang="fr">' in html and "to be attested" in html  # French-only messages marked as such


def test_json_report_follows_the_shipped_schema(defective_run: tuple[RunResult, Path]) -> None:
    _result, run_dir = defective_run
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == report_schema(), (
        "reports/report.schema.json is stale: run `python -c 'from reports.render import dump_schema; dump_schema()'`"
    )
    data = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert RunResult.model_validate(data).exit_code == 1
    assert data["summary"]["non_conforme"] == 1 and data["schema_version"] == "1.0"


def test_junit_counts_failures(defective_run: tuple[RunResult, Path]) -> None:
    _result, run_dir = defective_run
    root = ET.parse(run_dir / "junit.xml").getroot()
    grid = next(s for s in root.iter("testsuite") if s.get("name") == "Exigences")
    assert grid.get("failures") == "1"
    failed = [c for c in grid.iter("testcase") if c.find("failure") is not None]
    assert failed and (failed[0].get("name") or "").startswith("INS-005 (INS/va1.53)")
    failure = failed[0].find("failure")
    assert failure is not None and (failure.get("message") or "").startswith("ins.shared_only_when_qualified : ")
    assert "ins.shared_only_when_qualified" in (failure.text or "")
    assert sum(int(s.get("failures", "0")) for s in root.iter("testsuite") if s is not grid) >= 1


def test_a_cascade_from_one_refusal_reads_as_one(catalogue: Catalogue, pki: BenchPki, tmp_path: Path) -> None:
    """An unsigned VIHF gets the feed refused by the DMP: the two requirements failing on that exchange say so, each
    pointing to the other, with the refusal's code and meaning."""
    defects = ["dmp.feed_vihf_unsigned", "dmp.metadata_without_class"]
    options = CampaignOptions(profile="medecin-ville", scenario_ids=["DMP-SC-01"], defects=defects)
    result = Campaign(catalogue, ReferenceCandidate(defects), options, tmp_path / "run", pki).run()
    html = write_reports(result, tmp_path / "run")["html"].read_text(encoding="utf-8")
    top = html[html.index('id="nonconforming"') : html.index('id="requirements"')]
    assert 'échange refusé par le simulateur : <span lang="fr">fault:wsse:FailedCheck' in top
    assert top.count("même échange en échec que") == 2 and 'href="#req-DMP-003"' in top and 'href="#req-DMP-004"' in top
