"""An alert's life: opened by a match, counted while it recurs within its window, snoozed,
acknowledged, resolved when the live status says so (pure: time is a parameter)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from habot.alerts.rules import Match, Rule, fill

LINES_KEPT = 5


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Change(StrEnum):
    POST = "post"  # a new card
    UPDATE = "update"  # the same card, changed


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    cluster: str
    rule: str
    severity: str
    title: str
    node: str
    fields: tuple[tuple[str, str], ...]
    first_seen: float
    last_seen: float
    count: int = 1
    lines: tuple[str, ...] = ()
    state: State = State.OPEN
    channel: str = ""
    message_ts: str = ""
    snoozed_until: float = 0.0
    decided_by: str = ""

    @property
    def field_map(self) -> dict[str, str]:
        return dict(self.fields)

    @property
    def active(self) -> bool:
        return self.state is not State.RESOLVED


def observe(current: Alert | None, match: Match, cluster: str, now: float) -> tuple[Alert, Change]:
    """Fold one match into the alert of its key: a new card, or the same card counted."""
    rule = match.rule
    line = match.line.shown
    if current is None or not current.active or now - current.last_seen > rule.window_s:
        return _new(rule, match, cluster, now), Change.POST
    state = current.state
    if state is State.SNOOZED and now >= current.snoozed_until:
        state = State.OPEN
    return replace(
        current,
        last_seen=now,
        count=current.count + 1,
        state=state,
        lines=(*current.lines, line)[-LINES_KEPT:],
    ), Change.UPDATE


def _new(rule: Rule, match: Match, cluster: str, now: float) -> Alert:
    fields = dict(match.fields)
    return Alert(
        key=match.key,
        cluster=cluster,
        rule=rule.id,
        severity=rule.severity.value,
        title=fill(rule.title, rule.id, fields),
        node=fields.get("node", ""),
        fields=tuple(sorted(fields.items())),
        first_seen=now,
        last_seen=now,
        lines=(match.line.shown,),
    )


def resolve(alert: Alert, now: float) -> Alert:
    return replace(alert, state=State.RESOLVED, last_seen=max(alert.last_seen, now))


def snooze(alert: Alert, user: str, until: float) -> Alert:
    return replace(alert, state=State.SNOOZED, snoozed_until=until, decided_by=user)


def acknowledge(alert: Alert, user: str) -> Alert:
    return replace(alert, state=State.ACKNOWLEDGED, decided_by=user)
