"""Honest CDA figures: the bench beside the tools vendors run today, on the same official-size documents, measured in
the same run. Saxon-HE Java runs the same compiled schematron (the XSLT of the document's own volet) in one JVM over
the whole folder, as a build would, and once per document, labelled so; ``xmllint --schema`` validates the same
documents against the same CDA schema. Each figure is repeated and given as min / median / max, each ratio as the
ratio of runs made side by side."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from bench.validation.packs import CDA_SCHEMA, ValidationPack

SAXON_JARS = (Path("/usr/share/java/Saxon-HE.jar"), Path("/usr/share/java/saxon-he.jar"))
# ANS's examples of official size: a light volet, the heaviest one (392 KB), and the biggest schematron.
EXAMPLES = ("VAC_2023.01.xml", "ANEST-CR-CPA_2022.01.xml", "VSM_1.4_2022.01.xml")
HL7 = "{urn:hl7-org:v3}"


@dataclass(frozen=True)
class Spread:
    low: float
    median: float
    high: float

    @staticmethod
    def of(values: list[float]) -> Spread:
        return Spread(round(min(values), 2), round(statistics.median(values), 2), round(max(values), 2))

    def __str__(self) -> str:
        return f"{self.median:g} ({self.low:g}–{self.high:g})"


@dataclass(frozen=True)
class PeerFigure:
    what: str
    documents: int
    bench: str
    bench_per_s: Spread
    peer: str
    peer_per_s: Spread | None
    ratio: Spread | None  # bench / peer, run by run (> 1: the bench is faster)
    note: str = ""


def distinct_copies(example: Path, folder: Path, copies: int) -> list[Path]:
    """``copies`` of ``example``, each with its own document id (no cache keyed on content can help)."""
    folder.mkdir(parents=True, exist_ok=True)
    tree = etree.parse(str(example), etree.XMLParser(resolve_entities=False, no_network=True))
    identifier = tree.getroot().find(f"{HL7}id")
    base = identifier.get("extension", "") if identifier is not None else ""
    paths = []
    for index in range(copies):
        if identifier is not None:
            identifier.set("extension", f"{base}.{index}")
        path = folder / f"{example.stem}-{index:05d}.xml"
        tree.write(str(path), xml_declaration=True, encoding="UTF-8")
        paths.append(path)
    return paths


def _timed(action: Callable[[], object]) -> float:
    clock = time.perf_counter()
    action()
    return time.perf_counter() - clock


def _run(command: list[str]) -> float:
    """Seconds ``command`` takes, start-up included (as its users pay it)."""
    return _timed(lambda: subprocess.run(command, capture_output=True, check=True))


def saxon_jar() -> Path | None:
    return next((jar for jar in SAXON_JARS if jar.is_file()), None) if shutil.which("java") else None


def schematron_figures(pack: ValidationPack, copies: int = 200, repeats: int = 3) -> list[PeerFigure]:
    """Per official example: the bench's schematron (compiled once, every copy in one process) against Saxon-HE Java
    running the same compiled XSLT in one JVM over the folder, and once per document (a JVM each)."""
    from bench.validation.schematron import SchematronEngine, pick_volet, volet_index

    folder_sch = pack.schematron_dir()
    if folder_sch is None:
        return []
    engine = SchematronEngine.shared()
    jar = saxon_jar()
    figures = []
    for name in EXAMPLES:
        example = pack.root / "examples" / name
        if not example.is_file():
            continue
        root = etree.parse(str(example)).getroot()
        volet = pick_volet(volet_index(str(folder_sch)), {t.get("root", "") for t in root.findall(f"{HL7}templateId")})
        if volet is None:
            continue
        with tempfile.TemporaryDirectory(prefix="segur-bench-peers-") as tmp:
            files = distinct_copies(example, Path(tmp) / "in", copies)
            stylesheet = engine.stylesheet(volet.path)  # the XSLT of this document's own volet, for both sides
            engine.validate(volet.path, files[0])  # compiled once, out of the measure
            bench_rates, java_rates = [], []
            out = Path(tmp) / "out"
            folder_run = ["java", "-cp", str(jar), "net.sf.saxon.Transform"]
            folder_run += [f"-s:{files[0].parent}", f"-o:{out}", f"-xsl:{stylesheet}"]
            schematron = volet.path
            for _ in range(repeats):
                clock = time.perf_counter()
                for path in files:
                    engine.validate(schematron, path)
                bench_rates.append(copies / (time.perf_counter() - clock))
                if jar is not None:
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    java_rates.append(copies / _run(folder_run))
            size = example.stat().st_size // 1024
            what = f"schématron {volet.name} sur {name} ({size} Ko)"
            bench = "banc (saxonche, compilé une fois)"
            peer = "Saxon-HE Java, une JVM pour tout le dossier"
            if not java_rates:
                figures.append(PeerFigure(what, copies, bench, Spread.of(bench_rates), peer, None, None, "Java absent"))
                continue
            ratios = [b / j for b, j in zip(bench_rates, java_rates, strict=True)]
            figures.append(
                PeerFigure(what, copies, bench, Spread.of(bench_rates), peer, Spread.of(java_rates), Spread.of(ratios))
            )
            single = ["java", "-jar", str(jar), f"-s:{files[0]}", f"-xsl:{stylesheet}"]
            per_document = [1 / _run(single), 1 / _run(single)]
            figures.append(
                PeerFigure(
                    what,
                    copies,
                    bench,
                    Spread.of(bench_rates),
                    "Saxon-HE Java, une JVM par document (2 essais)",
                    Spread.of(per_document),
                    Spread.of([statistics.median(bench_rates) / r for r in per_document]),
                )
            )
    return figures


def xsd_figures(pack: ValidationPack, copies: int = 200, repeats: int = 3) -> list[PeerFigure]:
    """The bench's rules + XSD (one core) against ``xmllint --noout --schema`` on the same documents and schema."""
    from bench.checks.base import CheckContext, document_evidence
    from bench.checks.registry import get

    if not pack.has_cda_schema() or shutil.which("xmllint") is None:
        return []
    example = pack.root / "examples" / EXAMPLES[0]
    xsd = pack.root / CDA_SCHEMA
    rule_checks = ("cda.schema", "cda.header", "cda.record_target", "cda.actors", "cda.body")
    with tempfile.TemporaryDirectory(prefix="segur-bench-peers-") as tmp:
        files = distinct_copies(example, Path(tmp), copies)

        def bench() -> None:
            for path in files:
                evidence, exchange = document_evidence(path.parent, path.name)
                context = CheckContext(focus=exchange, pack=pack)
                for check_id in rule_checks:
                    get(check_id).function(evidence, context)

        bench()  # schema loaded once, out of the measure
        bench_rates, lint_rates = [], []
        command = ["xmllint", "--noout", "--schema", str(xsd), *map(str, files)]
        for _ in range(repeats):
            bench_rates.append(copies / _timed(bench))
            lint_rates.append(copies / _timed(lambda: subprocess.run(command, capture_output=True, check=False)))
    ratios = [b / x for b, x in zip(bench_rates, lint_rates, strict=True)]
    return [
        PeerFigure(
            f"règles + XSD sur {EXAMPLES[0]}",
            copies,
            "banc, un cœur (XSD et règles d'en-tête)",
            Spread.of(bench_rates),
            "xmllint --schema (XSD seul)",
            Spread.of(lint_rates),
            Spread.of(ratios),
        )
    ]


