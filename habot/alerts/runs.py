"""Alerts raised while an approved run changes the cluster (pure): which run they belong to,
and whether the run caused them on purpose.

A runbook lists the alert rules it causes on purpose (`expects:`: a fence test expects the
node it fences to be lost and fenced). While it runs, a new alert of one of those rules about
what the run names (or about nothing in particular, like a move constraint left during a
move) is progress: it goes to the run's thread. Any other new alert that names what the run
acts on still goes to the alerts channel, and the run's thread is told of it. An alert that
names something else is none of the run's business. When in doubt, it alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from habot.alerts.lifecycle import Alert

SUBJECT_FIELDS = ("resource", "peer_name")  # fields that name what an alert is about


@dataclass(frozen=True, slots=True)
class ActiveRun:
    request_id: str
    runbook: str
    channel: str
    ts: str  # the run's card: its thread
    names: frozenset[str]  # the parameters' values: the nodes and resources it acts on
    expects: frozenset[str]  # rule ids


def subjects(alert: Alert) -> set[str]:
    """What an alert names: the parts of its key after the rule (`node-lost:nodo2`), and
    its resource and peer (a corosync peer id resolved to its node name)."""
    parts = set(alert.key.split(":")[1:])
    fields = alert.field_map
    return {p for p in parts | {fields.get(f, "") for f in SUBJECT_FIELDS} if p and p != "?"}


def tie(alert: Alert, runs: Iterable[ActiveRun]) -> Alert:
    """`alert` tied to the run it belongs to, if any (only a new, not yet posted alert)."""
    if alert.run or alert.message_ts or alert.token:
        return alert
    named = subjects(alert)
    for run in runs:
        mine = bool(named & run.names)
        expected = alert.rule in run.expects and (mine or not named)
        if expected or mine:
            return replace(
                alert,
                run=run.request_id,
                run_channel=run.channel,
                run_ts=run.ts,
                run_expected=expected,
            )
    return alert


def untied(alert: Alert) -> Alert:
    return replace(alert, run="", run_channel="", run_ts="", run_expected=False)


def caused(alerts: Sequence[Alert], request_id: str) -> list[Alert]:
    """The alerts tied to a run, first seen first."""
    return sorted((a for a in alerts if a.run == request_id), key=lambda a: a.first_seen)
