"""What a new catalogue release changes for a vendor: requirements added, removed, reworded, renumbered (same
statement under a new id, or the same official id), and other fields changed (profiles, criticality, nature...).
Only `requirements/` is read: scenarios are the bench's, not ANS's."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from bench.catalogue.loader import HEADER_FILE, NOT_REQUIREMENTS, CatalogueError
from bench.catalogue.models import CatalogueHeader, Requirement, RequirementFile
from bench.yamlio import read_yaml, validate_model

COMPARED_FIELDS = ("official_ids", "title", "profiles", "section", "block", "function", "nature", "perimeter",
                   "criticality", "proof")  # fmt: skip


@dataclass
class CatalogueDiff:
    old_version: str
    new_version: str
    added: list[Requirement] = field(default_factory=list)
    removed: list[Requirement] = field(default_factory=list)
    reworded: list[tuple[Requirement, Requirement]] = field(default_factory=list)
    renumbered: list[tuple[Requirement, Requirement]] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)  # (id, fields that changed)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.reworded or self.renumbered or self.changed)


def load_requirements(root: Path) -> tuple[str, dict[str, Requirement]]:
    """(catalogue version, requirements by id) of a catalogue root, or of its ``requirements`` folder itself."""
    folder = root / "requirements" if (root / "requirements").is_dir() else root
    problems: list[str] = []
    version = "?"
    if (folder / HEADER_FILE).exists():
        header = validate_model(
            CatalogueHeader, read_yaml(folder / HEADER_FILE, problems), folder / HEADER_FILE, problems
        )
        version = header.catalogue_version if header else version
    requirements: dict[str, Requirement] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in NOT_REQUIREMENTS:
            continue
        data = read_yaml(path, problems)
        parsed = validate_model(RequirementFile, data, path, problems) if data is not None else None
        for requirement in parsed.requirements if parsed else []:
            requirements[requirement.id] = requirement
    if not requirements and not problems:
        problems.append(f"{folder}: aucune exigence trouvée")
    if problems:
        raise CatalogueError(problems)
    return version, requirements


def _normalised(statement: str) -> str:
    """A statement compared without case, accents, punctuation or spacing (a reflowed line is not a rewording)."""
    text = unicodedata.normalize("NFKD", statement).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def diff_catalogues(old_root: Path, new_root: Path) -> CatalogueDiff:
    old_version, old = load_requirements(old_root)
    new_version, new = load_requirements(new_root)
    result = CatalogueDiff(old_version, new_version)
    gone = [old[i] for i in sorted(set(old) - set(new))]
    came = [new[i] for i in sorted(set(new) - set(old))]
    for before in list(gone):
        match = next(
            (
                after
                for after in came
                if _normalised(after.statement) == _normalised(before.statement)
                or set(after.official_ids) & set(before.official_ids)
            ),
            None,
        )
        if match is not None:
            result.renumbered.append((before, match))
            gone.remove(before)
            came.remove(match)
    result.removed, result.added = gone, came
    for identifier in sorted(set(old) & set(new)):
        before, after = old[identifier], new[identifier]
        if _normalised(before.statement) != _normalised(after.statement):
            result.reworded.append((before, after))
        fields = [name for name in COMPARED_FIELDS if getattr(before, name) != getattr(after, name)]
        if fields:
            result.changed.append((identifier, fields))
    return result
