"""`habot config check`: is this config one `habot serve` would start with, and what does its
policy let whom do, cluster by cluster and runbook by runbook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from habot.config import HabotConfig, Permissions, Policy, require_closed
from habot.errors import ConfigError
from habot.runbooks.model import Runbook
from habot.runbooks.plan import crmsh_refusals
from habot.service import policy


def problems(config: HabotConfig, runbooks: dict[str, Runbook]) -> list[str]:
    found = []
    try:
        require_closed(config)
    except ConfigError as e:
        found.append(str(e))
    for where, layer in _policies(config):
        found += [
            f"{where}.runbooks.{name}: no such runbook (there are: {', '.join(sorted(runbooks))})"
            for name in layer.runbooks
            if name not in runbooks
        ]
    return found


def unknown_to_slack(config: HabotConfig, client: WebClient) -> list[str]:
    """User and group IDs the config names that Slack does not know."""
    users, groups = _ids(config)
    found = []
    for user in sorted(users):
        try:
            client.users_info(user=user)
        except SlackApiError as e:
            found.append(f"user {user}: {e.response.get('error', 'unknown')}")
    if groups:
        try:
            listed: list[dict[str, Any]] = client.usergroups_list().get("usergroups", [])
            known = {str(g.get("id", "")) for g in listed}
        except SlackApiError as e:
            return [*found, f"user groups cannot be listed: {e.response.get('error', '')}"]
        found += [f"user group {g}: not in this workspace" for g in sorted(groups - known)]
    return found


def not_a_member(config: HabotConfig, client: WebClient) -> list[str]:
    """Channels habot must be a member of and is not: each alerts channel (after a restart,
    habot reads its recent messages so that no card is posted twice) and each channel the
    config names (approval cards are posted there)."""
    wanted = {c.alerts_channel: f"clusters.{n}.alerts_channel" for n, c in config.clusters.items()}
    if isinstance(config.allowed_channels, tuple):
        wanted |= {c: "allowed_channels" for c in config.allowed_channels if c not in wanted}
    found = []
    for channel, key in sorted((c, k) for c, k in wanted.items() if c):
        try:
            info = client.conversations_info(channel=channel).get("channel") or {}
        except SlackApiError as e:
            found.append(f"{key}: {channel}: {e.response.get('error', 'unknown')}")
            continue
        if not info.get("is_member"):
            found.append(
                f"{key}: habot is not a member of {channel} (#{info.get('name', '?')}): invite "
                "it (/invite @habot) — it posts its cards there, and reads its recent "
                "messages after a restart so that no card is posted twice"
            )
    return found


def effective_policy(config: HabotConfig, runbooks: dict[str, Runbook]) -> Iterator[str]:
    for cluster in config.clusters:
        yield from policy.describe(policy.effective(config, cluster))
        for runbook in sorted(runbooks):
            rules = policy.effective(config, cluster, runbooks[runbook])
            yield from policy.describe(rules)


def shells(config: HabotConfig, runbooks: dict[str, Runbook]) -> Iterator[str]:
    """Each cluster's shell, and on a crmsh cluster each runbook it cannot run, by its step."""
    for name, cluster in config.clusters.items():
        if cluster.shell == "auto":
            yield (
                f"{name}: shell found on the nodes at the first read (pcs, or crmsh where "
                "pcs is not installed); `/ha status` says which"
            )
            continue
        yield f"{name}: shell {cluster.shell} (configured)"
        if cluster.shell != "crmsh":
            continue
        for runbook in sorted(runbooks):
            why = crmsh_refusals(runbooks[runbook])
            if why:
                yield f"  {runbook} cannot run on {name}: {why[0]}"


def _policies(config: HabotConfig) -> Iterator[tuple[str, Policy]]:
    yield "policy", config.policy
    for name, cluster in config.clusters.items():
        yield f"clusters.{name}.policy", cluster.policy


def _ids(config: HabotConfig) -> tuple[set[str], set[str]]:
    named: set[str] = set()
    if isinstance(config.approvers, tuple):
        named |= set(config.approvers)
    layers: list[Permissions] = []
    for _, p in _policies(config):
        layers += [p, *p.runbooks.values()]
    for layer in layers:
        for who in (layer.viewers, layer.requesters, layer.approvers):
            if isinstance(who, tuple):
                named |= set(who)
    return {i for i in named if not i.startswith("S")}, {i for i in named if i.startswith("S")}