@dataclass(frozen=True)
class CheckVersusSaxon:
    documents: int
    check_s: float  # ``segur-bench check`` with every check (XSD, rules, schematron), fresh process, all cores
    check_peak_rss_mib: float
    saxon_s: float | None  # Saxon-HE Java, the VAC schematron alone, one JVM over the folder
    ratio: float | None  # saxon_s / check_s (> 1: the bench is faster)


def check_versus_saxon(pack: ValidationPack, copies: int = 1000) -> CheckVersusSaxon | None:
    """The issue's yardstick: ``check`` with every check over ``copies`` official VAC documents, against Saxon-HE
    Java running the VAC schematron alone over the same folder in one JVM."""
    from bench.perf.rss import BENCH, measured
    from bench.validation.schematron import SchematronEngine

    example = pack.root / "examples" / EXAMPLES[0]
    folder_sch = pack.schematron_dir()
    if not example.is_file() or folder_sch is None:
        return None
    with tempfile.TemporaryDirectory(prefix="segur-bench-peers-") as tmp:
        files = distinct_copies(example, Path(tmp) / "in", copies)
        run = measured([*BENCH, "check", str(files[0].parent), "--pack", str(pack.root)])
        jar = saxon_jar()
        saxon = None
        if jar is not None:
            stylesheet = SchematronEngine.shared().stylesheet(folder_sch / "CI-SIS_VAC_2023.01.sch")
            out = Path(tmp) / "out"
            out.mkdir()
            command = ["java", "-cp", str(jar), "net.sf.saxon.Transform"]
            saxon = round(_run([*command, f"-s:{files[0].parent}", f"-o:{out}", f"-xsl:{stylesheet}"]), 3)
    ratio = round(saxon / run.seconds, 2) if saxon else None
    return CheckVersusSaxon(copies, run.seconds, run.peak_rss_mib, saxon, ratio)
