"""One poll of a cluster's logs: read every node, match, fold into alerts, post or update
their cards, resolve what the live status says is fixed — then, only then, store the cursors.
APScheduler runs it on an interval, one job per cluster."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from habot.alerts import agent_records, lifecycle, planned, runs
from habot.alerts.episodes import Flapping
from habot.alerts.lifecycle import Alert
from habot.alerts.logline import LogLine, parse_journal
from habot.alerts.rules import Catalogue, Match
from habot.alerts.sources import Batch, JournalSource
from habot.approvals.model import State as RequestState
from habot.cluster.live import LiveStatus
from habot.cluster.model import ClusterStatus
from habot.errors import ClusterError, HabotError
from habot.log_format import CLUSTER
from habot.metrics import ALERTS, LEADER, POLL_LAST, POLL_SECONDS
from habot.runbooks.model import Loop, Runbook
from habot.service import alert_findings
from habot.service.alert_delivery import AlertSink, Courier, Delivered
from habot.service.alert_episodes import Episodes, flapping_of
from habot.service.alert_findings import Seen, canonical, match_all, only_history, status_time
from habot.service.alert_reads import Source, cursor_key, read_source, sources_for
from habot.service.clusters import ClusterHandle, Ops
from habot.service.daily_check import daily_check
from habot.service.journal_follow import JournalFollower
from habot.service.live_view import LiveView
from habot.service.off_loop import off_loop
from habot.store import Store, StoreError

log = logging.getLogger(__name__)
SAVE_TRIES = 5
CHECK_MARGIN_S = 0.5  # a check for a card that can resolve comes this late after it can


@dataclass(frozen=True, slots=True)
class PollReport:
    cluster: str
    lines: int
    matched: int
    posted: tuple[str, ...]
    updated: tuple[str, ...]
    unreachable: dict[str, str]
    failed: tuple[str, ...] = ()  # cards kept to retry later


LEASE_INTERVALS = 1.5  # a leader's lease lasts this many poll intervals


@dataclass
class Poller:
    """Polls each cluster's logs into alerts. With several replicas, only the holder of the
    cluster's lease polls: `lead()` runs on every replica twice per interval, renews the
    lease on the leader, takes it over on another replica once the leader has stopped
    renewing — within two intervals of its last poll — and polls when a poll is due."""

    ops: Ops
    store: Store
    catalogue: Catalogue
    sink: AlertSink
    clock: Callable[[], float] = time.time
    replica: str = "single"
    runbooks: Mapping[str, Runbook] = field(default_factory=dict)  # what a run `expects:`
    follow: bool = False  # follow the journals of the clusters it leads (alerts.follow)
    max_clusters: int = 0  # leads at most this many clusters (0: no bound), leaving the rest
    polls: int = 0  # polls done (a journal stream's cards come between them)
    _live: dict[str, set[str]] = field(default_factory=dict)  # cluster: nodes followed now
    _statuses: dict[str, ClusterStatus] = field(default_factory=dict)  # the last poll's
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _last_poll: dict[str, float] = field(default_factory=dict)
    _leading: set[str] = field(default_factory=set)
    _counted: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)  # gauges set
    _left: set[str] = field(default_factory=set)  # not led: this replica was full

    def __post_init__(self) -> None:
        self.follower = JournalFollower(
            self._follow_from, self._follow_opened, self.push, self._follow_down
        )
        self.view = LiveView(self.ops, self.followed, self.leads, self.judge_now)
        self.episodes = Episodes(self.store, self.catalogue)

    def leads(self, cluster: str) -> bool:
        return cluster in self._leading

    def followed(self, cluster: str) -> set[str]:
        """The nodes whose journal stream is up now (the poll leaves their journal alone)."""
        return set(self._live.get(cluster, ()))

    async def lead(self, cluster: str) -> PollReport | None:
        """Take or renew the cluster's polling lease; poll when it is ours and a poll is due.
        None when another replica leads (or no poll was due)."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):  # idle() waits for it
            report = await self._lead(cluster)
        handle = self.ops.cluster(cluster)
        wanted = (
            self.follow
            and handle.config.alerts.follow
            and "journal" in handle.config.alerts.sources
        )
        if wanted and self.leads(cluster):
            self.follower.follow(handle)
        elif self.follower.following(cluster):
            await self.follower.stop(cluster)
        return report

    async def _lead(self, cluster: str) -> PollReport | None:
        handle = self.ops.cluster(cluster)
        interval = handle.config.alerts.interval_s
        now = self.clock()
        if 0 < self.max_clusters <= len(self._leading) and cluster not in self._leading:
            if cluster not in self._left:
                log.info(
                    "%s: left to another replica (this one leads %d)", cluster, len(self._leading)
                )
                self._left.add(cluster)
            return None  # full: the cluster's lease is left to another replica
        self._left.discard(cluster)
        try:
            ours = await off_loop(
                self.store.lease, f"poll:{cluster}", self.replica, now, interval * LEASE_INTERVALS
            )
        except StoreError as e:  # no database, no lease: nobody polls twice meanwhile
            log.warning("%s: not polling, the database does not answer: %s", cluster, e)
            self._leading.discard(cluster)
            LEADER.labels(cluster).set(0)
            return None
        LEADER.labels(cluster).set(1 if ours else 0)
        if not ours:
            if cluster in self._leading:
                log.warning("%s: another replica polls it now", cluster)
            self._leading.discard(cluster)
            return None
        if cluster not in self._leading:
            log.info("%s: this replica (%s) polls it now", cluster, self.replica)
            self._leading.add(cluster)
            self._last_poll.pop(cluster, None)  # a new leader polls at once
        if now - self._last_poll.get(cluster, 0.0) < interval * 0.9:
            await self.courier.deliver(cluster, self._lease_keeper(cluster))  # buttons' cards
            return None
        self._last_poll[cluster] = now
        return await self._timed_poll(cluster)

    def _lease_keeper(self, cluster: str) -> Callable[[], Awaitable[bool]]:
        """Asked before each card: renews the lease, and says whether it is still ours."""
        interval = self.ops.cluster(cluster).config.alerts.interval_s

        async def still_ours() -> bool:
            try:
                ours = await off_loop(
                    self.store.lease,
                    f"poll:{cluster}",
                    self.replica,
                    self.clock(),
                    interval * LEASE_INTERVALS,
                )
            except StoreError:
                ours = False
            if ours:
                self._leading.add(cluster)
            else:
                self._leading.discard(cluster)
            return ours

        return still_ours

    async def resign(self) -> None:
        """A clean stop: the leases go at once, so another replica takes over at its next
        check instead of waiting for them to expire."""
        await self.follower.stop()
        for cluster in list(self._leading):
            await off_loop(self.store.release_lease, f"poll:{cluster}", self.replica)
            LEADER.labels(cluster).set(0)
        self._leading.clear()

    @property
    def courier(self) -> Courier:
        return Courier(self.store, self.sink, self.clock)

    async def idle(self) -> None:
        """Wait for the polls under way to end (at shutdown: none is cut in the middle); the
        journal streams end."""
        await self.follower.stop()
        await self.view.stop()
        for lock in list(self._locks.values()):
            async with lock:
                pass

    async def poll(self, cluster: str) -> PollReport:
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            return await self._timed_poll(cluster)

    async def _timed_poll(self, cluster: str) -> PollReport:
        self.polls += 1
        started = time.monotonic()
        context = CLUSTER.set(cluster)
        try:
            report = await self._poll(self.ops.cluster(cluster))
        finally:
            CLUSTER.reset(context)
        POLL_SECONDS.labels(cluster).observe(time.monotonic() - started)
        POLL_LAST.labels(cluster).set(self.clock())
        await self._count_alerts(cluster)
        return report

    async def _count_alerts(self, cluster: str) -> None:
        """The alerts gauge for the cluster: every (rule, state) it has, and 0 for those it
        had at the last poll and no longer has."""
        known = await off_loop(self.store.alerts, cluster, active_only=False)
        counts = Counter((cluster, a.rule, a.state.value) for a in known)
        for labels in self._counted.get(cluster, set()) - set(counts):
            ALERTS.labels(*labels).set(0)
        for labels, n in counts.items():
            ALERTS.labels(*labels).set(n)
        self._counted[cluster] = set(counts)

    async def deliver(self, cluster: str) -> Delivered:
        """Post or update the cluster's cards that are due (after a button changed one) —
        only by the holder of the cluster's polling lease (taken here if nobody holds it);
        on another replica, the leader sends them at its next check (half an interval)."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            return await self.courier.deliver(cluster, self._lease_keeper(cluster))

    async def _poll(self, handle: ClusterHandle) -> PollReport:
        now = self.clock()
        reads = [(n.name, source) for n in handle.config.nodes for source in sources_for(handle)]
        keys = [cursor_key(handle.name, node, source) for node, source in reads]
        stored = await off_loop(lambda: {key: self.store.get(key) for key in keys})
        batches = await asyncio.gather(
            *(
                self._followed(key)
                if isinstance(source, JournalSource) and node in self._live.get(handle.name, ())
                else self._read(handle, node, source, stored[key], now)
                for (node, source), key in zip(reads, keys, strict=True)
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
        lines = agent_records.once(lines)  # node and fencing events come from every node
        # Matching a big batch is CPU work: off the event loop, which keeps answering Slack.
        matches = await asyncio.to_thread(match_all, self.catalogue, lines)
        down, reachable = await off_loop(
            alert_findings.unreachable, self.store, self.catalogue, handle, unreachable, cursors
        )
        silent, readable = await off_loop(
            alert_findings.silent, self.store, self.catalogue, handle, batches, cursors
        )
        matches += down + silent
        status = await self._status(handle)
        daily_gone: set[str] = set()
        if status is not None:
            self._statuses[handle.name] = status
            matches = [canonical(m, status) for m in matches]
            matches += alert_findings.findings(self.catalogue, status)
            checked, daily_gone = await daily_check(
                self.ops, self.store, self.catalogue, handle, status, cursors, now
            )
            matches += checked
        matches = await off_loop(self._quiet, handle.name, matches, cursors, now)
        seen = Seen(
            status=status,
            at=status_time(status, handle.config.alerts.log_timezone, now),
            gone=reachable | readable | daily_gone,  # habot's own conditions that no longer hold
            first=all(stored[key] is None for key in keys),
        )
        if not await off_loop(self._save, handle.name, matches, seen, cursors, now):
            log.warning("%s: alerts kept changing under this poll; read again next poll", handle)
            return PollReport(handle.name, len(lines), len(matches), (), (), unreachable)
        done = await self.courier.deliver(handle.name, self._lease_keeper(handle.name))
        self._check_later(handle.name, seen.at)
        log.info(
            "poll of %s: %d lines, %d matches, %d posted, %d updated, %d kept to retry",
            handle.name,
            len(lines),
            len(matches),
            len(done.posted),
            len(done.updated),
            len(done.failed),
        )
        return PollReport(
            handle.name,
            len(lines),
            len(matches),
            tuple(done.posted),
            tuple(done.updated),
            unreachable,
            tuple(done.failed),
        )

    async def _followed(self, key: str) -> tuple[str, Batch | str]:
        """A followed journal: its stream reads it, not the poll."""
        return key, Batch((), None)

    async def _follow_from(self, cluster: str, node: str) -> str | None:
        """Where a stream starts: the stored cursor."""
        return await off_loop(self.store.get, cursor_key(cluster, node, JournalSource()))

    async def _follow_opened(self, cluster: str, node: str, cursor: str | None) -> bool:
        """A stream's channel is open (the node answers): from now on the stream reads the
        node's journal, not the poll — unless a poll read past its cursor meanwhile (then it
        starts again from the newer one). Under the cluster's lock: no poll reads meanwhile."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            stored = await off_loop(self.store.get, cursor_key(cluster, node, JournalSource()))
            if stored != cursor:
                return False
            self._live.setdefault(cluster, set()).add(node)
            everyone = {n.name for n in self.ops.cluster(cluster).config.nodes}
            if self.followed(cluster) == everyone:
                self.view.changed(cluster)  # every node followed: the live view can begin
            return True

    def _follow_down(self, cluster: str, node: str) -> None:
        self._live.get(cluster, set()).discard(node)
        self.ops.forget(cluster)  # a change on that node would go unheard

    async def push(self, cluster: str, node: str, raw: Sequence[bytes]) -> PollReport | None:
        """Journal records a stream brought: matched, saved with the stream's cursor and
        delivered at once, as a poll would (the status of the last poll names the clones);
        None when this replica no longer leads the cluster."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            if not self.leads(cluster):
                return None
            source = JournalSource()
            batch = parse_journal(
                node, b"".join(r if r.endswith(b"\n") else r + b"\n" for r in raw)
            )
            lines = agent_records.once([ln for ln in batch.lines if source.wanted(ln)])
            if lines:
                self.view.changed(cluster)
            cursors = {cursor_key(cluster, node, source): batch.cursor} if batch.cursor else {}
            now = self.clock()
            matches = match_all(self.catalogue, lines)
            status = self._statuses.get(cluster)
            if status is not None:
                matches = [canonical(m, status) for m in matches]
            matches = await off_loop(self._quiet, cluster, matches, cursors, now)
            seen = Seen(status=None, at=now, gone=set(), first=False)
            if not await off_loop(self._save, cluster, matches, seen, cursors, now):
                # nothing saved, the cursor included: the stream starts again from it
                raise HabotError(f"{cluster}: alerts kept changing under a pushed batch")
            done = await self.courier.deliver(cluster, self._lease_keeper(cluster))
            if matches:
                log.info(
                    "%s %s: pushed %d lines, %d matches, %d posted",
                    cluster,
                    node,
                    len(lines),
                    len(matches),
                    len(done.posted),
                )
            return PollReport(
                cluster,
                len(lines),
                len(matches),
                tuple(done.posted),
                tuple(done.updated),
                {},
                tuple(done.failed),
            )

    def _flapping(self, cluster: str) -> Flapping:
        return flapping_of(self.ops.cluster(cluster).config.alerts.flapping)

    def _save(
        self,
        cluster: str,
        matches: Sequence[Match],
        seen: Seen,
        cursors: dict[str, str],
        now: float,
    ) -> bool:
        """Alerts (each with the card it still needs) and cursors, in one transaction, before
        anything is sent: compare-and-set, folded again when a button changed an alert.

        On a cluster's first poll (no cursor yet), what the lookback found that is already
        resolved is history, not news: one summary card instead of one card each."""
        flapping = self._flapping(cluster)
        for _ in range(SAVE_TRIES):
            changed = self.episodes.fold(cluster, matches, now, flapping)
            active = self._active_runs(cluster)
            changed = {k: runs.tie(a, active) for k, a in changed.items()}
            judged = self.episodes.judge(cluster, seen, changed, now, flapping)
            changed.update(judged.alerts)
            if self.store.save_poll(
                self._staged(cluster, changed, judged.quiet, seen, now), cursors
            ):
                return True
        return False

    def _staged(
        self, cluster: str, changed: dict[str, Alert], quiet: set[str], seen: Seen, now: float
    ) -> list[Alert]:
        """Each changed alert with the card it needs: none for an episode's candidate end;
        on a first poll, what is past already goes into one summary card."""
        past = [a for a in changed.values() if seen.first and only_history(a, now)]
        staged = [
            a if a.key in quiet else lifecycle.to_deliver(a, now)
            for a in changed.values()
            if a not in past
        ]
        staged += past  # kept, resolved, never posted
        if past:
            staged.append(lifecycle.to_deliver(lifecycle.history(cluster, past, now), now))
        return staged

    async def judge_now(self, cluster: str, live: LiveStatus) -> None:
        """A status read between polls (the live view, read again after a followed journal
        spoke, or a check when a card could resolve): the episodes it shows over and the
        cards it resolves are saved and sent at once, not at the next poll."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            if not self.leads(cluster):
                return
            handle = self.ops.cluster(cluster)
            now = self.clock()
            at = status_time(live.status, handle.config.alerts.log_timezone, now)
            seen = Seen(status=live.status, at=at, gone=set(), first=False)
            if not await off_loop(self._save, cluster, (), seen, {}, now):
                log.info("%s: alerts changed under a status check; the next one sees them", cluster)
                return
            await self.courier.deliver(cluster, self._lease_keeper(cluster))
        self._check_later(cluster, at)

    def _check_later(self, cluster: str, status_at: float) -> None:
        """A card whose episode has ended resolves on a status read `resolve_after_s` after
        its newest line: read one then (rather than wait for the next poll)."""
        wait = self.episodes.next_check(cluster, status_at, self._flapping(cluster))
        if wait is None or wait > self.ops.cluster(cluster).config.alerts.interval_s:
            return  # none waits, or the next poll comes first
        self.view.check_in(cluster, wait + CHECK_MARGIN_S)

    async def _read(
        self,
        handle: ClusterHandle,
        node_name: str,
        source: Source,
        cursor: str | None,
        now: float,
    ) -> tuple[str, Batch | str]:
        key = cursor_key(handle.name, node_name, source)
        since = now - handle.config.alerts.lookback_s
        batch = await read_source(handle, node_name, source, cursor, since, now)
        if isinstance(batch, str):
            return key, batch
        if batch.note:
            log.info("%s %s: %s", node_name, source.name, batch.note)
        if batch.problem:
            log.warning("%s %s: cannot be read: %s", node_name, source.name, batch.problem)
        return key, batch

    def _quiet(
        self, cluster: str, matches: Sequence[Match], values: dict[str, str], now: float
    ) -> list[Match]:
        """Planned stops (habot.alerts.planned), remembered across polls; each node's return
        is kept (it ends the episodes about that node)."""
        key = f"stopped|{cluster}"
        stopped = {n: float(t) for n, t in json.loads(self.store.get(key) or "{}").items()}
        kept, stopped = planned.quiet(matches, stopped, now)
        values[key] = json.dumps(stopped, sort_keys=True)
        return kept + [m for m in matches if m.rule.marks == "rejoin"]

    async def _status(self, handle: ClusterHandle) -> ClusterStatus | None:
        generation = self.view.generation(handle.name)
        read_at = time.monotonic()
        try:
            live = await self.ops.read(handle)
        except (ClusterError, HabotError) as e:
            log.info("%s: no status this poll (%s)", handle.name, e)
            return None
        self.view.keep(handle, live, read_at, generation)
        return live.status

    def _active_runs(self, cluster: str) -> list[runs.ActiveRun]:
        """The runs changing the cluster now (any replica's), with what each names and
        expects; none when the store cannot say."""
        books = {b.name: b for b in self.runbooks.values()}
        found = []
        for r in self.store.requests_in(RequestState.RUNNING):
            book = books.get(r.runbook)
            if r.cluster != cluster:
                continue
            expects = frozenset(book.expects) if book is not None else frozenset()
            names = frozenset(v for _, v in r.params if v)
            if book is not None and any(s.for_each is Loop.NODES for s in book.steps):
                names |= {n.name for n in self.ops.cluster(cluster).config.nodes}  # each in turn
            found.append(runs.ActiveRun(r.id, r.runbook, r.channel, r.message_ts, names, expects))
        return found


def schedule(poller: Poller, clusters: Sequence[ClusterHandle]) -> AsyncIOScheduler:
    """One job per cluster in the running event loop, twice per interval: it polls when this
    replica leads the cluster and a poll is due. A failing poll never stops the schedule.
    The clusters' jobs start spread over the first half interval, not all at once: a replica
    of many clusters polls a steady few at a time, never all of them in one burst."""
    scheduler = AsyncIOScheduler()
    now = datetime.now(UTC)
    for i, handle in enumerate(clusters):
        every = handle.config.alerts.interval_s / 2
        scheduler.add_job(
            poller.lead,
            "interval",
            args=[handle.name],
            seconds=every,
            id=f"poll-{handle.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=now + timedelta(seconds=every * i / len(clusters)),
        )
    scheduler.start()
    return scheduler
