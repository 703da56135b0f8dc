"""`/ha ...` text into a typed command (pure). Anything else is a UsageError with the usage."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from datetime import datetime

from habot.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")

AUDIT_DEFAULT = 20
AUDIT_MAX = 200
USAGE = f"""\
`/ha status` — nodes, resources, failed actions and warnings
`/ha failover RESOURCE NODE` — move a resource, after approval
`/ha ban RESOURCE NODE [LIFETIME]` — keep it off a node (for PT2H, P1D, …), after approval
`/ha clear RESOURCE [NODE]` — remove the move/ban constraints left on it, after approval
`/ha restart RESOURCE [NODE]` — restart it (a clone's instance on NODE), after approval
`/ha cleanup RESOURCE [NODE]` — clear its failures and fail counts, after approval
`/ha why RESOURCE` — where it runs and, in plain words, why not elsewhere
`/ha whatif node-fail NODE` / `/ha whatif standby NODE` — what the cluster would do then
`/ha history [SINCE]` — the last hours (6h; 30m, 2h, 1d) as a timeline, newest first
`/ha runbook` — the runbooks, with their purpose and parameters
`/ha runbook NAME --help` — one runbook: parameters, steps, approval
`/ha runbook NAME [key=value ...] [--dry-run]` — run it after approval; --dry-run: plan only
`/ha schedule RUNBOOK|VERB … at 2026-12-08T02:00Z` (or `in 2h`) — approved ahead, run then \
if its plan and preview still hold; `/ha schedule` lists them; `/ha schedule cancel ID`
`/ha maintenance start [node=N] [resource=R] [for 2h] [reason…]` — alerts about it told in \
the window's thread; `/ha maintenance stop`; `/ha maintenance` lists the open windows
`/ha audit [N]` — the last N actions ({AUDIT_DEFAULT}; at most {AUDIT_MAX}): who asked, \
who approved, what ran where, exit codes
`/ha policy [RUNBOOK]` — who may see, ask and approve, and how many approvers
`/ha help` — this list
Each command about a cluster takes `cluster=NAME` (default: the config's first cluster)."""


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
    usage: str = ""  # a verb typed alone: its form asks for the rest; a prompt prints this


@dataclass(frozen=True, slots=True)
class Audit:
    limit: int = AUDIT_DEFAULT


@dataclass(frozen=True, slots=True)
class ShowPolicy:
    cluster: str | None = None
    runbook: str | None = None


@dataclass(frozen=True, slots=True)
class WhyResource:
    resource: str
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class WhatIf:
    event: str  # node-fail | standby
    node: str
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class ShowHistory:
    cluster: str | None = None
    since_s: float = 6 * 3600


@dataclass(frozen=True, slots=True)
class Schedule:
    """`/ha schedule`: list (no run, no cancel), cancel one, or ask for a run at a time
    (`at`: seconds since the epoch; `in_s`: from now)."""

    run: RunRunbook | None = None
    at: float = 0.0
    in_s: float = 0.0
    cancel: str = ""
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class Maintain:
    """`/ha maintenance`: list the open windows, start one, or stop the cluster's."""

    action: str = "list"  # list | start | stop
    node: str = ""
    resource: str = ""
    for_s: float = 3600.0
    reason: str = ""
    cluster: str | None = None


Command = (
    Help
    | Status
    | ListRunbooks
    | RunbookHelp
    | RunRunbook
    | Audit
    | ShowPolicy
    | WhyResource
    | WhatIf
    | ShowHistory
    | Schedule
    | Maintain
)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse(text: str) -> Command:
    typed = _split(text)
    named = [a for a in typed if a.startswith("cluster=")]
    if len(named) > 1:
        raise UsageError("`cluster=` is given twice")
    words = [a for a in typed if not a.startswith("cluster=")]
    if not words or words[0] in ("help", "-h", "--help"):
        return _in_cluster(Help(), "help", name(named[0][8:], "cluster") if named else None)
    verb, args = words[0].lower(), words[1:]
    command = _command(verb, args, words[0])
    return _in_cluster(command, verb, name(named[0][8:], "cluster") if named else None)


def _in_cluster(command: Command, verb: str, cluster: str | None) -> Command:
    """`cluster=NAME`, the one way every command about a cluster names it (a few also take
    it by position, as they always did: `/ha status mycluster`)."""
    if cluster is None:
        return command
    if isinstance(command, Help | ListRunbooks | RunbookHelp | Audit):
        raise UsageError(f"`/ha {verb}` takes no cluster: it answers for every cluster")
    if command.cluster not in (None, cluster):
        raise UsageError(f"two clusters given: {command.cluster} and {cluster}")
    return replace(command, cluster=cluster)


def _command(verb: str, args: list[str], typed: str) -> Command:
    if verb == "status":
        return Status(cluster=_optional_name(args, "status"))
    if verb in VERBS:
        return _verb(verb, args)
    if verb == "why":
        return _why(args)
    if verb == "whatif":
        return _whatif(args)
    if verb == "history":
        return _history(args)
    if verb == "runbook":
        return _runbook(args)
    if verb == "audit":
        return _audit(args)
    if verb == "policy":
        return _policy(args)
    if verb == "schedule":
        return _schedule(args)
    if verb == "maintenance":
        return _maintenance(args)
    raise UsageError(f"unknown command `{typed[:40]}`")


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


# The verbs a person types in an incident: each a runbook, chosen by how many positional
# arguments were given (their names, in order).
VERBS: dict[str, dict[int, tuple[str, tuple[str, ...]]]] = {
    "failover": {2: ("failover", ("resource", "node"))},
    "ban": {
        2: ("ban", ("resource", "node")),
        3: ("ban-for", ("resource", "node", "lifetime")),
    },
    "clear": {1: ("clear", ("resource",)), 2: ("clear-on-node", ("resource", "node"))},
    "restart": {1: ("restart", ("resource",)), 2: ("restart-on-node", ("resource", "node"))},
    "cleanup": {1: ("cleanup", ("resource",)), 2: ("cleanup-on-node", ("resource", "node"))},
}
VERB_USAGE = {
    "failover": "`/ha failover RESOURCE NODE`",
    "ban": "`/ha ban RESOURCE NODE [LIFETIME]` (LIFETIME: an ISO 8601 duration, PT2H, P1D)",
    "clear": "`/ha clear RESOURCE [NODE]`",
    "restart": "`/ha restart RESOURCE [NODE]`",
    "cleanup": "`/ha cleanup RESOURCE [NODE]`",
}


def _verb(verb: str, args: list[str]) -> RunRunbook:
    positional = [a for a in args if "=" not in a and a != "--dry-run"]
    if not args:  # the verb alone: its shortest runbook, whose form asks for the rest
        return RunRunbook(VERBS[verb][min(VERBS[verb])][0], usage=f"usage: {VERB_USAGE[verb]}")
    chosen = VERBS[verb].get(len(positional))
    if chosen is None:
        raise UsageError(f"usage: {VERB_USAGE[verb]}")
    runbook, names = chosen
    values = [
        value if key == "lifetime" else name(value, key)
        for key, value in zip(names, positional, strict=True)
    ]
    extra = [a for a in args if "=" in a or a == "--dry-run"]
    run = _runbook([runbook, *extra])
    assert isinstance(run, RunRunbook)
    given = {k for k, _ in run.params}
    if given & set(names):
        raise UsageError(f"usage: {VERB_USAGE[verb]} (the names go by position)")
    return RunRunbook(
        runbook,
        (*zip(names, values, strict=True), *run.params),
        cluster=run.cluster,
        dry_run=run.dry_run,
    )


def _why(args: list[str]) -> WhyResource:
    if not 1 <= len(args) <= 2:
        raise UsageError("usage: `/ha why RESOURCE [CLUSTER]`")
    cluster = name(args[1], "cluster") if len(args) == 2 else None
    return WhyResource(name(args[0], "resource"), cluster)


def _whatif(args: list[str]) -> WhatIf:
    if not 2 <= len(args) <= 3 or args[0] not in ("node-fail", "standby"):
        raise UsageError("usage: `/ha whatif node-fail NODE` or `/ha whatif standby NODE`")
    cluster = name(args[2], "cluster") if len(args) == 3 else None
    return WhatIf(args[0], name(args[1], "node"), cluster)


SINCE = re.compile(r"^([0-9]{1,3})([mhd])$")
UNIT_S = {"m": 60, "h": 3600, "d": 86400}


def _history(args: list[str]) -> ShowHistory:
    """`history`, `history CLUSTER`, `history 2h`, `history CLUSTER 2h` (at most 7 days)."""
    if len(args) > 2:
        raise UsageError("usage: `/ha history [CLUSTER] [SINCE]` (SINCE: 30m, 2h, 1d)")
    since = [a for a in args if SINCE.match(a)]
    names = [a for a in args if not SINCE.match(a)]
    if len(since) > 1 or len(names) > 1:
        raise UsageError("usage: `/ha history [CLUSTER] [SINCE]` (SINCE: 30m, 2h, 1d)")
    seconds = 6 * 3600.0
    if since:
        found = SINCE.match(since[0])
        assert found is not None
        seconds = int(found.group(1)) * UNIT_S[found.group(2)]
        if not 0 < seconds <= 7 * 86400:
            raise UsageError("`/ha history` looks back 1 minute to 7 days")
    return ShowHistory(name(names[0], "cluster") if names else None, seconds)


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


SCHEDULE_USAGE = (
    "usage: `/ha schedule [runbook] NAME [key=value ...] at 2026-12-08T02:00Z` (or `in 2h`; a verb "
    "too: `/ha schedule failover VirtualIP nodo2 in 30m`), `/ha schedule` to list, "
    "`/ha schedule cancel ID`"
)
AFTER = re.compile(
    r"^([0-9]{1,4})([mhd])$|^P(?:([0-9]{1,3})D)?(?:T(?:([0-9]{1,4})H)?(?:([0-9]{1,5})M)?)?$"
)
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _schedule(args: list[str]) -> Schedule:
    if not args:
        return Schedule()
    if args[0] == "cancel":
        if len(args) != 2 or not REQUEST_ID.match(args[1]):
            raise UsageError("usage: `/ha schedule cancel ID` (the request's ID, from the list)")
        return Schedule(cancel=args[1])
    if len(args) < 3 or args[-2] not in ("at", "in"):
        raise UsageError(SCHEDULE_USAGE)
    what, (word, when) = args[:-2], args[-2:]
    if "--dry-run" in what:
        raise UsageError("a scheduled run has no --dry-run: its card shows the plan and preview")
    verb = what[0].lower()
    if verb == "runbook":  # as `/ha runbook NAME key=value`
        run = _runbook(what[1:])
    elif verb in VERBS and any("=" not in a for a in what[1:]):  # a verb's names by position
        run = _verb(verb, what[1:])
    else:
        run = _runbook(what)
    if not isinstance(run, RunRunbook) or run.usage:
        raise UsageError(SCHEDULE_USAGE)
    if word == "at":
        return Schedule(run, at=_instant(when))
    return Schedule(run, in_s=_after(when))


def when(text: str) -> tuple[float, float]:
    """A run's time as a form takes it — `2026-12-08T02:00Z`, `in 2h`, `2h`, `at …` — as
    (seconds since the epoch, or 0.0; a delay from now, or 0.0)."""
    words = text.split()
    if len(words) == 2 and words[0].lower() in ("at", "in"):
        word, value = words[0].lower(), words[1]
    elif len(words) == 1 and (AFTER.match(words[0]) or re.match(r"^[0-9]{4}-", words[0])):
        value = words[0]
        word = "in" if AFTER.match(value) else "at"
    else:
        raise UsageError(
            f"`{text[:40]}` is not a time: write 2026-12-08T02:00Z, in 2h, or nothing to run "
            "once approved"
        )
    return (_instant(value), 0.0) if word == "at" else (0.0, _after(value))


def _instant(text: str) -> float:
    """An ISO 8601 time with its zone: 2026-12-08T02:00Z, 2026-12-08T03:00+01:00."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise UsageError(f"`{text[:40]}` is not an ISO 8601 time (2026-12-08T02:00Z)") from e
    if when.tzinfo is None:
        raise UsageError(
            f"`{text[:40]}` has no time zone: write it as 2026-12-08T02:00Z (UTC) or with its "
            "offset (+01:00)"
        )
    return when.timestamp()


def _after(text: str) -> float:
    """A delay: 30m, 2h, 1d, or an ISO 8601 duration (PT2H, P1DT2H)."""
    found = AFTER.match(text)
    if found is None or text == "P" or text.endswith("T"):
        raise UsageError(f"`{text[:40]}` is not a delay (30m, 2h, 1d, PT2H)")
    count, unit, days, hours, minutes = found.groups()
    if unit:
        seconds = int(count) * UNIT_S[unit]
    else:
        seconds = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60
    if seconds <= 0:
        raise UsageError(f"`{text[:40]}` is no delay at all")
    return float(seconds)


MAINTENANCE_USAGE = (
    "usage: `/ha maintenance start [node=NODE] [resource=RESOURCE] [for 2h] [reason…]`, "
    "`/ha maintenance stop [CLUSTER]`, `/ha maintenance` to list the open windows"
)


def _maintenance(args: list[str]) -> Maintain:
    if not args:
        return Maintain()
    action, rest = args[0], args[1:]
    if action == "stop":
        if len(rest) > 1:
            raise UsageError(MAINTENANCE_USAGE)
        return Maintain("stop", cluster=name(rest[0], "cluster") if rest else None)
    if action != "start":
        raise UsageError(MAINTENANCE_USAGE)
    named: dict[str, str] = {}
    for_s, reason = 3600.0, list[str]()
    words = iter(rest)
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key in ("node", "resource") and not reason:
            if key in named:
                raise UsageError(f"`{key}` is given twice")
            named[key] = name(value, key)
        elif word == "for" and not reason:
            for_s = _after(next(words, ""))
        else:
            reason.append(word)
    text = " ".join(reason)
    if len(text) > 300:
        raise UsageError("the reason is longer than 300 characters")
    return Maintain("start", named.get("node", ""), named.get("resource", ""), for_s, text)
