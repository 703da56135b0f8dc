"""`habot sudoers` and `habot node-files`: what an unprivileged node user needs.

sudo matches a command's arguments joined by single spaces, so two words merged into one
argument (or one split in two) pass a sudoers regex unchanged while the program sees another
command. So sudo allows exactly one program, `habot-node` (habot/node/helper.py, installed
root-owned on each node), and that program gets habot's argv one argument at a time and
matches each against the pattern of its own position in one of the rules written here:
every command habot's runbooks can run (each argument bounded by the parameters' types and
patterns), the new files they write, and the log files habot reads. The status read, the
shadow CIB (pull, edits, push or simulate), the journal and the log reads are built into the
helper as single steps, so allowed pieces cannot be put together into something else.

`allows()` answers what the helper would, with the helper's own matching, so the tests hold
every argv habot builds against the rules it writes (the lab then proves it with the real
sudo and the installed helper)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from habot import __version__
from habot.errors import HabotError
from habot.node import HELPER, HELPER_PATH, helper
from habot.runbooks.model import Runbook
from habot.runbooks.shapes import DUP_MAX, NODE, CommandShape, ShapeError, literal, shapes
from habot.service.clusters import SCORES, node_fail

# Where Debian, Ubuntu, RHEL and SUSE put them (merged /usr); `--path NAME=PATH` for others.
PATHS = {
    "cibadmin": "/usr/sbin/cibadmin",
    "crm_attribute": "/usr/sbin/crm_attribute",
    "crm_mon": "/usr/sbin/crm_mon",
    "crm_node": "/usr/sbin/crm_node",
    "crm_resource": "/usr/sbin/crm_resource",
    "crm_simulate": "/usr/sbin/crm_simulate",
    "mkfs.gfs2": "/usr/sbin/mkfs.gfs2",
    "pcs": "/usr/sbin/pcs",
    "crm": "/usr/sbin/crm",  # crmsh (SUSE: /usr/sbin/crm too)
    "crm_diff": "/usr/sbin/crm_diff",
    "systemctl": "/usr/bin/systemctl",
    "stonith_admin": "/usr/sbin/stonith_admin",
    "haproxy": "/usr/sbin/haproxy",
    "curl": "/usr/bin/curl",
    "journalctl": "/usr/bin/journalctl",
    "sh": "/usr/bin/sh",
}
WRITE_NEW = "write-new"
SHADOW = "\0SHADOW"  # where a cib edit names its shadow CIB: the helper's own file
USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_COUNTS = re.compile(r"(?<!\\)\{([0-9]+(?:,[0-9]*)?)\}")  # {m}, {m,}, {m,n}, not \{


class SudoersError(HabotError):
    """A runbook command that cannot be bounded, or a command with no known path."""


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # "commands" (exec) or "cib_edits" (pcs -f SHADOW ARGS inside the helper)
    command: str
    path: str
    args: tuple[str, ...]  # one regular expression per argument position
    origins: tuple[str, ...]

    def entry(self) -> dict[str, object]:
        return {"command": self.command, "args": list(self.args), "origins": list(self.origins)}


def habot_reads() -> list[CommandShape]:
    """habot's own commands on a node, whatever the runbooks (the status read, the shadow
    CIB, the journal and the log files are the helper's own verbs)."""
    failed = node_fail("\0NODE")
    return [
        _fixed(SCORES, "why: the placement scores (crm_simulate -Ls)"),
        CommandShape(
            failed[0],
            tuple(f"--node-fail={NODE}" if "\0" in a else literal(a) for a in failed[1:]),
            "whatif node-fail: crm_simulate of a node's failure",
        ),
    ]


def _fixed(argv: Sequence[str], origin: str) -> CommandShape:
    return CommandShape(argv[0], tuple(literal(a) for a in argv[1:]), origin)


def rules(runbooks: Iterable[Runbook], *, paths: Mapping[str, str] | None = None) -> list[Rule]:
    """Every rule, identical ones merged (their origins kept), in a stable order."""
    where = {**PATHS, **(paths or {})}
    found: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    problems = []
    commands = habot_reads()
    for runbook in sorted(runbooks, key=lambda r: r.name):
        try:
            commands += shapes(runbook, SHADOW)
        except ShapeError as e:
            problems.append(str(e))
    for shape in commands:
        problem = _problem(shape, where)
        if problem:
            problems.append(problem)
            continue
        kind, command, args = "commands", shape.command, shape.args
        if shape.command == "pcs" and shape.args[:2] == (literal("-f"), SHADOW):
            kind, args = "cib_edits", shape.args[2:]
        elif shape.command == "crm" and shape.args[:1] == (SHADOW,):  # a crmsh cib edit
            kind, args = "cib_edits", shape.args[1:]
        elif shape.command == HELPER:  # a runbook's `habot-node write-new PATH TEXT`
            kind, command, args = "writes", WRITE_NEW, shape.args[1:]
        origins = found.setdefault((kind, command, args), [])
        if shape.origin not in origins:
            origins.append(shape.origin)
    if problems:
        raise SudoersError("cannot write the node rules:\n  " + "\n  ".join(problems))
    return [
        Rule(kind, command, where.get(command, command), args, tuple(origins))
        for (kind, command, args), origins in found.items()
    ]


