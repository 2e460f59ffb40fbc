"""Write a run's reports: self-contained HTML for auditors, JSON (schema in report.schema.json), JUnit XML."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from jinja2 import Environment, PackageLoader, select_autoescape

from bench import signing
from bench.runner.results import EvidenceEntry, FindingResult, RunResult, ScenarioResult
from bench.seal import write_seal
from reports.i18n import labels, reason
from simulators.common.journal import journal_head

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def report_schema() -> dict[str, object]:
    schema = RunResult.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "segur-bench run report"
    return schema


def write_json(result: RunResult, path: Path) -> Path:
    path.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return path


def write_html(result: RunResult, path: Path, lang: str = "fr") -> Path:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]))
    legend = outcome_legend(result)
    env.globals["counted"] = lambda n, key: counted(n, key, lang)
    env.filters["reason"] = lambda text: reason(text, lang)
    env.filters["clock"] = lambda iso: clock(iso, lang)
    env.filters["number"] = lambda value: number(value, lang)
    template = env.get_template("report.html.j2")
    findings = {f.id: f for s in result.scenarios for step in s.steps for f in step.findings}
    files_by_exchange: dict[str, list[str]] = {}
    for entry in result.evidence:
        files_by_exchange.setdefault(entry.exchange_id, []).append(entry.file)
    sections: dict[str, list[object]] = {}
    outside = [q for q in result.requirements if q.verdict == "non_applicable"]  # not in the candidate's profile
    for requirement in result.requirements:
        if requirement.verdict != "non_applicable":
            sections.setdefault(requirement.section, []).append(requirement)
    path.write_text(
        template.render(
            r=result,
            t=labels(lang),
            lang=lang,
            findings=findings,
            files=files_by_exchange,
            sections=sections,
            outside=outside,
            started_local=local_time(result.started, lang),
            interruptions=[
                {k: local_time(v, lang) if k in ("interrupted", "resumed") else v for k, v in n.items()}
                for n in result.interruptions
            ],
            duration=seconds(result.duration_s, lang),
            legend=legend,
            cascades=cascades(result, legend, findings),
            evidence_groups=evidence_groups(result),
        ),
        encoding="utf-8",
    )
    return path


def evidence_groups(result: RunResult) -> list[tuple[ScenarioResult | None, list[EvidenceEntry]]]:
    """The evidence table grouped by the scenario whose steps recorded each exchange, in the run's order. An exchange
    no step listed (an SMTP session journaled as its connection closes, or the delivery notice of a message sent again
    in the background, just after its step) goes with the scenario of the exchange before it (scenarios run one after
    the other); one before any scenario's, last under its own heading."""
    owner: dict[str, ScenarioResult] = {}
    for scenario in result.scenarios:
        for step in scenario.steps:
            for exchange in step.exchanges:
                owner.setdefault(exchange, scenario)
    grouped: dict[str | None, list[EvidenceEntry]] = {}
    current: ScenarioResult | None = None
    for entry in result.evidence:
        current = owner.get(entry.exchange_id, current)
        grouped.setdefault(current.id if current else None, []).append(entry)
    ordered: list[tuple[ScenarioResult | None, list[EvidenceEntry]]] = [
        (s, grouped[s.id]) for s in result.scenarios if s.id in grouped
    ]
    if None in grouped:
        ordered.append((None, grouped[None]))
    return ordered


def outcome_legend(result: RunResult) -> list[tuple[str, str, str]]:
    """(code, channel, meaning) for every outcome code the evidence shows, as its channel's domain explains it (an
    unexplained code is listed too, with no meaning: the legend never hides a code)."""
    from bench.candidates.base import IDENTITY_STATUSES
    from bench.domains import registry

    seen = sorted({(e.outcome, e.channel) for e in result.evidence if e.outcome})
    legend = []
    for code, channel in seen:
        domain = registry.domain_of_channel(channel)
        meaning = domain.outcome_meaning(code) if domain else None
        if meaning is None and code in IDENTITY_STATUSES:
            meaning = "statut de l'identité dans le dossier du logiciel au moment de l'échange (RNIV)"
        legend.append((code, channel, meaning or ""))
    return legend


def cascades(
    result: RunResult, legend: list[tuple[str, str, str]], findings: dict[str, FindingResult]
) -> dict[str, dict[str, object]]:
    """For each non-conforming requirement: the refusals by a simulator behind its failing findings (outcome code and
    meaning) and the other non-conforming requirements failing on the same exchanges, so that a cascade from one
    defect reads as one (a refused VIHF also fails the feed that carried it)."""
    meanings = {(code, channel): meaning for code, channel, meaning in legend}
    by_exchange = {e.exchange_id: (e.outcome or "", e.channel) for e in result.evidence}
    failing: dict[str, set[str]] = {}
    for q in result.requirements:
        if q.verdict == "non_conforme":
            failing[q.id] = {
                f.exchange_id
                for f in (findings.get(i) for i in q.finding_ids)
                if f is not None and f.outcome == "fail" and f.exchange_id
            }
    notes: dict[str, dict[str, object]] = {}
    for requirement, exchanges in failing.items():
        refused = sorted(
            {
                f"{code} ({meanings.get((code, channel)) or channel})"
                for code, channel in (by_exchange.get(x, ("", "")) for x in exchanges)
                if code.startswith(("fault:", "error:")) or code == "refused"
            }
        )
        shared = sorted(other for other, theirs in failing.items() if other != requirement and theirs & exchanges)
        if refused or shared:
            notes[requirement] = {"refused": refused, "shared": shared}
    return notes


