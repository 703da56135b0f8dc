"""Maintenance windows (pure): what a window touches, when it ends, when it reminds, and
what its summary says. During a window, an alert about what it touches is told in the
window's thread instead of posted as a new card; everything else still alerts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from habot.alerts.lifecycle import Alert

REMIND_BEFORE_S = 600  # a reminder this long before a window lifts itself
SUBJECT_FIELDS = ("node", "peer_name", "rejoined")  # the node an alert is about


class WindowState(StrEnum):
    OPEN = "open"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    cluster: str
    node: str  # "" : not one node
    resource: str  # "" : not one resource
    starts: float
    ends: float
    reason: str
    opened_by: str
    channel: str = ""
    ts: str = ""  # its message: the thread where what it touches is told
    state: WindowState = WindowState.OPEN
    reminded: bool = False
    ended_by: str = ""  # a person, or "" when its time was up
    ended_at: float = 0.0

    @property
    def scope(self) -> str:
        parts = [
            f"node {self.node}" if self.node else "",
            f"resource {self.resource}" if self.resource else "",
        ]
        return " and ".join(p for p in parts if p) or "the whole cluster"


def touches(window: Window, alert: Alert) -> bool:
    """The alert is about what the window covers: its node (the node the alert names, else
    the node that logged it), its resource, or — a window with neither — the whole cluster."""
    if window.cluster != alert.cluster:
        return False
    if not window.node and not window.resource:
        return True
    fields = alert.field_map
    named = {fields[f] for f in SUBJECT_FIELDS if fields.get(f)}
    if window.node and window.node in (named or {alert.node}):
        return True
    return bool(window.resource) and fields.get("resource") == window.resource


def covering(windows: list[Window], alert: Alert, now: float) -> Window | None:
    """The open window (the earliest begun) that the alert is told in, if any."""
    found = [w for w in windows if w.state is WindowState.OPEN and w.starts <= now < w.ends]
    return next((w for w in sorted(found, key=lambda w: w.starts) if touches(w, alert)), None)


def due_to_end(window: Window, now: float) -> bool:
    return window.state is WindowState.OPEN and now >= window.ends


def due_reminder(window: Window, now: float) -> bool:
    return (
        window.state is WindowState.OPEN
        and not window.reminded
        and window.ends - REMIND_BEFORE_S <= now < window.ends
    )


def end(window: Window, now: float, by: str = "") -> Window:
    return replace(window, state=WindowState.ENDED, ended_by=by, ended_at=now)


def summary(window: Window, during: list[Alert], still: list[Alert]) -> list[str]:
    """What the window's end says: what alerted during it (told in its thread), and what is
    still wrong now."""
    lines = [f"{len(during)} alert(s) during the window" + (":" if during else ".")]
    lines += [f"• {a.title}" for a in during[:20]]
    if len(during) > 20:
        lines.append(f"… and {len(during) - 20} more")
    if still:
        lines.append(f"Still wrong now ({len(still)}):")
        lines += [f"• {a.title}" for a in still[:20]]
    else:
        lines.append("Nothing is wrong now.")
    return lines
