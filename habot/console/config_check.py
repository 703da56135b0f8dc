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


def effective_policy(config: HabotConfig, runbooks: dict[str, Runbook]) -> Iterator[str]:
    for cluster in config.clusters:
        yield from policy.describe(policy.effective(config, cluster))
        for runbook in sorted(runbooks):
            rules = policy.effective(config, cluster, runbooks[runbook])
            yield from policy.describe(rules)


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
