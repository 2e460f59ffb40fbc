"""Collect the identities a replayed journal carries (INSi traits and matricules, records, CDA recordTargets), so
that reports can be pseudonymised consistently."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.actions.core import DOCUMENT, RECORD
from bench.domains import registry as domains
from bench.replay.pseudonymise import Pseudonymiser
from simulators.common.journal import Exchange, read_part
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

HL7 = "{urn:hl7-org:v3}"
NAME_FIELDS = ("birth_name", "first_name", "first_names")


def _names_and_dates(values: dict[str, str | None], names: set[str], dates: set[str]) -> None:
    for key in NAME_FIELDS:
        value = values.get(key)
        if value:
            names.add(value)
    if values.get("birth_date"):
        dates.add(str(values["birth_date"]))


def collect(run_dir: Path, exchanges: list[Exchange]) -> tuple[set[str], set[str]]:
    """(names, dates) found in the journal: what each domain finds in its exchanges (INSi traits...), patient
    records and CDA documents."""
    names: set[str] = set()
    dates: set[str] = set()
    for exchange in exchanges:
        try:
            owner = domains.domain_of_channel(exchange.channel)
            if owner is not None and owner.identity_traits is not None:
                for traits in owner.identity_traits(run_dir, exchange):
                    _names_and_dates(traits, names, dates)
                    names.update(n for n in (traits.get("other_first_names") or "").split("|") if n)
            if exchange.transaction == RECORD:
                record = json.loads(read_part(run_dir, exchange, "record") or b"{}")
                _names_and_dates(record, names, dates)
            elif exchange.transaction == DOCUMENT:
                root = parse_xml(read_part(run_dir, exchange, "document") or b"")
                for element in root.iterfind(f"{HL7}recordTarget/{HL7}patientRole/{HL7}patient/{HL7}name/*"):
                    if element.text and element.text.strip():
                        names.add(element.text.strip())
                birth = root.find(f"{HL7}recordTarget/{HL7}patientRole/{HL7}patient/{HL7}birthTime")
                if birth is not None and birth.get("value"):
                    dates.add(str(birth.get("value"))[:8])
        except (ValueError, UnsafeXmlError):
            continue  # an unreadable item has nothing to collect; the checks report it
    return names, dates


def pseudonymise_text(text: str, pseudonymiser: Pseudonymiser, names: set[str], dates: set[str]) -> str:
    """``text`` with every collected name (whole, or word by word, in any case) and date replaced, and any
    matricule-like number pseudonymised."""
    words = {w for name in names for w in re.split(r"[\s\-']+", name) if len(w) > 2}
    pattern = "|".join(re.escape(w) for w in sorted(names | words, key=len, reverse=True) if w)
    if pattern:
        text = re.sub(
            rf"(?<!\w)(?:{pattern})(?!\w)", lambda m: pseudonymiser.word(m.group(0)), text, flags=re.IGNORECASE
        )
    known: dict[str, str] = {}
    for date in dates:
        known[date] = pseudonymiser.date(date)
        if "-" in date:
            compact = date.replace("-", "")
            known[compact] = pseudonymiser.date(compact)
    return pseudonymiser.text(text, known)
