"""Run CI-SIS Schematron files (ISO Schematron, query binding XSLT 2) with Saxon-HE (saxonche).

Compilation follows the ISO reference pipeline: lxml's bundled ISO stylesheets resolve includes and expand abstract
patterns, then produce an SVRL-reporting XSLT that Saxon compiles and runs (XPath 2 expressions run as written).
The compiled XSLT is cached on disk, keyed by the digest of the expanded schema; the Saxon executable is kept once
per process. Which volet schematron applies to a document is read from the pack itself: the ANS templateIds (or,
failing those, the document codes) its header rules assert.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bench.paths import state_dir
from simulators.common.xmlsafe import parse_xml

ISO_XSL = Path(etree.__file__).parent / "isoschematron" / "resources" / "xsl" / "iso-schematron-xslt1"
SCH = "http://purl.oclc.org/dsdl/schematron"
SVRL = "http://purl.oclc.org/dsdl/svrl"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
ANS_TEMPLATE = re.compile(r"1\.2\.250\.1\.213\.1\.1\.1\.\d+(?:\.\d+)*")
GENERIC_TEMPLATE = "1.2.250.1.213.1.1.1.1"
CODE_TEST = re.compile(r"@code\s*=\s*['\"]([^'\"]+)['\"]")
# Saxon-HE 13.1's optimiser rejects some stylesheets produced by the ISO skeleton ("Bad parent pointer in
# expression tree"); unoptimised compilation is correct and still fast for these sizes.
SAXON_OPTIMIZATION = ("http://saxon.sf.net/feature/optimizationLevel", "0")


class SchematronUnavailable(RuntimeError):
    """The schematron cannot be compiled or run (saxonche missing, incomplete pack...): the bench cannot judge."""


@dataclass(frozen=True)
class Assertion:
    """One failed assertion (or successful report) of an SVRL result."""

    id: str | None
    role: str | None
    message: str
    location: str
    test: str
    pattern: str | None

    @property
    def blocking(self) -> bool:
        return (self.role or "error").lower() not in ("warning", "warn", "info", "information")


@dataclass(frozen=True)
class VoletSchematron:
    path: Path
    template_ids: frozenset[str]
    codes: frozenset[str]

    @property
    def name(self) -> str:
        return self.path.stem


def _schematron_documents(path: Path, seen: set[Path] | None = None) -> list[Any]:
    """The parsed schematron and, recursively, the includes that exist (a missing one is left out here; running
    the schematron then reports it)."""
    seen = seen if seen is not None else set()
    resolved = path.resolve()
    if resolved in seen or not resolved.is_file():
        return []
    seen.add(resolved)
    root = parse_xml(resolved.read_bytes())
    documents = [root]
    for include in root.iter(f"{{{SCH}}}include"):
        href = include.get("href")
        if href:
            documents += _schematron_documents(resolved.parent / href, seen)
    return documents


def describe_volet(path: Path) -> VoletSchematron:
    header_ids: set[str] = set()
    all_ids: set[str] = set()
    codes: set[str] = set()
    for document in _schematron_documents(path):
        text = etree.tostring(document).decode()
        all_ids.update(ANS_TEMPLATE.findall(text))
        for rule in document.iter(f"{{{SCH}}}rule"):
            if not rule.get("context", "").strip().endswith("ClinicalDocument"):
                continue
            for test in (a.get("test", "") for a in rule.iter(f"{{{SCH}}}assert")):
                if "templateId" in test:
                    header_ids.update(ANS_TEMPLATE.findall(test))
                if "cda:code" in test.replace(" ", ""):
                    codes.update(CODE_TEST.findall(test))
    template_ids = (header_ids or all_ids) - {GENERIC_TEMPLATE}
    return VoletSchematron(path, frozenset(template_ids), frozenset(codes))


@functools.lru_cache(maxsize=8)
def volet_index(schematron_dir: str) -> tuple[VoletSchematron, ...]:
    return tuple(describe_volet(p) for p in sorted(Path(schematron_dir).glob("CI-SIS_*.sch")))


def pick_volet(index: tuple[VoletSchematron, ...], template_ids: set[str]) -> VoletSchematron | None:
    """The volet schematron for a document: the most specific whose ANS templateIds the document all declares,
    newest version first. A document code alone never picks one: generic LOINC codes are shared by volets and by
    minimal-structuring documents, and a wrong pick would be a false failure."""
    matching = [v for v in index if v.template_ids and v.template_ids <= template_ids]
    if not matching:
        return None
    best = max(len(v.template_ids) for v in matching)
    return sorted((v for v in matching if len(v.template_ids) == best), key=lambda v: v.name)[-1]


def volets_for_code(index: tuple[VoletSchematron, ...], code: str | None) -> list[str]:
    """Volet schematrons that assert ``code`` in their header: suggestions for ``--schematron``."""
    return sorted(v.name for v in index if code and code in v.codes)


class SchematronEngine:
    """One Saxon processor per process; compiled schematrons cached on disk and in memory."""

    _instance: SchematronEngine | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError as exc:  # pragma: no cover - saxonche is a declared dependency
            raise SchematronUnavailable("saxonche n'est pas installé") from exc
        self._processor = PySaxonProcessor(license=False)
        self._processor.set_configuration_property(*SAXON_OPTIMIZATION)
        self._xslt = self._processor.new_xslt30_processor()
        self._executables: dict[Path, Any] = {}
        self._steps = [
            etree.XSLT(etree.parse(str(ISO_XSL / name)))
            for name in ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt1.xsl")
        ]
        self.cache_dir = state_dir() / "cache" / "schematron"

    @classmethod
    def shared(cls) -> SchematronEngine:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def compile(self, schematron: Path) -> Any:
        key = schematron.resolve()
        if key not in self._executables:
            self._executables[key] = self._compile(key)
        return self._executables[key]

    def _compile(self, schematron: Path) -> Any:
        cached = self.stylesheet(schematron)
        try:
            return self._xslt.compile_stylesheet(stylesheet_file=str(cached))
        except Exception as exc:  # saxonche raises its own PySaxonApiError
            raise SchematronUnavailable(f"Saxon ne compile pas {schematron.name} : {exc}") from exc

    def stylesheet(self, schematron: Path) -> Path:
        """The XSLT the schematron compiles to (cached on disk by content): what Saxon runs, here or from Java."""
        include, expand, to_xslt = self._steps
        try:
            parser = etree.XMLParser(no_network=True, resolve_entities=False)
            expanded = expand(include(etree.parse(str(schematron), parser)))
        except (etree.XSLTApplyError, etree.XMLSyntaxError, OSError) as exc:
            raise SchematronUnavailable(f"schématron {schematron.name} illisible ou incomplet : {exc}") from exc
        # The ISO XSLT 1 skeleton writes the expressions as they are; Saxon then runs them as XPath 2.
        expanded.getroot().set("queryBinding", "xslt")
        digest = hashlib.sha256(etree.tostring(expanded)).hexdigest()
        cached = self.cache_dir / f"{digest}.xsl"
        if not cached.exists():
            stylesheet = to_xslt(expanded)
            # document() calls in the schematron (value sets) resolve against the schematron's own folder.
            stylesheet.getroot().set(XML_BASE, schematron.parent.as_uri() + "/")
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(etree.tostring(stylesheet))
        return cached

    def validate(self, schematron: Path, document: Path) -> list[Assertion]:
        """Failed assertions and successful reports of ``schematron`` on the document file (already parsed safely
        by the caller: it carries no DTD). Saxon reads the file itself, so its declared encoding is honoured."""
        executable = self.compile(schematron)
        try:
            result = executable.transform_to_string(source_file=str(document))
        except Exception as exc:
            raise SchematronUnavailable(f"exécution du schématron {schematron.name} impossible : {exc}") from exc
        if result is None:
            raise SchematronUnavailable(f"le schématron {schematron.name} n'a produit aucun rapport")
        return _read_svrl(result.encode())


def _read_svrl(data: bytes) -> list[Assertion]:
    svrl = parse_xml(data)
    assertions = []
    pattern = None
    for element in svrl.iter():
        if element.tag == f"{{{SVRL}}}active-pattern":
            pattern = element.get("id") or element.get("name")
        if element.tag in (f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
            text = " ".join((element.findtext(f"{{{SVRL}}}text") or "").split())
            assertions.append(
                Assertion(
                    element.get("id"),
                    element.get("role"),
                    text,
                    element.get("location") or "",
                    element.get("test") or "",
                    pattern,
                )
            )
    return assertions
