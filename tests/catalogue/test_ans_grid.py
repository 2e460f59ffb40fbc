"""The catalogue against ANS's draft wave-2 grid (issue 17): every approved row of the LGC, BIO, RIS and DPI REMs is
carried by a requirement of its profile or left out with a reason; the export reader refuses what is not one with
``file:line``; ``catalogue diff --grid``."""

from __future__ import annotations

import csv
import io
import json
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.catalogue.ans_grid import COLUMNS, GridError, left_out_rows, profiles_following, read_grid, reconcile
from bench.catalogue.loader import load_catalogue
from bench.cli import app
from bench.paths import content_root
from tests.catalogue.test_official_grid import _grid_ids

EXPORT = Path(__file__).resolve().parents[3] / "shared" / "data" / "ans-grid-drafts"
EXPORT = EXPORT / "segur-va2-prepub_va2_avec_scenarios.csv"
HEADER = ["id exigence", "ID Section", *COLUMNS]


def _grid(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in HEADER})
    path = tmp_path / "grid.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _row(reference: str, status: str = "Approuvée", socle: str = "", **more: str) -> dict[str, str]:
    return {"REM": "LGC", "arbitrage": status, "reference": reference, "reference socle": socle, **more}


@pytest.mark.skipif(not EXPORT.is_file(), reason="export of ANS's draft grid absent (outside the project's workspace)")
@pytest.mark.parametrize(("rem", "approved"), [("LGC", 130), ("BIO", 125), ("RIS", 165), ("DPI", 129)])
def test_every_approved_row_is_carried_by_its_profile_or_left_out_with_a_reason(rem: str, approved: int) -> None:
    """Each approved row of the REM is carried by a requirement of a profile that follows that REM (a socle row the
    GP profile carries does not count for laboratory software), or left out with a reason."""
    catalogue = load_catalogue(content_root())
    folder = content_root() / "requirements"
    profiles = profiles_following(folder, rem)
    assert profiles, f"no profile follows REM {rem}"
    result = reconcile(read_grid(EXPORT), catalogue.requirements.values(), rem, left_out_rows(folder, rem), profiles)
    assert [f"{r.reference} (ligne {r.line})" for r in result.missing] == []
    assert result.stale_reasons == []  # a reason for a row the catalogue carries after all is stale
    assert len(result.carried) + len(result.left_out) == approved  # the export's approved rows of the REM
    for _row, holders in result.carried:
        assert all(set(profiles) & set(catalogue.requirements[h].profiles) for h in holders)


def test_a_row_carried_only_for_another_profile_is_missing(tmp_path: Path) -> None:
    catalogue = load_catalogue(content_root())
    grid = read_grid(_grid(tmp_path, [{**_row("MSS/CONF.16", socle="SC.MSS/CONF.16"), "REM": "BIO"}]))
    gp_only = catalogue.requirements["MSS-009"].model_copy(update={"profiles": ["medecin-ville"]})
    result = reconcile(grid, [gp_only], "BIO", {}, ["biologie"])
    assert [r.reference for r in result.missing] == ["MSS/CONF.16"]
    assert reconcile(grid, [gp_only], "BIO", {}).carried  # without profiles, the whole catalogue counts


@pytest.mark.skipif(not EXPORT.is_file(), reason="export of ANS's draft grid absent (outside the project's workspace)")
def test_ids_the_draft_marks_obsolete_are_kept_only_when_the_published_rem_names_them() -> None:
    """The catalogue keeps an official id the March 2023 draft marks obsolete only if the project's table of official
    ids (SEGUR-REQUIREMENTS.md, from the published REM) names it, as ``ans-grid.yaml`` says."""
    from bench.catalogue.ans_grid import obsolete_kept_because

    table = EXPORT.parents[2] / "SEGUR-REQUIREMENTS.md"
    catalogue = load_catalogue(content_root())
    lgc = profiles_following(content_root() / "requirements", "LGC")
    result = reconcile(read_grid(EXPORT), catalogue.requirements.values(), "LGC", profiles=lgc)
    assert result.obsolete and obsolete_kept_because(content_root() / "requirements")
    text = table.read_text(encoding="utf-8")
    named = _grid_ids(text)  # the catalogue tables' ids, ranges such as "SC.DMP/UX.16–.19" expanded
    # Written "`SC.SSI/GEN.01` … `.04` GDPR / privacy by design" in the table's SSI notes.
    shorthand = {"SC.SSI/GEN.04"}
    unnamed = [o for _r, o in result.obsolete if o not in named and o not in text and o not in shorthand]
    assert unnamed == []


