"""Prometheus metrics (served at /metrics): counts, durations and states — never a secret,
and of the clusters nothing beyond names and counts. One registry for the process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

SLACK_REQUESTS = Counter(
    "habot_slack_requests",
    "Slack requests received, by kind (a slash command, a button: block_actions, ...)",
    ["kind"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "habot_slack_ack_seconds",
    "Time from a Slack request's arrival to habot's answer (HTTP mode: the ack)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
    registry=REGISTRY,
)
SSH_SECONDS = Histogram(
    "habot_ssh_command_seconds",
    "Commands on the nodes, by node and outcome (ok, failed: a non-zero exit, timeout, error)",
    ["node", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
POLL_SECONDS = Histogram(
    "habot_poll_seconds",
    "One alert poll of a cluster, read to delivery",
    ["cluster"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
POLL_LAST = Gauge(
    "habot_poll_last_timestamp_seconds",
    "When this replica last finished a poll of the cluster (lag: time() minus this)",
    ["cluster"],
    registry=REGISTRY,
)
ALERTS = Gauge(
    "habot_alerts",
    "Alerts known after this replica's last poll, by cluster, rule and state",
    ["cluster", "rule", "state"],
    registry=REGISTRY,
)
RUNS = Counter(
    "habot_runs",
    "Runbook runs this replica ended, by runbook and outcome",
    ["runbook", "outcome"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "habot_poll_leader",
    "1 while this replica polls the cluster (holds its lease), else 0",
    ["cluster"],
    registry=REGISTRY,
)
