"""Whether a run's report and its evidence are intact: the journal's hash chain is whole and is the one the report
digested, every evidence file is the one the journal recorded, the report lists exactly those, and the signed seal
vouches for every file of the run. What an auditor runs before trusting a report."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from bench.seal import seal_problems
from simulators.common.journal import (
    JOURNAL_NAME,
    EvidenceAltered,
    chain_problems,
    journal_head,
    read_journal,
    read_part,
)

REPORT_JSON = "report.json"


def verify_run(run_dir: Path, expected_signer: str | None = None) -> tuple[list[str], str | None]:
    """(problems found, empty when intact; fingerprint of the key that sealed the run). Reads report.json, seal.json,
    journal.jsonl and every file of ``run_dir``."""
    journal = run_dir / JOURNAL_NAME
    if not journal.is_file() or journal.is_symlink():
        return [f"{JOURNAL_NAME} absent : rien à vérifier"], None
    problems, signer = seal_problems(run_dir, expected_signer)
    problems += chain_problems(run_dir)
    try:
        report = json.loads((run_dir / REPORT_JSON).read_text(encoding="utf-8"))
        expected_journal = str(report["journal_sha256"])
        expected_head = str(report.get("journal_head") or "")
        # Digests, not names: a pseudonymised report renames exchanges and files, never their SHA-256.
        listed = Counter(str(e["sha256"]) for e in report["evidence"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [*problems, f"{REPORT_JSON} illisible : {exc}"], signer
    if hashlib.sha256(journal.read_bytes()).hexdigest() != expected_journal:
        problems.append(f"{JOURNAL_NAME} : SHA-256 différent de celui du rapport (journal modifié après le rapport)")
    if expected_head != journal_head(run_dir):
        problems.append(f"{REPORT_JSON} : tête de chaîne du journal absente ou différente de celle du journal")
    recorded: Counter[str] = Counter()
    names: dict[str, str] = {}
    for exchange in read_journal(run_dir):
        for part, ref in exchange.files.items():
            recorded[ref.sha256] += 1
            names.setdefault(ref.sha256, ref.name)
            try:
                read_part(run_dir, exchange, part)
            except (EvidenceAltered, OSError) as exc:
                problems.append(str(exc))
    problems += [f"{names[d]} : au journal, absent du rapport" for d in sorted(recorded - listed)]
    problems += [f"empreinte {d[:12]}… du rapport : aucune preuve du journal" for d in sorted(listed - recorded)]
    return problems, signer