def _problem(shape: CommandShape, where: Mapping[str, str]) -> str:
    if shape.command == HELPER and (
        shape.args[:1] != (literal(WRITE_NEW),) or len(shape.args) != 3
    ):
        return (
            f"{shape.origin}: of habot-node's verbs, a runbook may run `write-new PATH TEXT` only"
        )
    if not (shape.command in where or shape.command.startswith("/") or shape.command == HELPER):
        return (
            f"{shape.origin}: no path known for `{shape.command}` "
            f"(give it: --path {shape.command}=/usr/bin/{shape.command})"
        )
    counts = [int(n) for a in shape.args for n in _COUNTS.findall(a) for n in n.split(",") if n]
    if any(n > DUP_MAX for n in counts):
        return f"{shape.origin}: a repetition count over {DUP_MAX}"
    for arg in shape.args:
        try:
            re.compile(arg)
        except re.error as e:
            return f"{shape.origin}: {arg[:60]!r} is not a regular expression ({e})"
    return ""


def node_rules(
    found: Sequence[Rule], paths: Mapping[str, str] | None = None, logs: Sequence[str] = ()
) -> str:
    """The helper's rules.json: the commands, the cib edits, the new files a runbook writes,
    the log files habot reads (each with its rotation `.1`), and the programs' paths."""
    where = {**PATHS, **(paths or {})}
    document = {
        "version": helper.RULES_VERSION,
        "written_by": f"habot {__version__}",
        "paths": {name: where[name] for name in sorted(where)},
        "commands": [r.entry() for r in found if r.kind == "commands"],
        "cib_edits": [r.entry() for r in found if r.kind == "cib_edits"],
        "writes": [r.entry() for r in found if r.kind == "writes"],
        "logs": sorted(set(logs)),
    }
    for rule in found:
        if rule.kind != "writes":
            document["paths"][rule.command] = rule.path  # type: ignore[index]
    return json.dumps(document, indent=1, sort_keys=False) + "\n"


def helper_text() -> str:
    """habot-node itself, as shipped in the package."""
    return (resources.files("habot.node") / "helper.py").read_text()


def agent_text() -> str:
    """habot-alert, Pacemaker's alert agent for habot, as shipped in the package."""
    return (resources.files("habot.node") / "alert_agent.py").read_text()


def render(user: str, helper: str = HELPER_PATH) -> str:
    """The sudoers file: the node user may run the helper as root, and nothing else."""
    if not USER.fullmatch(user):
        raise SudoersError(f"{user!r} is not a user name")
    return "\n".join(
        [
            f"# sudoers for habot's node user `{user}`: written by `habot sudoers` (habot "
            f"{__version__}).",
            "# The node user may run one program as root: habot-node, which runs only what its",
            f"# rules allow ({helper.rsplit('/', 1)[0]}/rules.json), argument by argument.",
            "# `habot node-files DIR` writes the helper, its rules and this file; on every node:",
            f"#   install -d -m 0755 -o root -g root {helper.rsplit('/', 1)[0]}",
            f"#   install -m 0755 -o root -g root habot-node {helper}",
            f"#   install -m 0644 -o root -g root rules.json {helper.rsplit('/', 1)[0]}/",
            "#   (and, for the agent alert source, Pacemaker's alert agent, run as hacluster:)",
            f"#   install -m 0755 -o root -g root habot-alert {helper.rsplit('/', 1)[0]}/",
            "#   visudo -cf habot.sudoers && install -m 0440 -o root -g root habot.sudoers "
            "/etc/sudoers.d/habot",
            f"Defaults!{helper} !requiretty",
            f"{user} ALL=(root) NOPASSWD: {helper}",
            "",
        ]
    )


def allows(
    found: Iterable[Rule], argv: Sequence[str], paths: Mapping[str, str] | None = None
) -> bool:
    """Whether the helper would run argv (`exec`), by its own matching."""
    del paths  # the helper finds commands by name; the path is the rule's
    kind, command, args = "commands", argv[0], list(argv[1:])
    if command == HELPER:  # only `write-new` of its verbs is a runbook's
        kind, command, args = "writes", argv[1] if len(argv) > 1 else "", list(argv[2:])
    document: dict[str, object] = {kind: [r.entry() for r in found if r.kind == kind]}
    try:
        helper.permitted(document, kind, command, args)
    except helper.Refused:
        return False
    return all(helper.clean(a) for a in argv)


def allows_edit(found: Iterable[Rule], edit: Sequence[str]) -> bool:
    """Whether the helper would apply this `pcs -f SHADOW ...` edit (or crmsh's, `["crm",
    ARGS...]`) in a `cib` step."""
    document: dict[str, object] = {"cib_edits": [r.entry() for r in found if r.kind == "cib_edits"]}
    command, args = ("crm", list(edit[1:])) if tuple(edit[:1]) == ("crm",) else ("pcs", list(edit))
    try:
        helper.permitted(document, "cib_edits", command, args)
    except helper.Refused:
        return False
    return all(helper.clean(a) for a in edit)
