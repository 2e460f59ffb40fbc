"""ANS's wave-2 requirement grid, as exported from its Squash tooling (CSV of the sheet `prepub_va2_avec_scenarios`:
one row per requirement of a REM, with ANS's statement, scenario and proof texts). The bench does not ship ANS's
texts: the user points to an export (`--ans-grid`), the bench reads it to compare its catalogue with it
(`catalogue diff --grid`) and to show, beside each verdict, the scenario ANS runs and the proof ANS asks for.

An export is input like any other: size, row and field limits, a clear `file:line` message for what is not one."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.catalogue.models import Requirement
from bench.yamlio import read_yaml, validate_model

MAX_GRID_BYTES = 32 * 1024 * 1024  # the full export of every REM is ~3 MB
MAX_FIELD_CHARS = 200_000
COLUMNS = ("arbitrage", "REM", "reference", "reference socle", "description", "ref scenario", "scenario", "preuve")
APPROVED = "Approuvée"
OBSOLETE = "Obsolète"


class GridError(ValueError):
    """Not an ANS grid export the bench can read."""


@dataclass(frozen=True)
class GridRow:
    line: int  # where the row starts in the file (for messages)
    rem: str  # LGC, BIO, RIS, DB, DPI, PFI
    status: str  # Approuvée, Obsolète, A retravailler
    reference: str  # the REM's own id (PRESC.03, MSS/UX.05)
    socle_reference: str  # the shared requirement it picks (SC.MSS/UX.05), if any
    statement: str
    scenario_ref: str
    scenario: str
    proof: str

    def ids(self) -> set[str]:
        """Every form the catalogue may give this row's ids: the socle id, the REM id, and the REM id prefixed with
        its REM (``LGC.PRESC.03``), as the published REM numbers them."""
        found = {self.reference, f"{self.rem}.{self.reference}", self.socle_reference} - {"", f"{self.rem}."}
        return found


@dataclass(frozen=True)
class Grid:
    path: Path
    sha256: str
    rows: tuple[GridRow, ...]

    def approved(self, rem: str) -> list[GridRow]:
        return [r for r in self.rows if r.rem == rem and r.status == APPROVED]

    def for_requirement(self, requirement: Requirement, rem: str) -> list[GridRow]:
        """The approved rows of ``rem`` a requirement carries (by any of its official ids), with a scenario or a
        proof text."""
        ids = set(requirement.official_ids)
        return [r for r in self.approved(rem) if r.ids() & ids and (r.scenario.strip() or r.proof.strip())]


def read_grid(path: Path) -> Grid:
    """Read an export; raises GridError with ``file:line`` for what is not one."""
    try:
        size = path.stat().st_size
        if size > MAX_GRID_BYTES:
            raise GridError(f"{path}: {size} octets, au-delà des {MAX_GRID_BYTES} lus pour une grille")
        data = path.read_bytes()
    except OSError as exc:
        raise GridError(f"{path}: illisible ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GridError(f"{path}: pas en UTF-8 (octet {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    before = csv.field_size_limit(MAX_FIELD_CHARS)  # process-wide: put back once read
    try:
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise GridError(f"{path}:1: colonnes absentes de l'export ANS : {', '.join(missing)}")
        for record in reader:
            line = reader.line_num
            if None in record:
                raise GridError(f"{path}:{line}: plus de champs que d'en-têtes")
            rows.append(
                GridRow(
                    line=line,
                    rem=(record["REM"] or "").strip(),
                    status=(record["arbitrage"] or "").strip(),
                    reference=(record["reference"] or "").strip(),
                    socle_reference=(record["reference socle"] or "").strip(),
                    statement=(record["description"] or "").strip(),
                    scenario_ref=(record["ref scenario"] or "").strip(),
                    scenario=(record["scenario"] or "").strip(),
                    proof=(record["preuve"] or "").strip(),
                )
            )
    except csv.Error as exc:
        raise GridError(f"{path}:{reader.line_num}: CSV illisible ({exc})") from exc
    finally:
        csv.field_size_limit(before)
    return Grid(path, hashlib.sha256(data).hexdigest(), tuple(rows))


@dataclass
class Reconciliation:
    """The catalogue against a grid, for one REM."""

    rem: str
    carried: list[tuple[GridRow, list[str]]] = field(default_factory=list)  # (approved row, requirement ids)
    left_out: list[tuple[GridRow, str]] = field(default_factory=list)  # approved rows left out, with the reason
    missing: list[GridRow] = field(default_factory=list)  # approved rows neither carried nor explained
    obsolete: list[tuple[str, str]] = field(default_factory=list)  # (requirement id, official id the grid obsoletes)
    stale_reasons: list[str] = field(default_factory=list)  # left-out references that are carried after all


def reconcile(
    grid: Grid,
    requirements: Iterable[Requirement],
    rem: str,
    left_out: dict[str, str] | None = None,
    profiles: Collection[str] | None = None,
) -> Reconciliation:
    """Which approved rows of ``rem`` the catalogue carries (by official id), which it leaves out and why
    (``left_out``: REM reference -> reason), which it misses; and which official ids it carries that the grid only
    knows as obsolete. With ``profiles`` (those that follow ``rem``), a row is carried only by a requirement that
    applies to one of them: a socle row the GP profile carries is not thereby carried for laboratory software."""
    reasons = left_out or {}
    catalogue = [r for r in requirements if profiles is None or set(r.profiles) & set(profiles)]
    by_id: dict[str, list[str]] = {}
    for requirement in catalogue:
        for official in requirement.official_ids:
            by_id.setdefault(official, []).append(requirement.id)
    result = Reconciliation(rem)
    approved_ids: set[str] = set()
    for row in grid.approved(rem):
        approved_ids |= row.ids()
        holders = sorted({r for i in row.ids() for r in by_id.get(i, [])})
        if holders:
            result.carried.append((row, holders))
            if row.reference in reasons:
                result.stale_reasons.append(row.reference)
        elif row.reference in reasons:
            result.left_out.append((row, reasons[row.reference]))
        else:
            result.missing.append(row)
    obsolete_ids = {i for r in grid.rows if r.rem == rem and r.status == OBSOLETE for i in r.ids()} - approved_ids
    for requirement in catalogue:
        result.obsolete += [(requirement.id, o) for o in requirement.official_ids if o in obsolete_ids]
    return result


def _reconciliation_file(requirements_dir: Path) -> dict[str, Any]:
    from bench.catalogue.loader import ANS_GRID_FILE, CatalogueError

    path = requirements_dir / ANS_GRID_FILE
    if not path.is_file():
        return {}
    problems: list[str] = []
    data = read_yaml(path, problems)
    if problems:
        raise CatalogueError(problems)
    return data if isinstance(data, dict) else {}


def profiles_following(requirements_dir: Path, rem: str) -> list[str]:
    """The profiles whose grid is ``rem`` (``ans_rem`` in ``profiles.yaml``)."""
    from bench.catalogue.loader import PROFILES_FILE, CatalogueError
    from bench.catalogue.models import ProfilesFile

    problems: list[str] = []
    path = requirements_dir / PROFILES_FILE
    parsed = validate_model(ProfilesFile, read_yaml(path, problems), path, problems) if path.is_file() else None
    if problems:
        raise CatalogueError(problems)
    return [p.id for p in parsed.profiles if p.ans_rem == rem] if parsed else []


def obsolete_kept_because(requirements_dir: Path) -> str:
    """Why the catalogue keeps official ids the grid marks obsolete (``ans-grid.yaml``), or ""."""
    return str(_reconciliation_file(requirements_dir).get("obsolete_kept_because") or "")


def left_out_rows(requirements_dir: Path, rem: str) -> dict[str, str]:
    """The approved rows of ``rem`` the catalogue leaves out on purpose: REM reference -> why (``ans-grid.yaml``)."""
    from bench.catalogue.loader import ANS_GRID_FILE, CatalogueError

    path = requirements_dir / ANS_GRID_FILE
    by_rem = _reconciliation_file(requirements_dir).get("left_out") or {}
    section = (by_rem.get(rem) if isinstance(by_rem, dict) else None) or {}
    reasons_given = isinstance(section, dict) and all(isinstance(v, str) and v.strip() for v in section.values())
    if not isinstance(by_rem, dict) or not reasons_given:
        raise CatalogueError([f"{path}:1: left_out.{rem} : une raison (texte) par référence attendue"])
    return {str(reference): str(reason) for reference, reason in section.items()}
