"""YAML text to plain data, through libyaml when PyYAML was built with it (ten times faster
than the pure-Python loader; the same safe subset, the same errors and marks)."""

from __future__ import annotations

from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """Like yaml.safe_load; raises yaml.YAMLError (with problem_mark) on bad YAML."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, C or Python


def compose(text: str) -> yaml.Node | None:
    """The node tree (for line numbers), composed only when an error must name a line."""
    return yaml.compose(text, Loader=_Loader)
