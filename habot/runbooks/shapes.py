"""The shapes a runbook's commands can take: each argv element as a POSIX extended regular
expression (what sudoers 1.9.10+ matches arguments with), derived from the template and the
parameters' declared types — never wider than what the plan would accept.

    "{{ resource }}"              -> a resource id:  [A-Za-z_][A-Za-z0-9_.:-]{0,127}
    "hostlist={{ hostlist }}"     -> hostlist= and the parameter's own pattern, translated
    "{{ 'true' if mode == 'on' else 'false' }}" with mode a choice -> (true|false)

Every shape is one argument, matched on its own by habot-node (never joined with its
neighbours, as sudo would): a fixed argument may hold spaces, a parameter's shape may not.
What cannot be bounded that way is refused with the reason, not widened.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the stdlib regex parser
from typing import Any

from jinja2 import meta, nodes

from habot.errors import HabotError
from habot.runbooks.model import Parameter, ParamType, Runbook, Step
from habot.runbooks.render import RenderError, parse, render
from habot.runbooks.replay import may_edit
from habot.runbooks.shells import crmsh_form

RESOURCE = "[A-Za-z_][A-Za-z0-9_.:-]{0,127}"
NODE = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
CLUSTER = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
COUNT = "[0-9]{1,3}"
INTEGER = "-?[0-9]{1,18}"
# `cluster.*` in templates (see plan._context)
CLUSTER_FACTS = {"name": CLUSTER, "dc": NODE, "node_count": COUNT}
CLUSTER_MAPS = {"location": NODE, "other": NODE, "nodes": NODE}  # nodes[i] too
MAX_COMBINATIONS = 64
DUP_MAX = 255  # POSIX RE_DUP_MAX: sudo refuses to match a rule with a larger {m,n}
_ERE_SPECIAL = set(".[]()*+?{}|^$\\")
_OPCODE = type(sre_parse.MAX_REPEAT)


class ShapeError(HabotError):
    """A runbook element whose values cannot be bounded to one whitespace-free argument."""


@dataclass(frozen=True, slots=True)
class CommandShape:
    """A command and, per argument, the regular expression every value matches."""

    command: str
    args: tuple[str, ...]
    origin: str  # `failover: step 1 "move"`

    @property
    def args_regex(self) -> str:
        """All arguments as sudo matches them: joined by single spaces, anchored."""
        return "^" + " ".join(self.args) + "$"


def literal(text: str) -> str:
    """`text` as an ERE that matches only itself (refused when it holds whitespace that is
    not inside a fixed argument: a fixed argument may hold spaces, the regex keeps them)."""
    return "".join(f"\\{c}" if c in _ERE_SPECIAL else c for c in text)


def _commands(
    runbook: Runbook,
) -> Iterator[tuple[Step | None, tuple[str, ...], Mapping[str, Parameter]]]:
    """(step, argv template, the names its templates see) for every command a runbook can run:
    run steps (and rollback), cib edits (as `pcs -f SHADOW ...` edits), and preview edits (step
    None). The names are the parameters and, in a for_each group, its loop's (a node, a
    resource: typed like parameters)."""
    for group in (*runbook.steps, *runbook.rollback):
        names: Mapping[str, Parameter] = runbook.parameters
        if group.for_each is not None:
            names = {
                **runbook.parameters,
                **{
                    k: Parameter.model_validate({"type": t})
                    for k, t in group.for_each.variables.items()
                },
            }
        for step in group.leaves():
            if step.run is not None:
                yield step, step.run, names
                crm = step.crmsh or crmsh_form(step.run)
                if crm is not None:  # its form on a crmsh cluster
                    yield step, crm, names
                replayed = may_edit(step.run)
                if replayed is not None and not runbook.preview:  # its preview, on a shadow CIB
                    yield step, ("pcs", "-f", "\0SHADOW", *replayed), names
            for edit in step.cib or ():
                yield step, ("pcs", "-f", "\0SHADOW", *edit), names
            for edit in step.crmsh_cib or ():  # `crm --no EDIT` on the pulled copy
                yield step, ("crm", "\0SHADOW", *edit), names
    for edit in runbook.preview:
        yield None, ("pcs", "-f", "\0SHADOW", *edit), runbook.parameters


def shapes(runbook: Runbook, shadow: str) -> list[CommandShape]:
    """Every command of the runbook as a CommandShape; `shadow` is the ERE of the shadow CIB's
    path. ShapeError names the first element that cannot be bounded."""
    found = []
    for step, argv, names in _commands(runbook):
        where = f'step "{step.name}"' if step is not None else "preview"
        origin = f"{runbook.name}: {where}"
        try:
            args = tuple(
                shadow if element == "\0SHADOW" else element_shape(element, names)
                for element in argv[1:]
            )
            command = render(argv[0], {})
        except (ShapeError, RenderError) as e:
            raise ShapeError(f"{origin}: {e}") from e
        if not re.fullmatch(r"[A-Za-z0-9_.+-]{1,64}|/[A-Za-z0-9_./+-]{1,255}", command):
            raise ShapeError(f"{origin}: the command must be a fixed name, not {command!r}")
        found.append(CommandShape(command, args, origin))
    return found


def element_shape(text: str, parameters: Mapping[str, Parameter]) -> str:
    """One argv element's template as an ERE."""
    if "{" not in text:
        return literal(text)
    try:
        tree = parse(text)
    except RenderError as e:
        raise ShapeError(str(e)) from e
    pieces = _simple(tree, parameters)
    if pieces is not None:
        shape = "".join(pieces)
        whole = re.fullmatch(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}", text.strip())
        spec = parameters.get(whole.group(1)) if whole else None
        if spec is not None and spec.type is ParamType.STRING:
            return "(?!-)" + shape  # a value never starts with "-": never an option to root
        return shape
    return _enumerated(text, tree, parameters)