def counted(n: int, key: str, lang: str) -> str:
    """``n`` and its label agreed in number by the language's plural rule (CLDR, through Babel): « 1 réussi »,
    « 12 réussis », « 0 échec »; a label without a plural form stays as it is."""
    table = labels(lang)
    form = _plural_rule(lang)(n)
    return f"{n} {table.get(f'{key}_{form}', table.get(key, key))}"


@functools.cache
def _plural_rule(lang: str) -> Callable[[int], str]:
    from babel import Locale

    rule: Callable[[int], str] = Locale.parse(_LOCALES.get(lang, "fr_FR")).plural_form
    return rule


def local_time(iso: str, lang: str) -> str:
    """An ISO timestamp as a person in France reads it: Europe/Paris time, in the report's language."""
    return _paris(iso, lang, "long")


def clock(iso: str, lang: str) -> str:
    """An exchange's time to the millisecond, Europe/Paris (``30/11/2026 02:28:52,940`` in French)."""
    return _paris(iso, lang, "dd/MM/yyyy HH:mm:ss,SSS" if lang == "fr" else "yyyy-MM-dd HH:mm:ss.SSS")


def _paris(iso: str, lang: str, pattern: str) -> str:
    from babel.dates import format_datetime, get_timezone

    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_datetime(moment, pattern, tzinfo=get_timezone("Europe/Paris"), locale=_LOCALES.get(lang, "fr_FR"))


def number(value: float, lang: str) -> str:
    """A count with the language's grouping (``5 388 705`` in French)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=_LOCALES.get(lang, "fr_FR")))


def seconds(value: float, lang: str) -> str:
    """A duration with the language's decimal separator (``9,11 s`` in French)."""
    from babel.numbers import format_decimal

    return f"{format_decimal(round(value, 2), locale=_LOCALES.get(lang, 'fr_FR'))} s"


def write_junit(result: RunResult, path: Path) -> Path:
    """One test suite per scenario (a test case per step), plus one suite for the requirement grid (a failing
    requirement carries its first failing finding as message, every failing finding in its text)."""
    findings = {f.id: f for s in result.scenarios for step in s.steps for f in step.findings}
    suites = ET.Element("testsuites", name=f"segur-bench {result.profile}", time=f"{result.duration_s:.3f}")
    for scenario in result.scenarios:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{scenario.id} {scenario.title}",
            tests=str(len(scenario.steps)),
            time=f"{scenario.duration_s:.3f}",
        )
        for step in scenario.steps:
            case = ET.SubElement(
                suite, "testcase", classname=scenario.id, name=f"{step.id}: {step.title}", time=f"{step.duration_s:.3f}"
            )
            bad = [f for f in step.findings if f.outcome in ("fail", "error")]
            text = "\n".join(f"[{f.id}] {','.join(f.requirements)} {f.check_id}: {f.message}" for f in bad)
            if step.outcome == "fail":
                ET.SubElement(case, "failure", message=bad[0].message if bad else step.message).text = text
            elif step.outcome == "error":
                ET.SubElement(case, "error", message=(bad[0].message if bad else step.message)).text = text
            elif step.outcome == "skip":
                ET.SubElement(case, "skipped", message=step.message)
    grid = ET.SubElement(suites, "testsuite", name="Exigences", tests=str(len(result.requirements)))
    for requirement in result.requirements:
        name = requirement.id + (f" ({', '.join(requirement.official_ids)})" if requirement.official_ids else "")
        case = ET.SubElement(grid, "testcase", classname="requirements", name=f"{name}: {requirement.title}")
        if requirement.verdict == "non_conforme":
            failing = [findings[i] for i in requirement.finding_ids if i in findings and findings[i].outcome == "fail"]
            message = requirement.first_failure or requirement.reason
            ET.SubElement(case, "failure", message=message).text = "\n".join(
                f"[{f.id}] {f.check_id}: {f.message}" for f in failing
            )
        elif requirement.verdict == "erreur":
            ET.SubElement(case, "error", message=requirement.reason)
        elif requirement.verdict in ("non_teste", "non_applicable"):
            ET.SubElement(case, "skipped", message=requirement.reason)
    for suite in suites.iter("testsuite"):
        cases = list(suite.iter("testcase"))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_reports(result: RunResult, run_dir: Path, lang: str = "fr") -> dict[str, Path]:
    """Write every report, then seal the run directory (``seal.json``, signed): the reports name the journal chain's
    head and the signer, the seal vouches for every file including the reports."""
    result.journal_head = journal_head(run_dir)
    result.sealed_by = signing.user_fingerprint()
    paths = {
        "html": write_html(result, run_dir / "report.html", lang),
        "json": write_json(result, run_dir / "report.json"),
        "junit": write_junit(result, run_dir / "junit.xml"),
    }
    write_seal(run_dir)
    return paths


def dump_schema(path: Path = SCHEMA_FILE) -> None:
    path.write_text(json.dumps(report_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
