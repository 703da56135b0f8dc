"""An alert's life: opened by a match, counted while it recurs within its window, snoozed,
acknowledged, resolved when the live status says so (pure: time is a parameter)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from habot.alerts.rules import Match, fill_title

LINES_KEPT = 5
RETRY_FIRST_S = 30.0
RETRY_MAX_S = 3600.0
POST_TIMEOUT_S = 30.0  # the longest a card's post may take (then it counts as failed)
POST_GRACE_S = POST_TIMEOUT_S + 30.0  # a "posting" mark is its poster's for this long


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Delivery(StrEnum):
    """What the alert's card still needs: written down before Slack is called."""

    NONE = ""
    POST = "post"  # a new card
    POSTING = "posting"  # a post was sent; if habot stopped now, look for it before posting
    UPDATE = "update"  # the card exists and must show the alert as it now is


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
    delivery: Delivery = Delivery.NONE
    attempts: int = 0  # failed deliveries in a row
    retry_at: float = 0.0  # not before this
    token: str = ""  # the current post's own mark, to find it after a restart
    version: int = 0  # the store's compare-and-set counter
    # The cluster's own clock (the nodes' log stamps): when its lines began and the newest;
    # 0 for what habot observes itself (a node it cannot reach, a status finding).
    line_first: float = 0.0
    line_last: float = 0.0
    # Raised while an approved run changed the cluster, about what the run names: the run,
    # where its card is (channel, ts), and whether the run expected it (then the card goes
    # to the run's thread as progress; otherwise to the alerts channel, and a note to it).
    run: str = ""
    run_channel: str = ""
    run_ts: str = ""
    run_expected: bool = False
    # Episodes (habot.alerts.episodes), by the cluster's clock: when this one began (0: its
    # first line), the first status after its newest line that showed it over (a candidate),
    # its end (confirmed), the starts of the key's earlier episodes within the flapping
    # window, whether it is one card for a flapping condition, and whether a newer episode
    # holds the key now (this one is kept with its own card).
    episode_at: float = 0.0
    gone_at: float = 0.0
    ended_at: float = 0.0
    episodes: tuple[float, ...] = ()
    flapping: bool = False
    superseded: bool = False

    @property
    def field_map(self) -> dict[str, str]:
        return dict(self.fields)

    @property
    def ref(self) -> str:
        """A short, stable id for buttons (a key can be long; a button value cannot)."""
        return alert_ref(self.cluster, self.key)

    @property
    def active(self) -> bool:
        return self.state is not State.RESOLVED


def continued(current: Alert, match: Match, now: float) -> Alert:
    """One more match of the alert's episode: the same card, counted."""
    rule = match.rule
    line = match.line.shown
    state = current.state
    if state is State.SNOOZED and now >= current.snoozed_until:
        state = State.OPEN
    # A later line may name what the first did not (the fence device, the resource).
    fields = {**match.fields, **{k: v for k, v in current.field_map.items() if v}}
    at = match.line.at
    return replace(
        current,
        last_seen=now,
        count=current.count + 1,
        state=state,
        lines=(*current.lines, line)[-LINES_KEPT:],
        fields=tuple(sorted(fields.items())),
        title=fill_title(rule.title, rule.id, fields),
        line_first=min(t for t in (current.line_first, at) if t)
        if at or current.line_first
        else 0.0,
        line_last=max(current.line_last, at),
        gone_at=0.0 if at > current.gone_at else current.gone_at,  # not over, after all
    )


def opened(match: Match, cluster: str, now: float) -> Alert:
    """A new alert: its first match, its card still to post."""
    rule = match.rule
    fields = dict(match.fields)
    return Alert(
        key=match.key,
        cluster=cluster,
        rule=rule.id,
        severity=rule.severity.value,
        title=fill_title(rule.title, rule.id, fields),
        node=fields.get("node", ""),
        fields=tuple(sorted(fields.items())),
        first_seen=now,
        last_seen=now,
        lines=(match.line.shown,),
        line_first=match.line.at,
        line_last=match.line.at,
    )