def test_rows_are_carried_by_any_of_their_ids_and_obsolete_ids_are_reported(tmp_path: Path) -> None:
    from bench.catalogue.models import Requirement

    catalogue = load_catalogue(content_root())
    mss = catalogue.requirements["MSS-039"]  # carries SC.MSS/UX.27
    dmp = catalogue.requirements["DMP-020"]  # carries LGC.PRESC.03
    grid = read_grid(
        _grid(
            tmp_path,
            [
                _row("MSS/UX.27", socle="SC.MSS/UX.27", scenario="Envoyer…", preuve="Capture"),
                _row("PRESC.03"),  # the REM's own id, which the catalogue writes LGC.PRESC.03
                _row("NEW.01", statement="x"),
                _row("GONE.01"),
                _row("PRESC.04", status="Obsolète"),
            ],
        )
    )
    requirements: list[Requirement] = [mss, dmp]
    result = reconcile(grid, requirements, "LGC", {"GONE.01": "hors du périmètre"})
    assert {r.reference: ids for r, ids in result.carried} == {"MSS/UX.27": ["MSS-039"], "PRESC.03": ["DMP-020"]}
    assert [r.reference for r in result.missing] == ["NEW.01"]
    assert [(r.reference, why) for r, why in result.left_out] == [("GONE.01", "hors du périmètre")]
    assert ("DMP-020", "LGC.PRESC.04") in result.obsolete
    assert [r.scenario for r in grid.for_requirement(mss, "LGC")] == ["Envoyer…"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b\n1,2\n", ":1: colonnes absentes"),
        (("," * 9 + "\n").encode(), ":1: colonnes absentes"),
        (b"\xff\xfe\x00", "pas en UTF-8"),
    ],
)
def test_what_is_not_an_export_is_refused_with_its_place(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "grid.csv"
    path.write_bytes(content)
    with pytest.raises(GridError, match=expected):
        read_grid(path)


def test_a_row_with_more_fields_than_headers_names_its_line(tmp_path: Path) -> None:
    path = _grid(tmp_path, [_row("A.01")])
    path.write_text(path.read_text(encoding="utf-8") + "1,2,3,4,5,6,7,8,9,10,11,12\n", encoding="utf-8")
    with pytest.raises(GridError, match=r"grid\.csv:3: plus de champs"):
        read_grid(path)


def test_an_oversized_export_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.catalogue.ans_grid as module

    monkeypatch.setattr(module, "MAX_GRID_BYTES", 10)
    with pytest.raises(GridError, match="au-delà"):
        read_grid(_grid(tmp_path, [_row("A.01")]))


def test_catalogue_diff_with_a_grid(tmp_path: Path) -> None:
    runner = CliRunner()
    grid = _grid(tmp_path, [_row("MSS/UX.27", socle="SC.MSS/UX.27"), _row("NEW.01", description="Le système DOIT…")])
    result = runner.invoke(app, ["catalogue", "diff", str(content_root()), "--grid", str(grid)])
    assert result.exit_code == 1, result.output  # an approved row neither carried nor explained
    assert "NEW.01" in result.output and "1 manquantes" in result.output
    as_json = runner.invoke(app, ["catalogue", "diff", str(content_root()), "--grid", str(grid), "--format", "json"])
    assert json.loads(as_json.output)["missing"] == ["NEW.01"]
    bad = runner.invoke(app, ["catalogue", "diff", str(content_root()), "--grid", str(tmp_path / "absent.csv")])
    assert bad.exit_code == 2 and "illisible" in bad.output


def test_the_report_shows_ans_s_scenario_and_proof_beside_the_verdict(tmp_path: Path) -> None:
    grid = _grid(
        tmp_path,
        [
            _row(
                "MSS/CONF.25",
                socle="SC.MSS/CONF.25",
                **{"ref scenario": "MSS/CONF.25.01", "scenario": "Vérifier l'objet XDM/1.0/DDM+", "preuve": "Capture"},
            )
        ],
    )
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", "--scenario", "MSS-SC-09", "--ans-grid", str(grid), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    run = next(out.iterdir())
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert report["ans_grid"].startswith("grid.csv · REM LGC · SHA-256 ")
    texts = {r["id"]: r["ans_scenarios"] for r in report["requirements"] if r["ans_scenarios"]}
    assert list(texts) == ["MSS-039"] and texts["MSS-039"][0]["proof"] == "Capture"
    html = unescape((run / "report.html").read_text(encoding="utf-8"))
    assert "Scénario de l'ANS MSS/CONF.25.01" in html and "Preuve demandée par l'ANS" in html


def test_a_grid_that_is_not_one_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    bad = tmp_path / "grid.csv"
    bad.write_text("a,b\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--scenario", "MSS-SC-09", "--ans-grid", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "colonnes absentes" in result.output


@pytest.mark.parametrize("left_out", ["left_out: [DB/LGC.01]", "left_out:\n  LGC:\n    DB/LGC.01: ''"])
def test_a_left_out_list_without_reasons_is_a_catalogue_error(tmp_path: Path, left_out: str) -> None:
    from bench.catalogue.loader import CatalogueError

    (tmp_path / "ans-grid.yaml").write_text(left_out + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="une raison"):
        left_out_rows(tmp_path, "LGC")


def test_reading_an_export_leaves_the_csv_field_limit_as_it_was(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    read_grid(_grid(tmp_path, [_row("A.01")]))
    with pytest.raises(GridError):
        read_grid(tmp_path / "absent.csv")
    assert csv.field_size_limit() == before
