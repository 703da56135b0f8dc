"""`habot sudoers` and `habot node-files`: what an unprivileged node user needs.

sudo matches a command's arguments joined by single spaces, so two words merged into one
argument (or one split in two) pass a sudoers regex unchanged while the program sees another
command. So sudo allows exactly one program, `habot-node` (habot/node/helper.py, installed
root-owned on each node), and that program gets habot's argv one argument at a time and
matches each against the pattern of its own position in one of the rules written here:
every command habot's runbooks can run (each argument bounded by the parameters' types and
patterns) and habot's own reads (journal, log files). The status read and the shadow CIB
(pull, edits, push or simulate) are built into the helper as single steps, so allowed pieces
cannot be put together into something else.

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
from habot.alerts.sources import JournalSource, dd_argv, stat_argv
from habot.errors import HabotError
from habot.node import HELPER_PATH, helper
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
    "stonith_admin": "/usr/sbin/stonith_admin",
    "haproxy": "/usr/sbin/haproxy",
    "curl": "/usr/bin/curl",
    "dd": "/usr/bin/dd",
    "journalctl": "/usr/bin/journalctl",
    "sh": "/usr/bin/sh",
    "stat": "/usr/bin/stat",
}
SHADOW = "\0SHADOW"  # where a cib edit names its shadow CIB: the helper's own file
CURSOR = "[A-Za-z0-9=;]{1,255}"  # journald cursors (~115 characters): s=…;i=…;b=…;m=…;t=…;x=…
NUMBER = "[0-9]{1,15}"
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


def habot_reads(log_files: Sequence[str] = (), journal: bool = True) -> list[CommandShape]:
    """habot's own commands on a node, whatever the runbooks: journal and log files (the
    status read and the shadow CIB are the helper's own steps)."""
    failed = node_fail("\0NODE")
    found = [
        _fixed(SCORES, "why: the placement scores (crm_simulate -Ls)"),
        CommandShape(
            failed[0],
            tuple(f"--node-fail={NODE}" if "\0" in a else literal(a) for a in failed[1:]),
            "whatif node-fail: crm_simulate of a node's failure",
        ),
    ]
    if journal:
        source = JournalSource()
        shapes = (
            source.argv("\0CURSOR", 0),
            source.argv(None, 0),
            source.follow_argv("\0CURSOR"),
            source.follow_argv(None),
        )
        for journal_argv in shapes:
            found.append(
                CommandShape(journal_argv[0], _journal_args(journal_argv), "alerts: the journal")
            )
    for path in log_files:
        found.append(_fixed(stat_argv(path), f"alerts: {path}"))
        for name in (path, f"{path}.1"):
            argv = dd_argv(name, 0, 0)
            args = tuple(
                f"{a[: a.index('=') + 1]}{NUMBER}" if a in ("skip=0", "count=0") else literal(a)
                for a in argv[1:]
            )
            found.append(CommandShape(argv[0], args, f"alerts: {path}"))
    return found


def _fixed(argv: Sequence[str], origin: str) -> CommandShape:
    return CommandShape(argv[0], tuple(literal(a) for a in argv[1:]), origin)


def _journal_args(argv: Sequence[str]) -> tuple[str, ...]:
    args = []
    for arg in argv[1:]:
        if arg == "--after-cursor=\0CURSOR":
            args.append(f"--after-cursor={CURSOR}")
        elif arg.startswith("--since=@"):
            args.append(f"--since=@{NUMBER}")
        else:
            args.append(literal(arg))
    return tuple(args)


def rules(
    runbooks: Iterable[Runbook],
    *,
    log_files: Sequence[str] = (),
    journal: bool = True,
    paths: Mapping[str, str] | None = None,
) -> list[Rule]:
    """Every rule, identical ones merged (their origins kept), in a stable order."""
    where = {**PATHS, **(paths or {})}
    found: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    problems = []
    commands = habot_reads(log_files, journal)
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
        kind, args = "commands", shape.args
        if shape.command == "pcs" and shape.args[:2] == (literal("-f"), SHADOW):
            kind, args = "cib_edits", shape.args[2:]
        origins = found.setdefault((kind, shape.command, args), [])
        if shape.origin not in origins:
            origins.append(shape.origin)
    if problems:
        raise SudoersError("cannot write the node rules:\n  " + "\n  ".join(problems))
    return [
        Rule(kind, command, where.get(command, command), args, tuple(origins))
        for (kind, command, args), origins in found.items()
    ]


def _problem(shape: CommandShape, where: Mapping[str, str]) -> str:
    if not (shape.command in where or shape.command.startswith("/")):
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


def node_rules(found: Sequence[Rule], paths: Mapping[str, str] | None = None) -> str:
    """The helper's rules.json: the commands, the cib edits and the programs' paths."""
    where = {**PATHS, **(paths or {})}
    document = {
        "version": 1,
        "written_by": f"habot {__version__}",
        "paths": {name: where[name] for name in sorted(where)},
        "commands": [r.entry() for r in found if r.kind == "commands"],
        "cib_edits": [r.entry() for r in found if r.kind == "cib_edits"],
    }
    for rule in found:
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
    document = {"commands": [r.entry() for r in found if r.kind == "commands"]}
    try:
        helper.allowed(document | {"paths": {argv[0]: "/x"}}, "commands", argv[0], list(argv[1:]))
    except helper.Refused:
        return False
    return all(helper.clean(a) for a in argv)


def allows_edit(found: Iterable[Rule], edit: Sequence[str]) -> bool:
    """Whether the helper would apply this `pcs -f SHADOW ...` edit in a `cib` step."""
    document = {"cib_edits": [r.entry() for r in found if r.kind == "cib_edits"]}
    try:
        helper.allowed(document | {"paths": {"pcs": "/x"}}, "cib_edits", "pcs", list(edit))
    except helper.Refused:
        return False
    return all(helper.clean(a) for a in edit)
