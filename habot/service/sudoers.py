"""`habot sudoers`: what an unprivileged node user needs, as a sudoers file to review and
install — every command habot's runbooks can run (their arguments bounded by the parameters'
types and patterns), habot's own reads (status, journal, log files) and the shadow-CIB
plumbing, each a command path and one regular expression over its arguments. Nothing else.

`allows()` answers what sudo would, so the tests can hold every argv habot builds against the
rules it generates (the lab then proves it with the real sudo)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from habot import __version__
from habot.alerts.sources import JournalSource, dd_argv, stat_argv
from habot.cluster.live import STATUS
from habot.cluster.scratch import (
    MADE_ROOT,
    MKTEMP_ROOT,
    removal,
    shadow_pull,
    shadow_push,
    shadow_simulate,
)
from habot.errors import HabotError
from habot.runbooks.model import Runbook
from habot.runbooks.shapes import DUP_MAX, CommandShape, ShapeError, literal, shapes

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
    "curl": "/usr/bin/curl",
    "dd": "/usr/bin/dd",
    "journalctl": "/usr/bin/journalctl",
    "mktemp": "/usr/bin/mktemp",
    "rm": "/usr/bin/rm",
    "sh": "/usr/bin/sh",
    "stat": "/usr/bin/stat",
}
SHADOW = MADE_ROOT + r"/cib\.xml"
REGEX_MAX = 1024  # sudoers' limit on one regular expression
CURSOR = "[A-Za-z0-9=;]{1,255}"  # journald cursors (~115 characters): s=…;i=…;b=…;m=…;t=…;x=…
NUMBER = "[0-9]{1,15}"
USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_COUNTS = re.compile(r"(?<!\\)\{([0-9]+(?:,[0-9]*)?)\}")  # {m}, {m,}, {m,n}, not \{


class SudoersError(HabotError):
    """A runbook command that cannot be bounded, or a command with no known path."""


@dataclass(frozen=True, slots=True)
class Rule:
    path: str
    args_regex: str  # "^...$", or "" for a command that takes no arguments
    origins: tuple[str, ...]

    def line(self, user: str) -> str:
        args = self.args_regex.replace("#", "\\#") if self.args_regex else '""'
        return f"{user} ALL=(root) NOPASSWD: {self.path} {args}"


def habot_reads(log_files: Sequence[str] = (), journal: bool = True) -> list[CommandShape]:
    """habot's own commands on a node, whatever the runbooks: status, journal, log files,
    the private directory and shadow CIB of `cib:` steps and previews."""
    found = [_fixed(STATUS, "status: crm_mon, constraints and cluster name in one read")]
    if journal:
        source = JournalSource()
        for journal_argv in (source.argv("\0CURSOR", 0), source.argv(None, 0)):
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
    plumbing = "cib steps and previews: a private directory under /run"
    found.append(_fixed(MKTEMP_ROOT, plumbing))
    remove = removal("/run/habot.AAAAAAAAAA")
    found.append(CommandShape(remove[0], (*map(literal, remove[1:-1]), MADE_ROOT), plumbing))
    for shadow_argv, why in (
        (shadow_pull("\0"), "cib steps and previews: the shadow CIB"),
        (shadow_push("\0"), "cib steps: the shadow CIB pushed"),
        (shadow_simulate("\0"), "previews: crm_simulate on the shadow CIB"),
    ):
        args = tuple(SHADOW if a == "\0" else literal(a) for a in shadow_argv[1:])
        found.append(CommandShape(shadow_argv[0], args, why))
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
    found: dict[tuple[str, str], list[str]] = {}
    problems = []
    commands = habot_reads(log_files, journal)
    for runbook in sorted(runbooks, key=lambda r: r.name):
        try:
            commands += shapes(runbook, SHADOW)
        except ShapeError as e:
            problems.append(str(e))
    for shape in commands:
        path = where.get(shape.command, shape.command if shape.command.startswith("/") else "")
        if not path:
            problems.append(
                f"{shape.origin}: no path known for `{shape.command}` "
                f"(give it: --path {shape.command}=/usr/bin/{shape.command})"
            )
            continue
        regex = shape.args_regex if shape.args else ""
        if len(regex) > REGEX_MAX:
            problems.append(f"{shape.origin}: the rule is {len(regex)} characters (sudo: 1024)")
            continue
        counts = [int(n) for n in _COUNTS.findall(regex) for n in n.split(",") if n]
        if any(n > DUP_MAX for n in counts):
            problems.append(f"{shape.origin}: a repetition count over {DUP_MAX} (sudo refuses it)")
            continue
        origins = found.setdefault((path, regex), [])
        if shape.origin not in origins:
            origins.append(shape.origin)
    if problems:
        raise SudoersError("cannot write the sudoers rules:\n  " + "\n  ".join(problems))
    return [Rule(path, regex, tuple(origins)) for (path, regex), origins in found.items()]


def render(found: Sequence[Rule], user: str, runbooks: Iterable[Runbook]) -> str:
    if not USER.fullmatch(user):
        raise SudoersError(f"{user!r} is not a user name")
    names = ", ".join(sorted(r.name for r in runbooks))
    lines = [
        f"# sudoers for habot's node user `{user}`: written by `habot sudoers` (habot "
        f"{__version__})",
        f"# from the runbooks {names}, and habot's own reads.",
        "# Review it, then on every node:",
        "#   visudo -cf habot.sudoers && install -m 0440 -o root -g root habot.sudoers "
        "/etc/sudoers.d/habot",
        "# Each rule is one command and one regular expression over its arguments (sudo 1.9.10",
        "# or later matches the arguments joined by single spaces). Parameters are bounded by",
        "# their types and patterns: names of resources and nodes, the runbook's own patterns.",
        "# habot runs every command as `sudo -n -- COMMAND ...`, inside `timeout`.",
        "",
    ]
    for rule in found:
        lines += [f"# {origin}" for origin in rule.origins]
        lines += [rule.line(user), ""]
    return "\n".join(lines)


def allows(
    found: Iterable[Rule], argv: Sequence[str], paths: Mapping[str, str] | None = None
) -> bool:
    """Whether sudo would run argv under these rules (paths as sudo resolves them)."""
    path = {**PATHS, **(paths or {})}.get(argv[0], argv[0])
    joined = " ".join(argv[1:])
    for rule in found:
        if rule.path != path:
            continue
        if not rule.args_regex:
            if not argv[1:]:
                return True
            continue
        if re.fullmatch(rule.args_regex[1:-1], joined):
            return True
    return False
