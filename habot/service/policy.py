"""Who may do what, per cluster and per runbook (policy lives here, never in an adapter).

The rules come in layers, each key taken from the last layer that sets it:

    shipped defaults -> the config's top level (approvers, allowed_channels, self_approval)
    -> policy -> policy.runbooks.NAME -> clusters.C.policy -> clusters.C.policy.runbooks.NAME

Shipped defaults: anyone in an allowed channel may see status and ask; every runbook that
changes the cluster needs one approver, a destructive one two; a runbook's own `approval` is a
floor no policy lowers. A refusal names the rule that refused and who could do it instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from habot.config import HabotConfig, Permissions
from habot.errors import UsageError
from habot.runbooks.model import Runbook

KEYS = ("channels", "viewers", "requesters", "approvers", "approvals", "self_approval")
Verb = Literal["view", "request", "approve"]
VIA_CONSOLE = "console"  # the local operator: no Slack channel, no Slack groups
VIA_HOME = "app-home"  # a person's own home tab, for a cluster that answers in any channel


class PolicyError(UsageError):
    """A policy rule refused the action; the message names the rule and who may."""


class Directory(Protocol):
    """Who is in a user group (Slack's usergroups); an unreadable group has no members."""

    async def members(self, group: str) -> frozenset[str]: ...


class NoGroups:
    async def members(self, group: str) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True, slots=True)
class Setting:
    value: object
    source: str  # where in the config it was set ("shipped default" when nowhere)


@dataclass(frozen=True, slots=True)
class Effective:
    cluster: str
    runbook: str | None
    settings: dict[str, Setting]

    def __getitem__(self, key: str) -> Setting:
        return self.settings[key]

    @property
    def approvals(self) -> int:
        value = self.settings["approvals"].value
        return value if isinstance(value, int) else 1


def effective(config: HabotConfig, cluster: str, runbook: Runbook | None = None) -> Effective:
    settings = {k: Setting(v, "shipped default") for k, v in _defaults(runbook).items()}
    for source, layer in _layers(config, cluster, runbook.name if runbook else None):
        for key in KEYS:
            value = getattr(layer, key, None)
            if value is not None:
                settings[key] = Setting(value, source)
    floor = runbook.approvals_needed if runbook is not None else 0
    if isinstance(settings["approvals"].value, int) and settings["approvals"].value < floor:
        settings["approvals"] = Setting(floor, f"the runbook's own `approval` ({runbook.name})")  # type: ignore[union-attr]
    return Effective(cluster, runbook.name if runbook else None, settings)


def _defaults(runbook: Runbook | None) -> dict[str, object]:
    needed = 0
    if runbook is not None:
        needed = max(runbook.approvals_needed, 2 if runbook.destructive else 1)
    return {
        "channels": (),
        "viewers": "anyone",
        "requesters": "anyone",
        "approvers": (),
        "approvals": needed,
        "self_approval": False,
    }


def _layers(
    config: HabotConfig, cluster: str, runbook: str | None
) -> Iterator[tuple[str, Permissions | _TopLevel]]:
    """Least specific first: a rule about one runbook beats a rule about a whole cluster, so
    a cluster-wide `approvers` never silently replaces what a runbook's own rule says."""
    yield "the config's top level", _TopLevel(config)
    yield "policy", config.policy
    mine = config.clusters[cluster].policy if cluster in config.clusters else None
    if mine is not None:
        yield f"clusters.{cluster}.policy", mine
    if runbook is not None and runbook in config.policy.runbooks:
        yield f"policy.runbooks.{runbook}", config.policy.runbooks[runbook]
    if mine is not None and runbook is not None and runbook in mine.runbooks:
        yield f"clusters.{cluster}.policy.runbooks.{runbook}", mine.runbooks[runbook]


@dataclass(frozen=True)
class _TopLevel:
    """The top-level keys habot had before policies, as the first layer."""

    config: HabotConfig

    @property
    def channels(self) -> object:
        return self.config.allowed_channels or None

    @property
    def approvers(self) -> object:
        return self.config.approvers or None

    @property
    def self_approval(self) -> object:
        return self.config.self_approval


@dataclass(frozen=True, slots=True)
class Actor:
    user: str
    channel: str  # VIA_CONSOLE for the console


async def check(rules: Effective, verb: Verb, actor: Actor, directory: Directory) -> None:
    """PolicyError unless `actor` may `verb` here."""
    if actor.channel not in (VIA_CONSOLE, VIA_HOME):
        channels = rules["channels"]
        if channels.value != "any" and actor.channel not in channels.value:  # type: ignore[operator]
            raise PolicyError(
                f"refused by `{channels.source}`: habot is not enabled in this channel "
                f"({actor.channel[:40]}); it answers in {_who(channels.value, 'channel')}"
            )
    key = {"view": "viewers", "request": "requesters", "approve": "approvers"}[verb]
    allowed = rules[key]
    if not await member(actor.user, allowed.value, directory):
        raise PolicyError(
            f"refused by `{allowed.source}`: you may not {verb} here"
            f"{f' ({rules.runbook})' if rules.runbook and verb != 'view' else ''}; "
            f"who may: {_who(allowed.value, 'user')}"
        )


async def member(user: str, who: object, directory: Directory) -> bool:
    if who == "anyone":
        return True
    listed = tuple(who) if isinstance(who, tuple | list) else ()
    if user in listed:
        return True
    for group in (g for g in listed if g.startswith("S")):
        if user in await directory.members(group):
            return True
    return False


def _who(value: object, kind: str) -> str:
    if value in ("anyone", "any"):
        return "anyone" if kind == "user" else "any channel"
    listed = tuple(value) if isinstance(value, tuple | list) else ()
    if not listed:
        return "nobody (none is configured)"
    if kind == "channel":
        return ", ".join(f"<#{c}>" for c in listed)
    return ", ".join(f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in listed)


def describe(rules: Effective) -> list[str]:
    """The effective rules in words, each with where it was set."""
    where = f"{rules.cluster}" + (f" / {rules.runbook}" if rules.runbook else "")
    lines = [f"policy for {where}:"]
    for key in KEYS:
        setting = rules[key]
        shown = _who(setting.value, "channel" if key == "channels" else "user")
        if key in ("approvals", "self_approval"):
            shown = str(setting.value).lower()
        lines.append(f"  {key}: {shown}  (from {setting.source})")
    return lines
