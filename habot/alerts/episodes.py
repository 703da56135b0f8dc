"""An alert's episodes (pure: time is a parameter). A condition begins with its first line
and ends when the cluster shows it ended — a marker line (the node is back: "state is now
member"), or a status read after its newest line that shows it gone. A new occurrence after
that end is a new episode: a card of its own, which notifies, saying how often it happened
("3rd time in 10 min"); the earlier card says when its episode ended and how long it lasted.
A card resolves once the status has shown the condition gone for `resolve_after_s`.

A condition that keeps coming back — more than `Flapping.episodes` episodes within
`Flapping.window_s` — is one *flapping* card: it notifies once, counts the episodes after
that, and resolves when the condition has stayed gone for `Flapping.quiet_s`.

Times are the cluster's own (log stamps, crm_mon's "last updated"), so "lasted 6 s" is the
outage as the cluster saw it: from the episode's first line to the status (or the marker)
that showed it over."""

from __future__ import annotations

from dataclasses import dataclass, replace

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert, Change, Delivery, State
from habot.alerts.rules import Match, Rule


@dataclass(frozen=True, slots=True)
class Flapping:
    episodes: int = 3  # more episodes than this within window_s: one flapping card
    window_s: float = 600.0
    quiet_s: float = 120.0  # a flapping card resolves when the condition stays gone this long


@dataclass(frozen=True, slots=True)
class Folded:
    alert: Alert  # the key's alert now
    change: Change  # POST: a new card, which notifies; UPDATE: the same card, edited
    archived: Alert | None = None  # the episode before, kept under a key of its own


def fold(
    current: Alert | None, match: Match, cluster: str, now: float, flapping: Flapping
) -> Folded:
    """One match folded into its key's alert: the same episode counted, or a new one."""
    at = match.line.at or now
    if current is None:
        return Folded(lifecycle.opened(match, cluster, now), Change.POST)
    if not _new_episode(current, match.rule, at, now):
        return Folded(lifecycle.continued(current, match, now), Change.UPDATE)
    earlier = _earlier(current, at, flapping)
    if current.flapping and current.active:  # one card for it all: counted, not notified
        counted = lifecycle.continued(current, match, now)
        return Folded(
            replace(counted, episodes=earlier, episode_at=at, gone_at=0.0, ended_at=0.0),
            Change.UPDATE,
        )
    fresh = replace(
        lifecycle.opened(match, cluster, now),
        episodes=earlier,
        flapping=len(earlier) + 1 > flapping.episodes,
        version=current.version,
    )
    return Folded(fresh, Change.POST, archive(current, now))


def _new_episode(current: Alert, rule: Rule, at: float, now: float) -> bool:
    if not current.active or now - current.last_seen > rule.window_s:
        return True
    return current.ended_at > 0 and at > current.ended_at


def _earlier(current: Alert, at: float, flapping: Flapping) -> tuple[float, ...]:
    """The starts of this key's episodes within the flapping window, before this one."""
    starts = (*current.episodes, episode_start(current))
    return tuple(t for t in starts if 0 <= at - t <= flapping.window_s)


def archive(current: Alert, now: float) -> Alert | None:
    """The episode before, kept under a key of its own with its card, which is told the
    episode is over (ended, lasted …; it happened again) — or nothing, when its card is
    final already or it never had one."""
    if not current.active and current.delivery is Delivery.NONE:
        return None  # resolved, and its card says so
    if not current.message_ts and current.delivery in (Delivery.NONE, Delivery.POST):
        return None
    ended = current.ended_at or current.gone_at or lifecycle.ended(current)
    final = current
    if current.active:  # over: it ended, and a newer episode holds the key now
        final = replace(current, state=State.RESOLVED, ended_at=ended)
    kept = replace(
        final,
        key=f"{current.key}@{episode_start(current):.6f}",
        version=0,
        superseded=True,
    )
    if kept.message_ts and kept.delivery is not Delivery.POSTING:
        kept = replace(kept, delivery=Delivery.UPDATE, attempts=0, retry_at=now)
    return kept


def episode_start(alert: Alert) -> float:
    return alert.episode_at or lifecycle.began(alert)


def rejoined(alert: Alert, rule: Rule, node: str, at: float) -> Alert | None:
    """A node back in the cluster ends the episodes about that node (lost, unclean, fenced,
    its link down), at the marker's own time: the end is certain, the status confirms the
    resolution later."""
    if not alert.active or alert.ended_at or rule.ends_on_rejoin is None:
        return None
    if alert.field_map.get(rule.ends_on_rejoin) != node or at < episode_start(alert):
        return None
    return replace(alert, gone_at=alert.gone_at or at, ended_at=at)


def judge(
    alert: Alert,
    rule: Rule,
    *,
    over: bool,
    resolved: bool,
    status_at: float,
    now: float,
    flapping: Flapping,
    first: bool = False,
) -> Alert | None:
    """A status read at `status_at` (the cluster's clock) that shows the episode `over` (its
    `ends_when`, else its `resolved_when`) and the alert `resolved`: the episode's end, its
    card's resolution, or None when nothing changes.

    A status older than the episode's newest line says nothing about it, and one read soon
    after it may not know yet: corosync logs a lost link seconds before Pacemaker marks the
    node lost, and while a new DC is elected crm_mon may show the dead node online for a
    while. So the end is the first status after that line that shows it over, once a status
    read `resolve_after_s` after the line still does — or, at once and at its own time, a
    marker (the node back: see `rejoined`). On a cluster's first poll, what ended before
    habot watched ended with its last line. The card resolves on a status read
    `resolve_after_s` after the newest line (`Flapping.quiet_s` for a flapping card) that
    shows it over."""
    if not alert.active or (alert.line_last and status_at <= alert.line_last):
        return None
    if not over:
        if alert.gone_at and not alert.ended_at:  # not over after all: no end yet
            return replace(alert, gone_at=0.0)
        return None
    gone_at = alert.gone_at or (alert.line_last if first and alert.line_last else status_at)
    ended_at = alert.ended_at
    if not ended_at and status_at >= alert.line_last + rule.resolve_after_s:
        ended_at = gone_at
    hold = flapping.quiet_s if alert.flapping else rule.resolve_after_s
    if ended_at and resolved and status_at >= alert.line_last + hold:
        return replace(lifecycle.resolve(alert, now), gone_at=gone_at, ended_at=ended_at)
    changed = replace(alert, gone_at=gone_at, ended_at=ended_at)
    return None if changed == alert else changed


def resolves_at(alert: Alert, rule: Rule, flapping: Flapping) -> float | None:
    """When (the cluster's clock) a status could resolve this ended episode's card."""
    if not alert.active or not alert.ended_at:
        return None
    return alert.line_last + (flapping.quiet_s if alert.flapping else rule.resolve_after_s)


def episode_number(alert: Alert) -> int:
    """Which episode of its key within the flapping window this one is (1: the first)."""
    return len(alert.episodes) + 1
