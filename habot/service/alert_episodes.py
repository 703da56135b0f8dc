"""Episodes over the store: a poll's (or a followed journal's) matches folded into their keys'
alerts, and the open alerts judged against a status — each the rules of habot.alerts.episodes,
fed from the store and handed back to it. Nothing here calls Slack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from habot.alerts import episodes, lifecycle, runs
from habot.alerts.episodes import Flapping
from habot.alerts.lifecycle import Alert, Change, Delivery
from habot.alerts.rules import Catalogue, Match
from habot.config import FlappingConfig
from habot.service.alert_findings import Seen, cleared, over
from habot.store import Store


def flapping_of(config: FlappingConfig) -> Flapping:
    return Flapping(config.episodes, config.window_s, config.quiet_s)


@dataclass
class Changes:
    """Alerts a poll changed, by key; `quiet`: those whose card need not change (an episode's
    candidate end, seen in the store only)."""

    alerts: dict[str, Alert] = field(default_factory=dict)
    quiet: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Episodes:
    store: Store
    catalogue: Catalogue

    def fold(
        self, cluster: str, matches: Sequence[Match], now: float, flapping: Flapping
    ) -> dict[str, Alert]:
        """The matches in the order they were logged: each folded into its key's episode (a
        new episode is a new card, the one before kept with its own), and each node's return
        ends the episodes about it."""
        changed: dict[str, Alert] = {}
        kinds: dict[str, Change] = {}
        for match in sorted(matches, key=lambda m: m.line.at or now):
            if match.rule.marks == "rejoin":
                self._rejoined(cluster, match, changed, now)
                continue
            if match.rule.marks:
                continue
            current = changed.get(match.key) or self.store.alert(cluster, match.key)
            folded = episodes.fold(current, match, cluster, now, flapping)
            if folded.archived is not None:
                changed[folded.archived.key] = folded.archived
            alert, change = folded.alert, folded.change
            if kinds.get(match.key) is Change.POST:  # a new card this poll: still one post
                change = Change.POST
            if change is Change.POST:
                alert = replace(fresh(alert), version=current.version if current else 0)
            changed[match.key], kinds[match.key] = alert, change
        return changed

    def _rejoined(self, cluster: str, marker: Match, changed: dict[str, Alert], now: float) -> None:
        node = marker.fields.get("rejoined", "")
        at = marker.line.at or now
        open_ = {a.key: a for a in self.store.alerts(cluster)} | changed
        for key, alert in open_.items():
            rule = self.catalogue.rule(alert.rule)
            ended = episodes.rejoined(alert, rule, node, at) if rule is not None else None
            if ended is not None:
                changed[key] = ended

    def judge(
        self, cluster: str, seen: Seen, changed: dict[str, Alert], now: float, flapping: Flapping
    ) -> Changes:
        """The open alerts (those this poll changed as they now are) against the status: the
        episodes it shows over, the cards it resolves; habot's own conditions that cleared
        (`seen.gone`) resolve at once."""
        judged = Changes()
        for alert in [*changed.values(), *self.store.alerts(cluster)]:
            if alert.key in judged.alerts or not alert.active:
                continue
            if alert.key in changed and changed[alert.key] is not alert:
                continue  # the stored copy of one this poll changed
            if alert.key in seen.gone:
                judged.alerts[alert.key] = lifecycle.resolve(alert, now)
                continue
            after = self._judged(alert, seen, now, flapping)
            if after is None:
                continue
            judged.alerts[alert.key] = after
            if after.active and after.ended_at == alert.ended_at and alert.key not in changed:
                judged.quiet.add(alert.key)  # a candidate end only: nothing to show yet
        return judged

    def _judged(self, alert: Alert, seen: Seen, now: float, flapping: Flapping) -> Alert | None:
        rule = self.catalogue.rule(alert.rule)
        if seen.status is None or rule is None:
            return None
        return episodes.judge(
            alert,
            rule,
            over=over(rule, alert, seen.status),
            resolved=cleared(rule, alert, seen.status),
            status_at=seen.at,
            now=now,
            flapping=flapping,
            first=seen.first,
        )

    def next_check(self, cluster: str, status_at: float, flapping: Flapping) -> float | None:
        """Seconds from a status read at `status_at` until one could resolve a card whose
        episode has ended (None: none waits)."""
        waits = []
        for alert in self.store.alerts(cluster):
            rule = self.catalogue.rule(alert.rule)
            due = episodes.resolves_at(alert, rule, flapping) if rule is not None else None
            if due is not None:
                waits.append(max(0.0, due - status_at))
        return min(waits) if waits else None


def fresh(alert: Alert) -> Alert:
    """A new card's alert: nothing of an earlier card, tied to no run yet."""
    new = replace(alert, message_ts="", channel="", delivery=Delivery.NONE, token="")
    return runs.untied(new)
