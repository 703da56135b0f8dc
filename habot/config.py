"""habot's configuration file (YAML): clusters and their nodes, approvers, allowed channels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from habot import yaml_load
from habot.errors import ConfigError
from habot.ssh.transport import NodeAddress

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeConfig(_Strict):
    name: Name
    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(default="root", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    sudo: bool | None = Field(
        default=None,
        description="run every command through `sudo -n` (default: yes unless user is root; "
        "no for a user whose rights come from a Pacemaker ACL role)",
    )

    def address(self) -> NodeAddress:
        sudo = self.user != "root" if self.sudo is None else self.sudo
        return NodeAddress(self.name, self.host, self.port, self.user, sudo)


LogPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]{1,255}$")]


class FlappingConfig(_Strict):
    """A condition that keeps coming back is one card: more than `episodes` episodes of one
    alert within `window_s` make it flapping; it notifies once, then counts, and resolves
    when the condition has stayed gone for `quiet_s`."""

    episodes: int = Field(default=3, ge=1, le=100)
    window_s: float = Field(default=600, gt=0, le=86_400)
    quiet_s: float = Field(default=120, ge=0, le=86_400)


class AlertsConfig(_Strict):
    sources: tuple[Literal["journal", "file", "agent"], ...] = Field(
        default=("journal",),
        min_length=1,
        description="journal: journald (Debian/RHEL nodes); file: "
        "pacemaker.log with an inode+offset cursor; agent: the records of habot's alert "
        "agent (the alert-agent runbook installs it), with the same cursor",
    )
    agent_file: str = Field(
        default="/var/log/pacemaker/habot-events.jsonl",
        pattern=r"^/var/log/pacemaker/[A-Za-z0-9_.-]{1,64}\.jsonl$",
        description="where the alert agent writes its records (the alert's recipient)",
    )
    log_file: str = Field(
        default="/var/log/pacemaker/pacemaker.log",
        description="the file source's file, if log_files is empty",
    )
    log_files: tuple[LogPath, ...] = Field(
        default=(),
        description="files the file source reads on each node, each with its own cursor: "
        "pacemaker.log, corosync.log, or a syslog file (/var/log/syslog, /var/log/messages)",
    )
    log_timezone: str = Field(
        default="UTC",
        pattern=r"^[A-Za-z0-9_+/-]{1,64}$",
        description="the nodes' local time zone (IANA name): log files write local time with "
        "no year or offset, and the file source orders lines by it",
    )
    interval_s: float = Field(default=30, ge=1, le=3600)
    follow: bool = Field(
        default=True,
        description="journal source: follow each node's journal (journalctl --follow) "
        "between polls, so a problem is posted within about a second; the poll stays the "
        "catch-up (and reads a node's journal whenever its stream is down)",
    )
    lookback_s: float = Field(default=3600, ge=0, description="how far back the first poll reads")
    unreachable_after: int = Field(default=3, ge=1, description="polls in a row before an alert")
    rules: tuple[Path, ...] = Field(default=(), description="more alert rule files (YAML)")
    daily_check: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="HH:MM in log_timezone: once a day from then, simulate each online node's "
        "failure and alert on what would have nowhere to run, and on move/ban constraints "
        "left longer than left_behind_h (null: no daily check)",
    )
    left_behind_h: float = Field(
        default=24, gt=0, le=24 * 365, description="the daily check's age for a move constraint"
    )
    flapping: FlappingConfig = Field(default_factory=lambda: FlappingConfig())

    @property
    def files(self) -> tuple[str, ...]:
        return self.log_files or (self.log_file,)

    @field_validator("log_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name: UTC, Europe/Madrid)"
            ) from e
        return value


SlackId = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,32}$")]
# A channel habot answers in: a public (C…) or private (G…, or C… for newer ones) channel. A
# direct message (D…) is not one: habot posts cards and reads a channel's recent history
# there, which needs the bot in the channel and scopes a DM does not have.
ChannelId = Annotated[
    str,
    Field(
        pattern=r"^[CG][A-Z0-9]{2,31}$",
        description="a channel's ID (C…, G…); not a direct message (D…)",
    ),
]
Who = tuple[SlackId, ...] | Literal["anyone"]


class Permissions(_Strict):
    """Who may do what, and where; a key left out takes the value of the level above."""

    channels: tuple[ChannelId, ...] | Literal["any"] | None = Field(
        default=None, description="Slack channel IDs where this applies"
    )
    viewers: Who | None = Field(
        default=None, description="who may see status, the audit log, policy"
    )
    requesters: Who | None = Field(default=None, description="who may ask for a runbook")
    approvers: Who | None = Field(default=None, description="who may approve (user and group IDs)")
    approvals: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="distinct approvers needed (never below the runbook's own)",
    )
    self_approval: bool | None = Field(default=None, description="may the requester be one of them")


class Policy(Permissions):
    runbooks: dict[str, Permissions] = Field(
        default_factory=dict, description="per runbook name, over the rules above"
    )


class ClusterConfig(_Strict):
    nodes: tuple[NodeConfig, ...] = Field(min_length=1)
    ssh_key: Path
    known_hosts: Path
    alerts_channel: str | None = Field(
        default=None,
        description="the alerts channel's ID (C0123ABCD), as Slack shows it in the channel's "
        "details: a name cannot be found again after a restart",
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    command_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    read_sessions: int = Field(
        default=2,
        ge=0,
        le=4,
        description="long-lived read-only shells per node (status, waits, polls); 0: every "
        "command on its own exec channel",
    )
    status_hedge_s: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="how long one node may stay silent on a status read before the next "
        "node is asked too",
    )
    alerts: AlertsConfig = Field(default_factory=lambda: AlertsConfig())
    runbook_params: dict[str, str] = Field(
        default_factory=dict, description="defaults for runbook parameters of the same name"
    )
    policy: Policy = Field(default_factory=lambda: Policy(), description="this cluster's rules")
    shell: Literal["auto", "pcs", "crmsh"] = Field(
        default="auto",
        description="the cluster shell habot's steps speak: pcs, crmsh, or auto (found on the "
        "node that answers: pcs when it has both)",
    )

    @model_validator(mode="after")
    def _unique_nodes(self) -> ClusterConfig:
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"node names repeat: {names}")
        return self

    @field_validator("alerts_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[CG][A-Z0-9]{2,31}", value):
            raise ValueError(
                f"{value[:40]!r} is not a channel ID: give the alerts channel's ID (C0123ABCD, "
                "in the channel's details in Slack) — a name cannot be found again after a "
                "restart, so a card could be posted twice"
            )
        return value


class HabotConfig(_Strict):
    clusters: dict[Name, ClusterConfig] = Field(min_length=1)
    approvers: tuple[SlackId, ...] | Literal["anyone"] = Field(
        (),
        description="Slack user IDs (U...) and user groups (S...) who may approve; `anyone` "
        "to let every member of an allowed channel approve. `habot serve` refuses to start "
        "with neither",
    )
    self_approval: bool = Field(False, description="may a requester approve their own request")
    approval_expiry_s: float = Field(900, gt=0, le=7 * 24 * 3600)
    schedule_grace_s: float = Field(
        300,
        ge=0,
        le=24 * 3600,
        description="a scheduled run found this long after its time (every habot was down) "
        "is reported missed, never run late",
    )
    schedule_max_ahead_s: float = Field(
        30 * 24 * 3600,
        gt=0,
        description="how far ahead a run may be scheduled",
    )
    allowed_channels: tuple[ChannelId, ...] | Literal["any"] = Field(
        (),
        description="Slack channel IDs (C..., G...) habot answers in (commands and every "
        "button, alert cards' included); `any` for all. `habot serve` refuses to start with "
        "neither",
    )
    console_single_operator: bool = Field(
        False,
        description="the console's operator may approve their own requests (a machine with "
        "one operator, such as the lab); written as such in the audit log",
    )
    runbook_dirs: tuple[Path, ...] = Field((), description="more runbooks (*.yaml) to load")
    policy: Policy = Field(
        default_factory=lambda: Policy(), description="rules for every cluster, per runbook"
    )

    @property
    def default_cluster(self) -> str:
        return next(iter(self.clusters))

    def channel_allowed(self, channel: str) -> bool:
        """Whether habot answers in `channel` at all (the policy then decides, per cluster and
        runbook, what may be done there)."""
        layers = [self.allowed_channels, self.policy.channels]
        layers += [p.channels for p in self.policy.runbooks.values()]
        for cluster in self.clusters.values():
            layers += [cluster.policy.channels]
            layers += [p.channels for p in cluster.policy.runbooks.values()]
        return any(c == "any" or (c is not None and channel in c) for c in layers)


def require_closed(config: HabotConfig, path: Path | str = "the config file") -> None:
    """What `habot serve` needs before it answers anyone: who may approve, and where."""
    if not config.approvers:
        raise ConfigError(
            f"{path}: approvers: none configured (list Slack user or group IDs, or write "
            "`approvers: anyone` to let every member of an allowed channel approve)"
        )
    if not config.allowed_channels:
        raise ConfigError(
            f"{path}: allowed_channels: none configured (list Slack channel IDs, or write "
            "`allowed_channels: any`)"
        )


def load_config(path: Path) -> HabotConfig:
    """Read and validate the config file; every problem is a ConfigError naming the file."""
    try:
        data = yaml_load.safe_load(path.read_text())
    except OSError as e:
        raise ConfigError(f"config file {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path}: not valid YAML: {e}") from e
    try:
        return HabotConfig.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"config file {path}: {where}: {first['msg']}") from e
