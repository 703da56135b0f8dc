"""Loading runbooks: YAML into validated models, errors with file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from habot import yaml_load
from habot.errors import RunbookError
from habot.runbooks.model import Runbook


def shipped_dir() -> Path:
    return Path(str(resources.files("habot.runbooks")))


def load_file(path: Path) -> Runbook:
    try:
        text = path.read_text()
    except OSError as e:
        raise RunbookError(f"{path}: {e.strerror}") from e
    try:
        data = yaml_load.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise RunbookError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from e
    try:
        return Runbook.model_validate(data)
    except ValidationError as e:
        tree = yaml_load.compose(text)
        problems = [_describe(path, tree, err) for err in e.errors()]
        raise RunbookError("\n".join(problems)) from e


def _describe(path: Path, tree: yaml.Node | None, err: Any) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p[0].isupper())]
    line = _line_of(tree, loc)
    where = ".".join(str(p) for p in loc) or "(top level)"
    return f"{path}:{line}: {where}: {err['msg']}"


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The line of the deepest YAML node the error's location reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_all(extra_dirs: Iterable[Path] = ()) -> dict[str, Runbook]:
    """Shipped runbooks, then those in extra_dirs (a later one replaces an earlier name)."""
    found: dict[str, Runbook] = {}
    for directory in (shipped_dir(), *extra_dirs):
        if not directory.is_dir():
            raise RunbookError(f"runbook directory {directory}: No such directory")
        for path in sorted(directory.glob("*.yaml")):
            runbook = load_file(path)
            found[runbook.name] = runbook
    return found


def by_name(runbooks: dict[str, Runbook], name: str) -> Runbook | None:
    if name in runbooks:
        return runbooks[name]
    return next((r for r in runbooks.values() if name in r.aliases), None)


def json_schema() -> str:
    return json.dumps(Runbook.model_json_schema(), indent=2, sort_keys=True) + "\n"
