"""Read a YAML file keeping line numbers, and turn pydantic errors into ConfigErrors that say
``file:line: key.path: problem (value)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from yujing.contracts import ConfigError

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


def _line_map(node: yaml.Node, path: KeyPath, out: dict[KeyPath, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)


def read_yaml(path: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``path``; return the data and a map from key path to 1-based line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines


def format_path(loc: KeyPath) -> str:
    """``("stations", 3, "lat")`` → ``stations[3].lat``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def config_error(path: Path, lines: dict[KeyPath, int], loc: KeyPath, problem: str) -> ConfigError:
    """A ConfigError pointing at the closest line known for ``loc``."""
    probe = tuple(loc)
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(f"{where}: {format_path(loc)}: {problem}")


def from_validation_error(
    exc: ValidationError, path: Path, lines: dict[KeyPath, int]
) -> ConfigError:
    """One ConfigError listing up to five problems, each ``file:line: key.path: problem``."""
    messages = []
    for err in exc.errors()[:5]:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        problem = err["msg"]
        if "input" in err and err["type"] not in ("missing", "model_type"):
            problem += f" (value {err['input']!r})"
        messages.append(str(config_error(path, lines, loc, problem)))
    return ConfigError("\n".join(messages))


def validate(model: type[M], data: Any, path: Path, lines: dict[KeyPath, int]) -> M:
    """Validate ``data`` against ``model``; raise a ConfigError naming the problem(s)."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise from_validation_error(exc, path, lines) from None


def load_model(model: type[M], path: Path) -> tuple[M, dict[KeyPath, int]]:
    data, lines = read_yaml(path)
    return validate(model, data, path, lines), lines
