"""Alert patterns run over text a node-local user can write: each must match in linear time.

Patterns are compiled by RE2, whose automaton matches in time linear in the line whatever the
pattern (no backtracking, hence no lookarounds and no backreferences: a rule says what a field
must not be with `unless:` instead). RE2's program grows with every bounded repetition, so a
pattern is also refused unless each repetition is bounded (`{1,128}`, never `+`, `*` or `{2,}`)
and none is nested in another; lines are cut to MAX_MATCHED characters before matching."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the stdlib regex parser
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]  # google-re2: no type information shipped

_OPCODE = type(sre_parse.MAX_REPEAT)
MAX_MATCHED = 1024  # characters of a line's head that rules see (real lines are < 600)
MAX_REPEAT = 1000  # the largest bound a pattern may give a repetition (RE2's own limit)
MAX_FIELD = 128  # characters kept of a captured field (a resource name, a node name)
MATCHES_PER_LINE = 32  # matches of one pattern tried on one line (each a linear search)


class Found(Protocol):
    def groupdict(self) -> dict[str, str | None]: ...

    def start(self) -> int: ...


class _Program(Protocol):
    def search(self, text: str, pos: int = 0) -> Found | None: ...

    def fullmatch(self, text: str) -> Found | None: ...


@dataclass(frozen=True, slots=True)
class LinearPattern:
    """A pattern as an RE2 program, behind the longest literal every match must contain: most
    lines lack it, and a substring test is far cheaper than entering RE2."""

    pattern: str
    program: _Program
    literal: str

    def search(self, text: str) -> Found | None:
        if self.literal not in text:
            return None
        return self.program.search(text)

    def fullmatch(self, text: str) -> Found | None:
        if self.literal not in text:
            return None
        return self.program.fullmatch(text)

    def each(self, text: str, limit: int = MATCHES_PER_LINE) -> Iterator[Found]:
        """Every match, each starting after the one before began (overlapping ones too), at
        most `limit`: a rule may set the first aside (`unless:`) and take a later one."""
        if self.literal not in text:
            return
        start = 0
        for _ in range(limit):
            found = self.program.search(text, start)
            if found is None:
                return
            yield found
            start = found.start() + 1
            if start > len(text):
                return


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its parse errors to stderr; ours say more


def linear(pattern: str) -> LinearPattern:
    """`pattern` compiled for linear-time matching; ValueError says why it cannot be."""
    why = unbounded(pattern)
    if why is not None:
        raise ValueError(f"pattern {pattern!r}: {why}")
    program: _Program = re2.compile(pattern, options=_OPTIONS)
    return LinearPattern(pattern, program, required_literal(pattern))


def required_literal(pattern: str) -> str:
    """The longest run of literal characters at the pattern's top level (outside groups,
    alternatives and repetitions, so in every match); "" when there is none to rely on."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return ""
    runs, run = [], []
    for op, av in parsed:
        if op is sre_parse.LITERAL:
            run.append(chr(av))
        else:
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    return max(runs, key=len)


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
            return f"a repetition of up to {high}: at most {MAX_REPEAT}"
    try:
        re2.compile(pattern, options=_OPTIONS)
    except re2.error as e:
        said = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else e
        if "perl operator" in str(said) or "escape" in str(said):
            return (
                f"not a linear-time pattern ({said}): lookarounds and backreferences cannot be "
                "matched in linear time; match the field, and exclude values with `unless:`"
            )
        return f"not a linear-time pattern ({said})"
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
