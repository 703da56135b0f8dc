"""`/ha ...` text into a typed command (pure). Anything else is a UsageError with the usage."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from habot.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")

USAGE = """\
`/ha status [CLUSTER]` — nodes, resources, failed actions and warnings
`/ha failover RESOURCE NODE [cluster=NAME]` — move a resource, after approval
`/ha runbook` — the runbooks, with their purpose and parameters
`/ha runbook NAME --help` — one runbook: parameters, steps, approval
`/ha runbook NAME [key=value ...] [--dry-run]` — run it after approval; --dry-run: plan only
`/ha audit [N]` — the last N actions: who asked, who approved, what ran where, exit codes
`/ha policy [CLUSTER] [RUNBOOK]` — who may see, ask and approve, and how many approvers
`/ha help` — this list"""
AUDIT_DEFAULT = 20
AUDIT_MAX = 200


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Status:
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class ListRunbooks:
    pass


@dataclass(frozen=True, slots=True)
class RunbookHelp:
    name: str


@dataclass(frozen=True, slots=True)
class RunRunbook:
    name: str
    params: tuple[tuple[str, str], ...] = ()
    cluster: str | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Audit:
    limit: int = AUDIT_DEFAULT


@dataclass(frozen=True, slots=True)
class ShowPolicy:
    cluster: str | None = None
    runbook: str | None = None


Command = Help | Status | ListRunbooks | RunbookHelp | RunRunbook | Audit | ShowPolicy
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse(text: str) -> Command:
    words = _split(text)
    if not words or words[0] in ("help", "-h", "--help"):
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "status":
        return Status(cluster=_optional_name(args, "status"))
    if verb == "failover":
        return _failover(args)
    if verb == "runbook":
        return _runbook(args)
    if verb == "audit":
        return _audit(args)
    if verb == "policy":
        return _policy(args)
    raise UsageError(f"unknown command `{words[0][:40]}`")


def _split(text: str) -> list[str]:
    try:
        words = shlex.split(text.strip())
    except ValueError as e:
        raise UsageError(f"cannot read that command: {e}") from e
    if words and words[0] == "/ha":
        words = words[1:]
    return words


def _optional_name(args: list[str], verb: str) -> str | None:
    if len(args) > 1:
        raise UsageError(f"`{verb}` takes at most one cluster name")
    if not args:
        return None
    return name(args[0], "cluster")


def name(text: str, what: str) -> str:
    """A resource, node or cluster name as typed: refused unless it looks like one."""
    if not NAME.match(text):
        raise UsageError(f"`{text[:40]}` is not a valid {what} name")
    return text


def _failover(args: list[str]) -> RunRunbook:
    positional = [a for a in args if "=" not in a]
    if len(positional) != 2:
        raise UsageError("usage: `/ha failover RESOURCE NODE`")
    resource, node = name(positional[0], "resource"), name(positional[1], "node")
    run = _runbook(["failover", *[a for a in args if "=" in a]])
    assert isinstance(run, RunRunbook)
    return RunRunbook(
        "failover",
        (("resource", resource), ("node", node), *run.params),
        cluster=run.cluster,
        dry_run=run.dry_run,
    )


def _runbook(args: list[str]) -> Command:
    if not args:
        return ListRunbooks()
    runbook = name(args[0], "runbook")
    rest = args[1:]
    if rest in (["--help"], ["-h"], ["help"]):
        return RunbookHelp(runbook)
    dry_run = "--dry-run" in rest
    params: dict[str, str] = {}
    for arg in (a for a in rest if a != "--dry-run"):
        key, sep, value = arg.partition("=")
        if not sep or not KEY.match(key):
            raise UsageError(f"`{arg[:40]}` is not key=value (see `/ha runbook {runbook} --help`)")
        if key in params:
            raise UsageError(f"`{key}` is given twice")
        params[key] = value
    cluster = params.pop("cluster", None)
    return RunRunbook(
        runbook,
        tuple(params.items()),
        cluster=name(cluster, "cluster") if cluster is not None else None,
        dry_run=dry_run,
    )


def _audit(args: list[str]) -> Audit:
    if not args:
        return Audit()
    if (
        len(args) > 1
        or not re.fullmatch(r"[0-9]{1,4}", args[0])
        or not 1 <= int(args[0]) <= AUDIT_MAX
    ):
        raise UsageError(f"usage: `/ha audit [N]` with N from 1 to {AUDIT_MAX}")
    return Audit(int(args[0]))


def _policy(args: list[str]) -> ShowPolicy:
    """`policy`, `policy CLUSTER`, `policy CLUSTER RUNBOOK` or `policy runbook=NAME`."""
    named = dict(a.partition("=")[::2] for a in args if "=" in a)
    plain = [a for a in args if "=" not in a]
    if len(plain) > 2 or set(named) - {"cluster", "runbook"}:
        raise UsageError("usage: `/ha policy [CLUSTER] [RUNBOOK]`")
    cluster = named.get("cluster") or (plain[0] if plain else None)
    runbook = named.get("runbook") or (plain[1] if len(plain) > 1 else None)
    return ShowPolicy(
        cluster=name(cluster, "cluster") if cluster else None,
        runbook=name(runbook, "runbook") if runbook else None,
    )
