"""Every official id that SEGUR-REQUIREMENTS.md's catalogue tables give for the GP-practice profile (LGC) or for all
profiles is carried by a requirement of the catalogue (issue 8), each with its source and a proof that is not silent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.catalogue.loader import load_catalogue
from bench.paths import content_root

GRID = Path(__file__).resolve().parents[3] / "shared" / "SEGUR-REQUIREMENTS.md"


def _expand(cell: str) -> list[str]:
    """``SC.DMP/UX.03 / UX.04``, ``ANN/va1.01–.05``, ``SC.MSS/UX.09 / .10`` -> the ids they name."""
    ids: list[str] = []
    family = stem = ""
    for part in (p.strip().strip("`") for p in re.split(r" / |, ", re.sub(r"\(.*?\)", "", cell))):
        if not part:
            continue
        if part.startswith(".") and stem:
            part = stem + part
        elif "/" not in part and family and re.match(r"^[A-Z]+\.\d+", part):
            part = family + part  # "UX.04" after "SC.DMP/UX.03"
        match = re.match(r"^(.*?)\.(\d+)(?:–\.?(\d+))?$", part)
        if not match:
            ids.append(part)
            continue
        stem, first, last = match.group(1), match.group(2), match.group(3)
        family = part[: part.index("/") + 1] if "/" in part else ""
        numbers = range(int(first), int(last or first) + 1)
        ids += [f"{stem}.{n:0{len(first)}d}" for n in numbers]
    return ids


def _grid_ids(text: str) -> set[str]:
    tables = text[text.index("## 2. Catalogue by domain") : text.index("## 3. Sources and confidence")]
    wanted: set[str] = set()
    previous = ""
    for line in tables.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 3 or cells[0] in ("ID", "---") or cells[0].startswith("-"):
            continue
        profiles = previous if cells[2].startswith("same") else cells[2]
        previous = profiles
        if cells[0].startswith("BENCH.") or not ("LGC" in profiles.split(":")[0] or profiles.startswith("all")):
            continue
        only = re.match(r"LGC: (\S+)", profiles)  # "LGC: UX.16": of the row's ids, only that one is LGC's
        wanted.update(i for i in _expand(cells[0]) if not only or i.endswith(only.group(1)))
    return wanted


@pytest.mark.skipif(not GRID.is_file(), reason="SEGUR-REQUIREMENTS.md absent (outside the project's workspace)")
def test_every_lgc_and_shared_official_id_is_in_the_catalogue() -> None:
    catalogue = load_catalogue(content_root())
    carried = {official for r in catalogue.requirements.values() for official in r.official_ids}
    missing = sorted(_grid_ids(GRID.read_text(encoding="utf-8")) - carried)
    assert missing == []


def test_grid_cells_expand_as_ans_writes_them() -> None:
    assert _expand("SC.DMP/UX.03 / UX.04") == ["SC.DMP/UX.03", "SC.DMP/UX.04"]
    assert _expand("ANN/va1.01–.05") == [f"ANN/va1.0{n}" for n in range(1, 6)]
    assert _expand("SC.MSS/UX.09 / .10") == ["SC.MSS/UX.09", "SC.MSS/UX.10"]


def test_every_requirement_has_a_proof_that_is_not_silent() -> None:
    catalogue = load_catalogue(content_root())
    for requirement in catalogue.requirements.values():
        proof = requirement.proof
        if proof.nature == "automated":
            assert requirement.checks or requirement.id in _EXPECTATION_PROVEN, requirement.id
        elif proof.nature == "operator":
            assert requirement.operator_checklist, requirement.id
        assert proof.verification.strip(), requirement.id


_EXPECTATION_PROVEN = {"DMP-012", "DMP-013"}  # proven by expectations (an exchange that must or must not come)
