"""Rendering runbook text with Jinja: sandboxed, strict, one argv element at a time."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from habot.errors import HabotError

_ENV = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)


class RenderError(HabotError):
    """A runbook template could not be rendered (an unknown name, a syntax error)."""


@lru_cache(maxsize=1024)
def _template(text: str) -> Any:
    return _ENV.from_string(text)


def parse(text: str) -> nodes.Template:
    """The template's syntax tree (what `habot sudoers` reads the shape of an argument from)."""
    try:
        return _ENV.parse(text)
    except TemplateError as e:
        raise RenderError(f"cannot parse {text!r}: {e}") from e


def render(text: str, context: Mapping[str, Any]) -> str:
    if "{" not in text:
        return text
    try:
        return str(_template(text).render(context))
    except TemplateError as e:
        raise RenderError(f"cannot render {text!r}: {e}") from e


def render_argv(argv: tuple[str, ...], context: Mapping[str, Any]) -> tuple[str, ...]:
    """Each element on its own: a value never splits into, or merges with, other arguments."""
    return tuple(render(element, context) for element in argv)