def _simple(tree: nodes.Template, parameters: Mapping[str, Parameter]) -> list[str] | None:
    """Literal text and `{{ name }}`, `{{ cluster.fact }}`, `{{ cluster.map[param] }}`."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    pieces = []
    for part in tree.body[0].nodes:
        if isinstance(part, nodes.TemplateData):
            pieces.append(literal(part.data))
        elif isinstance(part, nodes.Name) and part.name in parameters:
            pieces.append(parameter_shape(part.name, parameters[part.name]))
        elif isinstance(part, nodes.Getattr) and _is_cluster(part.node):
            if part.attr not in CLUSTER_FACTS:
                raise ShapeError(f"`cluster.{part.attr}` has no known shape")
            pieces.append(CLUSTER_FACTS[part.attr])
        elif (
            isinstance(part, nodes.Getitem)
            and isinstance(part.node, nodes.Getattr)
            and _is_cluster(part.node.node)
            and part.node.attr in CLUSTER_MAPS
        ):
            pieces.append(CLUSTER_MAPS[part.node.attr])
        else:
            return None
    return pieces


def _is_cluster(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "cluster"


def _enumerated(text: str, tree: nodes.Template, parameters: Mapping[str, Parameter]) -> str:
    """An expression over parameters with few values (choices, booleans): every value it can
    render, as alternatives."""
    names = sorted(meta.find_undeclared_variables(tree))
    values: list[list[Any]] = []
    for name in names:
        spec = parameters.get(name)
        if spec is None or spec.type not in (ParamType.CHOICE, ParamType.BOOL):
            raise ShapeError(f"cannot bound {text!r}: `{name}` is not a choice or bool parameter")
        values.append(list(spec.choices) if spec.type is ParamType.CHOICE else [True, False])
    combinations = list(itertools.product(*values))
    if len(combinations) > MAX_COMBINATIONS:
        raise ShapeError(f"cannot bound {text!r}: {len(combinations)} combinations")
    rendered = sorted(
        {render(text, dict(zip(names, combo, strict=True))) for combo in combinations}
    )
    for value in rendered:
        _check_no_space(value, text)
    return rendered[0] if len(rendered) == 1 else "(" + "|".join(map(literal, rendered)) + ")"


def parameter_shape(name: str, spec: Parameter) -> str:
    if spec.type is ParamType.RESOURCE:
        return RESOURCE
    if spec.type is ParamType.NODE:
        return NODE
    if spec.type is ParamType.INT:
        return "[0-9]{1,18}" if spec.min is not None and spec.min >= 0 else INTEGER
    if spec.type is ParamType.BOOL:
        return "(True|False)"
    if spec.type is ParamType.CHOICE:
        for choice in spec.choices:
            _check_no_space(choice, f"`{name}`")
        return "(" + "|".join(literal(c) for c in spec.choices) + ")"
    assert spec.pattern is not None  # a string parameter always has one (model)
    try:
        return pattern_ere(spec.pattern)
    except ShapeError as e:
        raise ShapeError(f"`{name}`: pattern {spec.pattern!r}: {e}") from e


def _check_no_space(value: str, what: str) -> None:
    if any(c in string.whitespace for c in value):
        raise ShapeError(f"{what} can hold whitespace ({value!r})")


# -- Python regular expressions to POSIX EREs -------------------------------------------------


def pattern_ere(pattern: str) -> str:
    """A parameter's pattern (Python `re`, full match) as an equivalent ERE; ShapeError for
    what EREs lack (`\\d`, `(?:`, lookarounds, flags) and for anything that can match
    whitespace or any character (`.`, negated classes)."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as e:
        raise ShapeError(str(e)) from e
    if parsed.state.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII):
        raise ShapeError("inline flags have no ERE form")
    return _sequence(parsed)


