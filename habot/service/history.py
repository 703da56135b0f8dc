"""`/ha history`: the last hours of a cluster as one timeline, newest first — transitions with
what they did and nodes leaving and joining (from the cluster's logs), fencing and failed
operations as the cluster records them, the problems habot's alerts saw with when they began
and ended, and habot's own requests and runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from habot.alerts.lifecycle import HISTORY_RULE, Alert, State, began, ended
from habot.alerts.transitions import ClusterEvent
from habot.cluster.crm_mon import crm_time
from habot.cluster.model import ClusterStatus
from habot.service.audit import AuditRecord

SHOWN = 40  # events in one message; the rest are counted (and the whole window is a file)
IN_FILE = 5000  # events in the file of a long window, at most
RUN_EVENTS = {
    "requested": "requested",
    "approved": "approved",
    "denied": "denied",
    "expired": "expired",
    "run started": "started",
    "run succeeded": "succeeded",
    "run failed": "FAILED",
    "run interrupted": "interrupted",
}


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    kind: str  # fencing | failure | alert | run
    text: str


@dataclass(frozen=True, slots=True)
class History:
    cluster: str
    since: float
    until: float
    events: tuple[Event, ...]  # newest first, at most SHOWN
    more: int  # older events left out
    unread: tuple[str, ...] = ()  # logs that could not be read ("nodo2: connection refused")
    everything: tuple[Event, ...] = ()  # the whole window, newest first (IN_FILE at most)


def timeline(
    cluster: str,
    status: ClusterStatus,
    alerts: Sequence[Alert],
    audit: Sequence[AuditRecord],
    *,
    since: float,
    until: float,
    zone: str = "UTC",
    logged: Sequence[ClusterEvent] = (),
    unread: Sequence[str] = (),
) -> History:
    events = [
        *(Event(e.at, e.kind, e.text) for e in logged),
        *_fencing(status),
        *_failures(status, zone),
        *_alerts(alerts),
        *_runs(audit),
    ]
    kept = sorted((e for e in events if since <= e.at <= until), key=lambda e: -e.at)
    shown, more = tuple(kept[:SHOWN]), max(0, len(kept) - SHOWN)
    return History(cluster, since, until, shown, more, tuple(unread), tuple(kept[:IN_FILE]))


def _fencing(st: ClusterStatus) -> list[Event]:
    found = []
    for f in st.fence_events:
        at = _iso(f.completed)
        if at is not None:
            by = f" by {f.delegate}" if f.delegate else ""
            found.append(Event(at, "fencing", f"{f.target} {f.action} {f.status}{by}"))
    return found


def _failures(st: ClusterStatus, zone: str) -> list[Event]:
    found = []
    for f in st.failed_actions:
        at = _iso(f.last_change) or crm_time(f.last_change, ZoneInfo(zone))
        if at is not None:
            why = f": {f.exit_reason}" if f.exit_reason else ""
            text = f"{f.resource} {f.operation} failed on {f.node} ({f.exit_status}){why}"
            found.append(Event(at, "failure", text))
    return found


def _alerts(alerts: Sequence[Alert]) -> list[Event]:
    found = []
    for a in alerts:
        if a.rule == HISTORY_RULE:
            continue
        found.append(Event(began(a), "alert", f"{a.severity.upper()} {a.title}"))
        if a.state is State.RESOLVED:
            found.append(Event(max(ended(a), a.last_seen), "alert", f"resolved: {a.title}"))
    return found


def _runs(audit: Sequence[AuditRecord]) -> list[Event]:
    found = []
    for e in audit:
        word = RUN_EVENTS.get(e.event)
        if word is None:
            continue
        who = f" by {e.user}" if e.user else ""
        found.append(Event(e.at, "run", f"[{e.request_id}] {word}{who} {e.detail}".strip()))
    return found


def _iso(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
