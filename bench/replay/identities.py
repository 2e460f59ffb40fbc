"""Collect the identities a replayed journal carries (INSi traits and matricules, records, CDA recordTargets), so
that reports can be pseudonymised consistently."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.actions.core import DOCUMENT, RECORD
from bench.domains import registry as domains
from bench.replay.pseudonymise import Pseudonymiser
from bench.runner.results import FindingResult, RunResult, StepResult
from simulators.common.journal import Exchange, read_part
from simulators.common.xmlsafe import UnsafeXmlError, parse_xml

HL7 = "{urn:hl7-org:v3}"
NAME_FIELDS = ("birth_name", "first_name", "first_names")


# A birth place code (INSOC / COG): department (2A/2B for Corsica) and commune, or 99 and a country.
PLACE_CODE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")


@dataclass
class Identities:
    """What a journal says about the people in it, to be pseudonymised wherever it is quoted."""

    names: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)  # birth place codes: with sex and birth month, they narrow a NIR

    def add(self, values: dict[str, Any]) -> None:
        for key in NAME_FIELDS:
            if values.get(key):
                self.names.add(str(values[key]))
        self.names.update(n for n in str(values.get("other_first_names") or "").split("|") if n)
        if values.get("birth_date"):
            self.dates.add(str(values["birth_date"]))
        place = str(values.get("birth_place") or "").strip().upper()
        if PLACE_CODE.fullmatch(place):
            self.places.add(place)


def collect(run_dir: Path, exchanges: list[Exchange]) -> Identities:
    """The names, dates and birth places found in the journal: what each domain finds in its exchanges (INSi
    traits...), patient records and CDA documents."""
    found = Identities()
    patient = f"{HL7}recordTarget/{HL7}patientRole/{HL7}patient"
    for exchange in exchanges:
        try:
            owner = domains.domain_of_channel(exchange.channel)
            if owner is not None and owner.identity_traits is not None:
                for traits in owner.identity_traits(run_dir, exchange):
                    found.add(traits)
            if exchange.transaction == RECORD:
                record = json.loads(read_part(run_dir, exchange, "record") or b"{}")
                found.add(record if isinstance(record, dict) else {})
            elif exchange.transaction == DOCUMENT:
                root = parse_xml(read_part(run_dir, exchange, "document") or b"")
                for element in root.iterfind(f"{patient}/{HL7}name/*"):
                    if element.text and element.text.strip():
                        found.names.add(element.text.strip())
                birth = root.find(f"{patient}/{HL7}birthTime")
                county = root.findtext(f"{patient}/{HL7}birthplace/{HL7}place/{HL7}addr/{HL7}county")
                found.add(
                    {
                        "birth_date": str(birth.get("value"))[:8] if birth is not None and birth.get("value") else None,
                        "birth_place": county,
                    }
                )
        except (ValueError, UnsafeXmlError):
            continue  # an unreadable item has nothing to collect; the checks report it
    return found


# The bench's own identifiers: requirement ids (INS-001), scenario ids (INS-SC-01), and the parts of the run result
# that are vocabulary, never identity. A name that happens to be a word of them ("Ins") must not rename them.
_BENCH_IDS = re.compile(r"(?<![\w-])[A-Z]{2,5}-(?:SC-)?\d{2,3}(?![\w-])")


def text_hider(
    pseudonymiser: Pseudonymiser,
    names: set[str],
    dates: set[str],
    protected: Collection[str] = (),
    places: Collection[str] = (),
) -> Callable[[str], str]:
    """A function giving a text with every collected name (whole, or word by word, in any case), date and birth place
    code replaced, and any matricule-like number pseudonymised; requirement and scenario ids, and the ``protected``
    tokens (check ids, transactions, actions), are left as they are. The patterns are built once: a report has
    thousands of texts."""
    shield_tokens = "|".join(re.escape(token) for token in sorted(set(protected), key=len, reverse=True) if token)
    shield = re.compile(rf"(?<![\w.])(?:{shield_tokens})(?![\w])") if shield_tokens else None
    words = {w for name in names for w in re.split(r"[\s\-']+", name) if len(w) > 2}
    alternatives = "|".join(re.escape(w) for w in sorted(names | words, key=len, reverse=True) if w)
    identities = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if alternatives else None
    known: dict[str, str] = {}
    alternatives_places = "|".join(re.escape(p) for p in sorted(places, reverse=True))
    coded = re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives_places})(?![0-9A-Za-z])") if places else None
    for date in dates:
        known[date] = pseudonymiser.date(date)
        if "-" in date:
            compact = date.replace("-", "")
            known[compact] = pseudonymiser.date(compact)

    def hide(text: str) -> str:
        kept: list[str] = []
        # A mark no input carries (a nonce), so that hostile text cannot forge a placeholder.
        mark = f"\ue000{secrets.token_hex(4)}"

        def keep(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"{mark}{len(kept) - 1}\ue001"

        text = _BENCH_IDS.sub(keep, text)
        if shield is not None:
            text = shield.sub(keep, text)
        if identities is not None:
            text = identities.sub(lambda m: pseudonymiser.word(m.group(0)), text)
        if coded is not None:
            text = coded.sub(lambda m: pseudonymiser.place(m.group(0)), text)
        text = pseudonymiser.text(text, known)
        return re.sub(rf"{re.escape(mark)}(\d+)\ue001", lambda m: kept[int(m.group(1))], text)

    return hide


def bench_vocabulary() -> frozenset[str]:
    """Tokens of the bench's own vocabulary that texts quote: check ids, action names, transactions and channels."""
    from bench.actions.registry import all_actions
    from bench.checks.registry import all_checks
    from bench.domains import registry as domains

    vocabulary = set(all_checks()) | set(all_actions()) | set(domains.channels()) | set(domains.candidate_views())
    vocabulary |= {t for c in all_checks().values() for t in c.applies_to}
    vocabulary |= {t for a in all_actions().values() for t in (*a.causes, a.focus or "")}
    return frozenset(v for v in vocabulary if v)


def pseudonymise_result(result: RunResult, hide: Callable[[str], str]) -> RunResult:
    """The run result with ``hide`` applied to every text that may quote an identity (titles, messages, reasons,
    pointers, exchange and file names), field by field: ids, verdicts and counts are structure, never rewritten."""

    def finding(item: FindingResult) -> FindingResult:
        return item.model_copy(
            update={
                "message": hide(item.message),
                "pointer": hide(item.pointer) if item.pointer else item.pointer,
                "exchange_id": hide(item.exchange_id) if item.exchange_id else item.exchange_id,
            }
        )

    def step(item: StepResult) -> StepResult:
        return item.model_copy(
            update={
                "title": hide(item.title),
                "message": hide(item.message),
                "exchanges": [hide(x) for x in item.exchanges],
                "findings": [finding(f) for f in item.findings],
            }
        )

    scenarios = [
        s.model_copy(update={"title": hide(s.title), "steps": [step(x) for x in s.steps]}) for s in result.scenarios
    ]
    # The catalogue's own texts (statement, source, verification, checklist) quote no patient: left as they are.
    requirements = [
        r.model_copy(update={"reason": hide(r.reason), "first_failure": hide(r.first_failure)})
        for r in result.requirements
    ]
    evidence = [
        e.model_copy(update={"exchange_id": hide(e.exchange_id), "file": hide(e.file)}) for e in result.evidence
    ]
    return result.model_copy(
        update={
            "scenarios": scenarios,
            "requirements": requirements,
            "evidence": evidence,
            "identities": "pseudonymisees",
        }
    )
