"""YAML files with line numbers: every mapping, key and list item remembers where it stands, so that validation
errors (pydantic or cross-references) can be reported as ``file:line: message``. Duplicate keys are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class LineDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    line: int
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records 1-based lines and refuses duplicate keys (YAML would silently keep the last)."""

    duplicate_problems: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in mapping:
                self.duplicate_problems.append(
                    f"{self.name}:{key_node.start_mark.line + 1}: clé {key!r} en double "
                    f"(déjà à la ligne {mapping.key_lines[key]})"
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


MAX_YAML_BYTES = 8 * 1024 * 1024  # a requirement, scenario or configuration file is a few kilobytes


def read_yaml(path: Path, problems: list[str]) -> Any:
    """The file's data with line numbers, or None with a ``file:line: message`` in ``problems`` (unreadable, too
    large, invalid, nested too deep): never an exception."""
    try:
        if not path.is_file():
            problems.append(f"{path}:1: pas un fichier ordinaire")
            return None
        if path.stat().st_size > MAX_YAML_BYTES:
            problems.append(f"{path}:1: fichier de plus de {MAX_YAML_BYTES // (1024 * 1024)} Mo : non lu")
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}:1: fichier illisible : {exc}")
        return None
    loader = _LineLoader(text)
    loader.name = str(path)
    loader.duplicate_problems = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(f"{path}:{line}: YAML invalide : {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path}:1: YAML invalide : {exc}")
        return None
    except RecursionError:
        line = loader.line + 1 if hasattr(loader, "line") else 1
        problems.append(f"{path}:{line}: YAML imbriqué trop profondément pour être lu")
        return None
    finally:
        loader.dispose()
    problems.extend(loader.duplicate_problems)
    return data


def line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """Deepest known line for a pydantic error location."""
    node, line = data, getattr(data, "line", 1)
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            if part in node.key_lines:
                line = node.key_lines[part]
                node = node[part]
                continue
            return node.line
        if isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
            continue
        break
    return line


def validate_model(model: type[M], data: Any, path: Path, problems: list[str]) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(part) for part in loc) or "(racine)"
            message = "clé inconnue" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}:{line_of(data, loc)}: {where} : {message}")
        return None
