"""Pseudonymised replays leak no identity: every scenario of a campaign exported, replayed with the defaults, and every
output searched for the names, birth dates, birth places and matricules of every test identity and every scenario's
typed traits; every requirement id stays intact."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from bench.candidates.reference import ReferenceCandidate
from bench.catalogue.loader import Catalogue
from bench.cli import app
from bench.replay.bundle import export_run
from bench.runner.engine import Campaign, CampaignOptions
from simulators.common.pki import BenchPki
from simulators.insi.identities import load_identities
from simulators.insi.ins import ins_key

# Defects whose findings quote identities (traits compared with INSi's, INS refused), so that there is text to hide.
DEFECTS = ["ins.keep_typed_traits", "ins.share_unqualified"]


def _secrets(catalogue: Catalogue) -> dict[str, re.Pattern[str]]:
    values: set[str] = set()
    for person in load_identities().persons:
        traits = person.traits
        values |= {traits.birth_name, *traits.first_names.split(), traits.birth_place}
        values |= {traits.birth_date, traits.birth_date.replace("-", ""), person.nir, person.nir + ins_key(person.nir)}
    for scenario in catalogue.scenarios.values():
        for patient in scenario.fixtures.patients:
            typed = patient.typed
            values |= {typed.birth_name, *typed.first_names, typed.birth_date, typed.birth_date.replace("-", "")}
    words = {v for v in values if v and len(v) > 3}
    return {v: re.compile(rf"(?<![0-9A-Za-zÀ-ÿ]){re.escape(v)}(?![0-9A-Za-zÀ-ÿ])", re.IGNORECASE) for v in words}


def test_no_identity_survives_a_pseudonymised_replay_of_every_scenario(
    catalogue: Catalogue, pki: BenchPki, tmp_path: Path
) -> None:
    options = CampaignOptions(profile="medecin-ville", defects=DEFECTS, timeout_factor=0.1)
    run_dir = tmp_path / "run"
    live = Campaign(catalogue, ReferenceCandidate(DEFECTS), options, run_dir, pki).run()
    config = {"profile": "medecin-ville", "timeout_factor": 0.1, "candidate": {"kind": "reference", "defects": DEFECTS}}
    (run_dir / "run.json").write_text(json.dumps({"config": config}), encoding="utf-8")
    export_run(run_dir, tmp_path / "bundle")
    secrets = _secrets(catalogue)
    clear_text = live.model_dump_json()
    quoted = [v for v, pattern in secrets.items() if pattern.search(clear_text)]
    assert len(quoted) > 10  # the live report names people: the replay must not

    result = CliRunner().invoke(app, ["replay", str(tmp_path / "bundle"), "--out", str(tmp_path / "replays")])
    assert result.exit_code == 1, result.output
    replay_dir = next((tmp_path / "replays").iterdir())
    outputs = {"console": result.output}
    outputs |= {n: (replay_dir / n).read_text(encoding="utf-8") for n in ("report.html", "report.json", "junit.xml")}
    leaks = {name: [v for v, p in secrets.items() if p.search(text)] for name, text in outputs.items()}
    assert not any(leaks.values()), leaks
    replayed = json.loads(outputs["report.json"])
    assert [(r["id"], r["verdict"]) for r in replayed["requirements"]] == [(r.id, r.verdict) for r in live.requirements]
    for requirement in live.requirements:
        assert f'id="req-{requirement.id}"' in outputs["report.html"]
