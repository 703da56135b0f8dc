"""What `habot serve` needs besides a valid config: the files it names (each SSH key and
known_hosts, the runbook directories, the alert rule files) there and readable, and each
alerts channel one where habot answers — so `habot config check` names every problem serve
would stop on, or fail on later, by its key and its file; and serve stops on the same ones
with one line, before it connects to anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncssh

from habot.alerts.rules import load_catalogue
from habot.config import HabotConfig
from habot.errors import ConfigError, RunbookError
from habot.runbooks.loader import load_all
from habot.service import policy


def fatal(config: HabotConfig) -> list[str]:
    """Problems `habot serve` stops on: files it needs that are missing or unreadable."""
    return [*_keys(config), *_runbook_dirs(config), *_rule_files(config)]


def problems(config: HabotConfig) -> list[str]:
    """Everything: what serve stops on, and what would fail silently once it runs."""
    return [*fatal(config), *_alert_buttons(config)]


def require(config: HabotConfig, path: Path | str) -> None:
    """ConfigError (one line: the first problem, by key and file) when serve cannot run."""
    found = fatal(config)
    if found:
        more = f" (and {len(found) - 1} more: `habot config check`)" if len(found) > 1 else ""
        raise ConfigError(f"{path}: {found[0]}{more}")


def _keys(config: HabotConfig) -> Iterator[str]:
    for name, cluster in config.clusters.items():
        where = f"clusters.{name}"
        why = _unreadable(cluster.ssh_key) or _not_a_key(cluster.ssh_key)
        if why:
            yield f"{where}.ssh_key: {cluster.ssh_key}: {why}"
        why = _unreadable(cluster.known_hosts) or _not_known_hosts(cluster.known_hosts)
        if why:
            yield f"{where}.known_hosts: {cluster.known_hosts}: {why}"


def _unreadable(path: Path) -> str:
    try:
        with path.open("rb"):
            return ""
    except OSError as e:
        return e.strerror or str(e)


def _not_a_key(path: Path) -> str:
    try:
        asyncssh.read_private_key(str(path))
    except (asyncssh.KeyImportError, ValueError) as e:
        return f"not a private key habot can use ({e}; a key with a passphrase cannot be used)"
    return ""


def _not_known_hosts(path: Path) -> str:
    try:
        asyncssh.read_known_hosts(str(path))
    except (ValueError, asyncssh.KeyImportError) as e:
        return f"not a known_hosts file ({e})"
    return ""


def _runbook_dirs(config: HabotConfig) -> Iterator[str]:
    for index, directory in enumerate(config.runbook_dirs):
        if not directory.is_dir():
            why = "not a directory" if directory.exists() else "No such file or directory"
            yield f"runbook_dirs[{index}]: {directory}: {why}"
    try:
        load_all([d for d in config.runbook_dirs if d.is_dir()])
    except RunbookError as e:
        yield f"runbook_dirs: {str(e).splitlines()[0]}"


def _rule_files(config: HabotConfig) -> Iterator[str]:
    for name, cluster in config.clusters.items():
        for index, path in enumerate(cluster.alerts.rules):
            why = _unreadable(path)
            if why:
                yield f"clusters.{name}.alerts.rules[{index}]: {path}: {why}"
                continue
            try:
                load_catalogue([path])
            except ConfigError as e:
                yield f"clusters.{name}.alerts.rules[{index}]: {e}"


def _alert_buttons(config: HabotConfig) -> Iterator[str]:
    """An alerts channel where habot does not answer: every card's buttons (Run, Snooze,
    Acknowledge) would be refused there."""
    for name, cluster in config.clusters.items():
        channel = cluster.alerts_channel
        if channel is None:
            continue
        rules = policy.effective(config, name)
        channels = rules["channels"]
        allowed = channels.value == "any" or channel in channels.value  # type: ignore[operator]
        if not (config.channel_allowed(channel) and allowed):
            yield (
                f"clusters.{name}.alerts_channel: {channel} is not a channel habot answers in "
                f"for {name} (`{channels.source}` allows {_shown(channels.value)}): every "
                "alert card's buttons would be refused there — add it"
            )


def _shown(value: object) -> str:
    return "any channel" if value == "any" else ", ".join(map(str, value or ())) or "none"  # type: ignore[call-overload]