def _sequence(items: Any) -> str:
    return "".join(_item(op, av) for op, av in items)


def _item(op: Any, av: Any) -> str:
    if op is sre_parse.LITERAL:
        char = chr(av)
        _check_char(char)
        return literal(char)
    if op is sre_parse.IN:
        return _bracket(av)
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
        low, high, sub = av
        body = _sequence(sub)
        if len(sub) != 1 or sub[0][0] in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
            body = f"({body})"
        return body + _quantifier(low, high)
    if op is sre_parse.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise ShapeError("inline flags have no ERE form")
        return f"({_sequence(sub)})"
    if op is sre_parse.BRANCH:
        _, alternatives = av
        return "(" + "|".join(_sequence(a) for a in alternatives) + ")"
    if op is sre_parse.NOT_LITERAL:
        raise ShapeError("a negated class matches whitespace too")
    if op is sre_parse.ANY:
        raise ShapeError("`.` matches any character, whitespace too: use a class")
    raise ShapeError(f"{str(op).lower()} has no place in an argument pattern")


def _quantifier(low: int, high: int) -> str:
    if low > DUP_MAX or (high != sre_parse.MAXREPEAT and high > DUP_MAX):
        raise ShapeError(f"sudo takes repetition counts up to {DUP_MAX}, not {high}")
    if high == sre_parse.MAXREPEAT:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if (low, high) == (0, 1):
        return "?"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _bracket(items: Any) -> str:
    chars: list[str] = []
    ranges: list[str] = []
    for op, av in items:
        if op is sre_parse.LITERAL:
            _check_char(chr(av))
            chars.append(chr(av))
        elif op is sre_parse.RANGE:
            low, high = av
            if any(low <= ord(c) <= high for c in string.whitespace) or low < 33 or high > 126:
                raise ShapeError(f"the range {chr(low)}-{chr(high)} is not printable ASCII")
            for c in (chr(low), chr(high)):
                if c in "[]\\^-":
                    raise ShapeError(f"a range that starts or ends with {c!r}")
            ranges.append(f"{chr(low)}-{chr(high)}")
        elif op is sre_parse.NEGATE:
            raise ShapeError("a negated class matches whitespace too")
        else:
            raise ShapeError(f"{str(op).lower()} (as \\d, \\w) has no ERE form: write the class")
    # ERE brackets have no escapes: `]` goes first, `-` last, `^` never first
    close = "]" if "]" in chars else ""
    dash = "-" if "-" in chars else ""
    rest = [c for c in chars if c not in "]-"]
    if any(c in "\\[" for c in rest):
        raise ShapeError("a class with `\\` or `[` in it")
    if rest == ["^"] and not close and not ranges:
        return "[-^]" if dash else "\\^"
    return (
        "[" + close + "".join(ranges) + "".join(sorted(rest, key=lambda c: c == "^")) + dash + "]"
    )


def _check_char(char: str) -> None:
    if char in string.whitespace or not char.isprintable():
        raise ShapeError(f"the pattern can match {char!r}")