def began(alert: Alert) -> float:
    """When the problem began: its first line's own time, else when habot first saw it."""
    return alert.line_first or alert.first_seen


def ended(alert: Alert) -> float:
    """When it ended as the cluster showed it (see habot.alerts.episodes); before that, when
    it was last seen: its newest line's own time, else habot's last sighting."""
    return alert.ended_at or alert.line_last or alert.last_seen


def alert_ref(cluster: str, key: str) -> str:
    return hashlib.sha256(f"{cluster}\0{key}".encode()).hexdigest()[:20]


def to_deliver(alert: Alert, now: float) -> Alert:
    """The alert changed: its card must be posted (no card yet) or updated."""
    kind = Delivery.UPDATE if alert.message_ts else Delivery.POST
    if alert.delivery in (Delivery.POST, Delivery.POSTING) and not alert.message_ts:
        kind = alert.delivery  # an unfinished post stays one
    if kind is Delivery.POSTING:  # maybe in flight: nobody else before its grace is over
        return replace(alert, attempts=0, retry_at=max(alert.retry_at, now))
    return replace(alert, delivery=kind, attempts=0, retry_at=now)


def posting(alert: Alert, token: str, now: float) -> Alert:
    """Marked as being posted (the card will carry `token`). Until POST_GRACE_S have passed
    the card may be looked for (and adopted when found) but not posted again: a post in
    flight when its poster's lease lapsed lands or fails within POST_TIMEOUT_S; only after
    that may the next leader, not finding it, post it."""
    return replace(alert, delivery=Delivery.POSTING, token=token, retry_at=now + POST_GRACE_S)


def delivered(alert: Alert, channel: str, ts: str) -> Alert:
    return replace(
        alert, delivery=Delivery.NONE, attempts=0, retry_at=0.0, channel=channel, message_ts=ts
    )


def retry_later(alert: Alert, now: float, *, gone: bool) -> Alert:
    """A failed delivery: again later, backing off (30 s doubling to 1 h); a card that no
    longer exists in Slack is posted afresh, at once."""
    if gone:
        return replace(
            alert, delivery=Delivery.POST, message_ts="", channel="", token="", retry_at=now
        )
    attempts = alert.attempts + 1
    backoff = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (attempts - 1))
    return replace(alert, attempts=attempts, retry_at=now + backoff)


def resolve(alert: Alert, now: float) -> Alert:
    return replace(alert, state=State.RESOLVED, last_seen=max(alert.last_seen, now))


def snooze(alert: Alert, user: str, until: float) -> Alert:
    return replace(alert, state=State.SNOOZED, snoozed_until=until, decided_by=user)


def acknowledge(alert: Alert, user: str) -> Alert:
    return replace(alert, state=State.ACKNOWLEDGED, decided_by=user)


HISTORY_RULE = "while-away"
HISTORY_LINES = 20


def history(cluster: str, past: list[Alert], now: float) -> Alert:
    """One card for what happened while habot was not watching (a new install, a new replica
    set): each problem the lookback found that is resolved now, with when it began and
    ended — instead of a card each, posted as news, already resolved."""
    ordered = sorted(past, key=began)
    lines = [
        f"{_clock(began(a))} to {_clock(ended(a))} UTC · {a.severity.upper()} {a.title}"
        for a in ordered[:HISTORY_LINES]
    ]
    if len(ordered) > HISTORY_LINES:
        lines.append(f"… and {len(ordered) - HISTORY_LINES} more (`/ha audit`, the logs)")
    count = len(ordered)
    return Alert(
        key=f"{HISTORY_RULE}:{int(now)}",
        cluster=cluster,
        rule=HISTORY_RULE,
        severity="warning",
        title=f"Before habot watched {cluster}: {count} problem{'s' if count != 1 else ''}, "
        "all resolved now",
        node="",
        fields=(("count", str(count)),),
        first_seen=now,
        last_seen=now,
        count=count,
        lines=tuple(lines),
        state=State.RESOLVED,
        line_first=min(began(a) for a in ordered),
        line_last=max(ended(a) for a in ordered),
    )


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
