"""Alert patterns run over text a node-local user can write: each must match in linear time.

A pattern is refused unless every repetition in it is bounded (`{1,128}`, never `+`, `*` or
`{2,}`), so no line, however crafted, can make the matcher backtrack without end; and lines
are cut to MAX_MATCHED characters before matching."""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the stdlib regex parser
from typing import Any

_OPCODE = type(sre_parse.MAX_REPEAT)
MAX_MATCHED = 1024  # characters of a line's head that rules see (real lines are < 600)
MAX_REPEAT = MAX_MATCHED  # the largest bound a pattern may give a repetition
MAX_FIELD = 128  # characters kept of a captured field (a resource name, a node name)


def unbounded(pattern: str) -> str | None:
    """Why `pattern` could take more than linear time, or None when it cannot."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as e:
        return str(e)
    for low, high, depth in _repeats(parsed, 0):
        if depth > 0 and high > 1:
            return "a repetition inside a repetition: write it without the nesting"
        if high == sre_parse.MAXREPEAT:
            which = f"{{{low},}}" if low > 1 else ("+" if low == 1 else "*")
            return f"an unbounded repetition ({which}): give it an upper bound such as {{1,128}}"
        if high > MAX_REPEAT:
            return f"a repetition of up to {high}: at most {MAX_REPEAT} (lines are cut there)"
    return None


Repeat = tuple[int, int, int]  # low, high, how many repetitions enclose it


def _repeats(items: object, depth: int) -> Iterator[Repeat]:
    """Every repetition in a parsed pattern, however deep in groups and alternatives."""
    if isinstance(items, sre_parse.SubPattern | list | tuple) and not _is_op(items):
        for item in items:
            yield from _repeats(item, depth)
        return
    if not _is_op(items):
        return
    op: object = items[0]  # type: ignore[index]
    av: Any = items[1]  # type: ignore[index]
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT):
        low, high, sub = av
        yield low, high, depth
        yield from _repeats(sub, depth + (high > 1))
    elif isinstance(av, tuple | list | sre_parse.SubPattern):
        yield from _repeats(av, depth)


def _is_op(item: object) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and type(item[0]) is _OPCODE


def bounded_field(value: str) -> str:
    return value if len(value) <= MAX_FIELD else value[: MAX_FIELD - 1] + "…"
