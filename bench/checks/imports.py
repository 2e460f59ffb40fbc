"""Imported documents filed as the CDA says (CDA-013, SC.CDA/INT.04): the record lists what came from the DMP or over
MSSanté under its type (the CDA code) and its date (the day of the CDA effectiveTime), the keys it is sorted by. Each
domain says what it brought in and with which keys; this judges the record's last listing against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.checks.base import Evidence
from bench.checks.registry import Verdict, failed, omitted, passed, skipped
from bench.fixtures.xds import day_of
from simulators.common.journal import Exchange
from simulators.common.namespaces import HL7
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

NS = {"h": HL7}
# What API 1.5 added to a listed document: a listing with none of them comes from software that does not say.
FILING_FIELDS = ("type_code", "date", "author", "replaced_by", "dmp_change")


@dataclass(frozen=True)
class ImportKeys:
    type_code: str
    day: str | None  # YYYY-MM-DD
    author_family: str = ""  # the author's family name (what the record must show of who wrote it)


def cda_keys(data: bytes) -> ImportKeys | None:
    """The type and date a CDA gives itself; None when it cannot be read."""
    try:
        root = parse_xml(data)
    except UnsafeXmlError:
        return None
    code = root.find("h:code", NS)
    time = root.find("h:effectiveTime", NS)
    day = day_of(time.get("value", "") if time is not None else "")
    family = root.findtext("h:author/h:assignedAuthor/h:assignedPerson/h:name/h:family", "", NS).strip()
    return ImportKeys(code.get("code", "") if code is not None else "", day, family)


def says_filing(listed: list[Any]) -> bool:
    """Whether the software says how it files its documents (API 1.5) rather than leaving it to the screen."""
    return any(isinstance(d, dict) and any(d.get(f) is not None for f in FILING_FIELDS) for d in listed)


def judge_imports(
    evidence: Evidence, record: Exchange | None, imported: dict[str, ImportKeys], source: str
) -> list[Verdict]:
    """Compare the keys the record lists each of ``imported`` under with the CDA's own (``source``: "du DMP", ...)."""
    if record is None or not imported:
        return [omitted(f"aucune lecture du dossier après l'arrivée de documents {source}", record)]
    listed = (evidence.json(record, "record") or {}).get("documents")
    if listed is None or not says_filing(listed):
        message = "le candidat ne dit pas sous quel type et quelle date il classe ses documents : à constater à l'écran"
        return [skipped(message, record)]
    shown = {str(d.get("unique_id")): d for d in listed if isinstance(d, dict)}
    judged = [uid for uid in imported if uid in shown]
    if not judged:
        return [omitted(f"aucun document {source} dans le dossier lu (intégration jugée par ailleurs)", record)]
    problems = []
    for uid in judged:
        expected, line = imported[uid], shown[uid]
        if line.get("type_code") != expected.type_code:
            problems.append(f"{uid} classé sous le type {line.get('type_code')!r}, le CDA dit {expected.type_code!r}")
        if expected.day and line.get("date") != expected.day:
            problems.append(f"{uid} daté du {line.get('date')!r}, le CDA du {expected.day} (effectiveTime)")
    if problems:
        return [failed(f"documents {source} mal classés : " + " ; ".join(problems), record)]
    return [passed(f"{len(judged)} document(s) {source} classé(s) sous le type et la date de leur CDA", record)]
