"""One poll of a cluster's logs: read every node, match, fold into alerts, post or update
their cards, resolve what the live status says is fixed — then, only then, store the cursors.
APScheduler runs it on an interval, one job per cluster."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert, Change
from habot.alerts.logline import LogLine
from habot.alerts.rules import Catalogue, Match, Rule, fill, fill_predicate
from habot.alerts.sources import Batch, FileSource, JournalSource
from habot.cluster.health import assess
from habot.cluster.model import ClusterStatus
from habot.errors import ClusterError, HabotError, TransportError
from habot.ops import ClusterHandle, Ops
from habot.runbooks.predicates import check
from habot.store import Store

log = logging.getLogger(__name__)
Source = JournalSource | FileSource


class AlertSink(Protocol):
    async def post(self, alert: Alert) -> tuple[str, str]:
        """Show a new alert; returns (channel, message id)."""

    async def update(self, alert: Alert) -> None: ...


@dataclass(frozen=True, slots=True)
class PollReport:
    cluster: str
    lines: int
    matched: int
    posted: tuple[str, ...]
    updated: tuple[str, ...]
    unreachable: dict[str, str]


def sources_for(handle: ClusterHandle) -> list[Source]:
    chosen = handle.config.alerts.sources
    found: list[Source] = []
    if "journal" in chosen:
        found.append(JournalSource())
    if "file" in chosen:
        found.append(FileSource(path=handle.config.alerts.log_file))
    return found


@dataclass
class Poller:
    ops: Ops
    store: Store
    catalogue: Catalogue
    sink: AlertSink
    clock: Callable[[], float] = time.time
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def idle(self) -> None:
        """Wait for the polls under way to end (at shutdown: none is cut in the middle)."""
        for lock in list(self._locks.values()):
            async with lock:
                pass

    async def poll(self, cluster: str) -> PollReport:
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            return await self._poll(self.ops.cluster(cluster))

    async def _poll(self, handle: ClusterHandle) -> PollReport:
        now = self.clock()
        batches = await asyncio.gather(
            *(
                self._read(handle, node.name, source, now)
                for node in handle.config.nodes
                for source in sources_for(handle)
            )
        )
        cursors: dict[str, str] = {}
        unreachable: dict[str, str] = {}
        lines: list[LogLine] = []
        for key, result in batches:
            if isinstance(result, Batch):
                lines += result.lines
                if result.cursor:
                    cursors[key] = result.cursor
            else:
                unreachable[key.split("|")[2]] = result
        matches = [m for line in lines if (m := self.catalogue.match(line)) is not None]
        matches += self._unreachable(handle, unreachable, cursors)
        status = await self._status(handle)
        if status is not None:
            matches += self._findings(status)
        changed = self._fold(handle.name, matches, now)
        if status is not None:
            changed.update(self._resolve(handle.name, status, changed, now))
        posted, updated = await self._publish(changed)
        self.store.save_poll(list(changed.values()), cursors)
        return PollReport(
            handle.name, len(lines), len(matches), tuple(posted), tuple(updated), unreachable
        )

    async def _read(
        self, handle: ClusterHandle, node_name: str, source: Source, now: float
    ) -> tuple[str, Batch | str]:
        key = f"cursor|{handle.name}|{node_name}|{source.name}"
        node = next(n.address() for n in handle.config.nodes if n.name == node_name)
        try:
            batch = await source.read(
                handle.transport,
                node,
                self.store.get(key),
                since=now - handle.config.alerts.lookback_s,
                timeout=handle.config.command_timeout_s,
            )
        except TransportError as e:
            return key, e.reason
        if batch.note:
            log.info("%s %s: %s", node_name, source.name, batch.note)
        return key, batch

    def _unreachable(
        self, handle: ClusterHandle, down: dict[str, str], values: dict[str, str]
    ) -> list[Match]:
        rule = self.catalogue.rule("node-unreachable")
        found = []
        for node in handle.config.nodes:
            key = f"unreachable|{handle.name}|{node.name}"
            streak = int(self.store.get(key) or 0) + 1 if node.name in down else 0
            values[key] = str(streak)
            if rule is not None and streak >= handle.config.alerts.unreachable_after:
                text = f"{streak} polls in a row: {down[node.name]}"
                found.append(_synthetic(rule, {"node": node.name}, node.name, text))
        return found

    async def _status(self, handle: ClusterHandle) -> ClusterStatus | None:
        try:
            return (await self.ops.read(handle)).status
        except (ClusterError, HabotError) as e:
            log.info("%s: no status this poll (%s)", handle.name, e)
            return None

    def _findings(self, status: ClusterStatus) -> list[Match]:
        codes = {f.code: f for f in assess(status)}
        return [
            _synthetic(rule, {}, "", codes[rule.finding].message)
            for rule in self.catalogue.rules
            if rule.finding is not None and rule.finding in codes
        ]

    def _fold(self, cluster: str, matches: Sequence[Match], now: float) -> dict[str, Alert]:
        changed: dict[str, Alert] = {}
        kinds: dict[str, Change] = {}
        for match in matches:
            current = changed.get(match.key) or self.store.alert(cluster, match.key)
            alert, change = lifecycle.observe(current, match, cluster, now)
            if kinds.get(match.key) is Change.POST:  # a new card this poll: still one post
                change = Change.POST
            if change is Change.POST:
                alert = _fresh(alert)
            changed[match.key], kinds[match.key] = alert, change
        return changed

    def _resolve(
        self, cluster: str, status: ClusterStatus, changed: dict[str, Alert], now: float
    ) -> dict[str, Alert]:
        resolved = {}
        seen_now = set(changed)
        for alert in [*changed.values(), *self.store.alerts(cluster)]:
            if (
                not alert.active
                or alert.key in resolved
                or (alert.key in seen_now and changed[alert.key] is not alert)
            ):
                continue
            rule = self.catalogue.rule(alert.rule)
            if rule is None or not _cleared(rule, alert, status):
                continue
            resolved[alert.key] = lifecycle.resolve(alert, now)
        return resolved

    async def _publish(self, changed: dict[str, Alert]) -> tuple[list[str], list[str]]:
        posted, updated = [], []
        for key, alert in list(changed.items()):
            if not alert.message_ts:
                channel, ts = await self.sink.post(alert)
                changed[key] = _posted(alert, channel, ts)
                posted.append(key)
            else:
                await self.sink.update(alert)
                updated.append(key)
        return posted, updated


def _synthetic(rule: Rule, fields: dict[str, str], node: str, text: str) -> Match:
    line = LogLine(node=node, identifier="habot", level="", text=text)
    return Match(
        rule, fill(rule.key, rule.id, {"node": node, **fields}), {"node": node, **fields}, line
    )


def _cleared(rule: Rule, alert: Alert, status: ClusterStatus) -> bool:
    if rule.finding is not None:
        return rule.finding not in {f.code for f in assess(status)}
    if rule.resolved_when is None:
        return False
    try:
        return check(fill_predicate(rule.resolved_when, rule.id, alert.field_map), status) is None
    except (HabotError, ValueError):
        return False


def _fresh(alert: Alert) -> Alert:
    return replace(alert, message_ts="", channel="")


def _posted(alert: Alert, channel: str, ts: str) -> Alert:
    return replace(alert, channel=channel, message_ts=ts)


def schedule(poller: Poller, clusters: Sequence[ClusterHandle]) -> AsyncIOScheduler:
    """One job per cluster in the running event loop; a failing poll never stops the schedule."""
    scheduler = AsyncIOScheduler()
    for handle in clusters:
        scheduler.add_job(
            poller.poll,
            "interval",
            args=[handle.name],
            seconds=handle.config.alerts.interval_s,
            id=f"poll-{handle.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    return scheduler
