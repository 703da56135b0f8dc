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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from habot.alerts import agent_records, daily, lifecycle, planned, runs
from habot.alerts.lifecycle import Alert, Change, Delivery, State
from habot.alerts.logline import LogLine, parse_journal
from habot.alerts.rules import Catalogue, Match, Rule, fill, fill_predicate
from habot.alerts.sources import Batch, FileSource, JournalSource
from habot.approvals.model import State as RequestState
from habot.cluster.crm_mon import crm_time
from habot.cluster.health import assess
from habot.cluster.live import LiveStatus
from habot.cluster.model import ClusterStatus, ResourceKind
from habot.cluster.predicates import check
from habot.errors import ClusterError, HabotError, TransportError
from habot.log_format import CLUSTER
from habot.metrics import ALERTS, LEADER, POLL_LAST, POLL_SECONDS
from habot.runbooks.model import Runbook
from habot.service.alert_delivery import AlertSink, Courier, Delivered
from habot.service.clusters import ClusterHandle, Ops
from habot.service.journal_follow import JournalFollower
from habot.service.off_loop import off_loop
from habot.store import Store, StoreError

log = logging.getLogger(__name__)
Source = JournalSource | FileSource
SAVE_TRIES = 5


@dataclass(frozen=True, slots=True)
class PollReport:
    cluster: str
    lines: int
    matched: int
    posted: tuple[str, ...]
    updated: tuple[str, ...]
    unreachable: dict[str, str]
    failed: tuple[str, ...] = ()  # cards kept to retry later


def _cursor_key(cluster: str, node: str, source: Source) -> str:
    return f"cursor|{cluster}|{node}|{source.name}"


def sources_for(handle: ClusterHandle) -> list[Source]:
    chosen = handle.config.alerts.sources
    found: list[Source] = []
    if "journal" in chosen:
        found.append(JournalSource())
    if "file" in chosen:
        zone = handle.config.alerts.log_timezone
        found += [FileSource(path=path, zone=zone) for path in handle.config.alerts.files]
    if "agent" in chosen:
        found.append(FileSource(path=handle.config.alerts.agent_file, records=True))
    return found


async def read_source(
    handle: ClusterHandle,
    node_name: str,
    source: Source,
    cursor: str | None,
    since: float,
    now: float,
) -> Batch | str:
    """One source of one node read from `cursor` (else from `since`); why not, when the node
    could not be reached."""
    node = next(n.address() for n in handle.config.nodes if n.name == node_name)
    try:
        return await source.read(
            handle.transport,
            node,
            cursor,
            since=since,
            timeout=handle.config.command_timeout_s,
            now=now,
        )
    except TransportError as e:
        return e.reason
    except Exception as e:  # one source that fails in any way never stops the others
        log.exception("%s %s: reading failed", node_name, source.name)
        return Batch((), None, problem=f"habot could not read it ({type(e).__name__}: {e})"[:200])


LEASE_INTERVALS = 1.5  # a leader's lease lasts this many poll intervals
VIEW_SETTLE_S = 0.5  # after a followed journal speaks, the live view is read again this late


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
    polls: int = 0  # polls done (a journal stream's cards come between them)
    _live: set[tuple[str, str]] = field(default_factory=set)  # (cluster, node) followed now
    _statuses: dict[str, ClusterStatus] = field(default_factory=dict)  # the last poll's
    _changes: dict[str, int] = field(default_factory=dict)  # what followed journals said
    _refreshing: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _last_poll: dict[str, float] = field(default_factory=dict)
    _leading: set[str] = field(default_factory=set)
    _counted: set[tuple[str, str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.follower = JournalFollower(
            self._follow_from, self._follow_opened, self.push, self._follow_down
        )

    def leads(self, cluster: str) -> bool:
        return cluster in self._leading

    def followed(self, cluster: str) -> set[str]:
        """The nodes whose journal stream is up now (the poll leaves their journal alone)."""
        return {node for c, node in self._live if c == cluster}

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
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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
        for labels in self._counted - set(counts):
            if labels[0] == cluster:
                ALERTS.labels(*labels).set(0)
        for labels, n in counts.items():
            ALERTS.labels(*labels).set(n)
        self._counted = {c for c in self._counted if c[0] != cluster} | set(counts)

    async def deliver(self, cluster: str) -> Delivered:
        """Post or update the cluster's cards that are due (after a button changed one) —
        only by the holder of the cluster's polling lease (taken here if nobody holds it);
        on another replica, the leader sends them at its next check (half an interval)."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            return await self.courier.deliver(cluster, self._lease_keeper(cluster))

    async def _poll(self, handle: ClusterHandle) -> PollReport:
        now = self.clock()
        reads = [(n.name, source) for n in handle.config.nodes for source in sources_for(handle)]
        keys = [_cursor_key(handle.name, node, source) for node, source in reads]
        stored = await off_loop(lambda: {key: self.store.get(key) for key in keys})
        batches = await asyncio.gather(
            *(
                self._followed(key)
                if isinstance(source, JournalSource) and (handle.name, node) in self._live
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
        matches = await asyncio.to_thread(_match_all, self.catalogue, lines)
        down, reachable = await off_loop(self._unreachable, handle, unreachable, cursors)
        silent, readable = await off_loop(self._silent, handle, batches, cursors)
        matches += down + silent
        status = await self._status(handle)
        daily_gone: set[str] = set()
        if status is not None:
            self._statuses[handle.name] = status
            matches = [_canonical(m, status) for m in matches] + self._findings(status)
            checked, daily_gone = await self._daily(handle, status, cursors, now)
            matches += checked
        matches = await off_loop(self._quiet, handle.name, matches, cursors, now)
        seen = Seen(
            status=status,
            at=_status_time(status, handle.config.alerts.log_timezone, now),
            gone=reachable | readable | daily_gone,  # habot's own conditions that no longer hold
            first=all(stored[key] is None for key in keys),
        )
        if not await off_loop(self._save, handle.name, matches, seen, cursors, now):
            log.warning("%s: alerts kept changing under this poll; read again next poll", handle)
            return PollReport(handle.name, len(lines), len(matches), (), (), unreachable)
        done = await self.courier.deliver(handle.name, self._lease_keeper(handle.name))
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
        return await off_loop(self.store.get, _cursor_key(cluster, node, JournalSource()))

    async def _follow_opened(self, cluster: str, node: str, cursor: str | None) -> bool:
        """A stream's channel is open (the node answers): from now on the stream reads the
        node's journal, not the poll — unless a poll read past its cursor meanwhile (then it
        starts again from the newer one). Under the cluster's lock: no poll reads meanwhile."""
        async with self._locks.setdefault(cluster, asyncio.Lock()):
            stored = await off_loop(self.store.get, _cursor_key(cluster, node, JournalSource()))
            if stored != cursor:
                return False
            self._live.add((cluster, node))
            everyone = {n.name for n in self.ops.cluster(cluster).config.nodes}
            if self.followed(cluster) == everyone:
                self._changed(cluster)  # every node followed: the live view can begin
            return True

    def _follow_down(self, cluster: str, node: str) -> None:
        self._live.discard((cluster, node))
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
                self._changed(cluster)
            cursors = {_cursor_key(cluster, node, source): batch.cursor} if batch.cursor else {}
            now = self.clock()
            matches = _match_all(self.catalogue, lines)
            status = self._statuses.get(cluster)
            if status is not None:
                matches = [_canonical(m, status) for m in matches]
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
        for _ in range(SAVE_TRIES):
            changed = self._fold(cluster, matches, now)
            active = self._active_runs(cluster)
            changed = {k: runs.tie(a, active) for k, a in changed.items()}
            changed.update(self._resolve(cluster, seen, changed, now))
            past = [a for a in changed.values() if seen.first and _only_history(a, now)]
            staged = [lifecycle.to_deliver(a, now) for a in changed.values() if a not in past]
            staged += past  # kept, resolved, never posted
            if past:
                staged.append(lifecycle.to_deliver(lifecycle.history(cluster, past, now), now))
            if self.store.save_poll(staged, cursors):
                return True
        return False

    async def _read(
        self,
        handle: ClusterHandle,
        node_name: str,
        source: Source,
        cursor: str | None,
        now: float,
    ) -> tuple[str, Batch | str]:
        key = _cursor_key(handle.name, node_name, source)
        since = now - handle.config.alerts.lookback_s
        batch = await read_source(handle, node_name, source, cursor, since, now)
        if isinstance(batch, str):
            return key, batch
        if batch.note:
            log.info("%s %s: %s", node_name, source.name, batch.note)
        if batch.problem:
            log.warning("%s %s: cannot be read: %s", node_name, source.name, batch.problem)
        return key, batch

    def _unreachable(
        self, handle: ClusterHandle, down: dict[str, str], values: dict[str, str]
    ) -> tuple[list[Match], set[str]]:
        """Nodes habot cannot reach, N polls in a row; and the alert keys of those it can."""
        rule = self.catalogue.rule("node-unreachable")
        found, fine = [], set()
        for node in handle.config.nodes:
            key = f"unreachable|{handle.name}|{node.name}"
            streak = int(self.store.get(key) or 0) + 1 if node.name in down else 0
            values[key] = str(streak)
            if rule is None:
                continue
            if not streak:
                fine.add(fill(rule.key, rule.id, {"node": node.name}))
            elif streak >= handle.config.alerts.unreachable_after:
                text = f"{streak} polls in a row: {down[node.name]}"
                found.append(_synthetic(rule, {"node": node.name}, node.name, text))
        return found, fine

    def _silent(
        self,
        handle: ClusterHandle,
        batches: Sequence[tuple[str, Batch | str]],
        values: dict[str, str],
    ) -> tuple[list[Match], set[str]]:
        """Sources that answer but cannot be read (not JSON, no such file, journalctl failing),
        N polls in a row: an alert of their own, never silence."""
        rule = self.catalogue.rule("source-unreadable")
        behind = self.catalogue.rule("source-behind")
        skipped = self.catalogue.rule("source-skipped")
        found, fine = [], set()
        for key, result in batches:
            if not isinstance(result, Batch) or rule is None:
                continue  # an unreachable node has its own alert
            _, cluster, node, source = key.split("|", 3)
            if skipped is not None:
                where = {"node": node, "source": source.removeprefix("file:"), "reason": ""}
                if result.lost:
                    where["reason"] = result.lost
                    found.append(_synthetic(skipped, where, node, result.lost))
                elif not result.problem:
                    fine.add(fill(skipped.key, skipped.id, where))
            if behind is not None:
                where = {"node": node, "source": source.removeprefix("file:")}
                if result.backlog:
                    text = "more records were waiting than one poll reads (a flood of lines?)"
                    found.append(_synthetic(behind, where, node, text))
                else:
                    fine.add(fill(behind.key, behind.id, {"node": node, **where}))
            streak_key = f"silent|{cluster}|{node}|{source}"
            streak = int(self.store.get(streak_key) or 0) + 1 if result.problem else 0
            values[streak_key] = str(streak)
            fields = {"node": node, "source": source.removeprefix("file:"), "reason": ""}
            if not streak:
                fine.add(fill(rule.key, rule.id, fields))
            elif streak >= handle.config.alerts.unreachable_after:
                fields["reason"] = result.problem
                text = f"{streak} polls in a row: {result.problem}"
                found.append(_synthetic(rule, fields, node, text))
        return found, fine

    def _quiet(
        self, cluster: str, matches: Sequence[Match], values: dict[str, str], now: float
    ) -> list[Match]:
        """Planned stops (habot.alerts.planned), remembered across polls."""
        key = f"stopped|{cluster}"
        stopped = {n: float(t) for n, t in json.loads(self.store.get(key) or "{}").items()}
        kept, stopped = planned.quiet(matches, stopped, now)
        values[key] = json.dumps(stopped, sort_keys=True)
        return kept

    async def _status(self, handle: ClusterHandle) -> ClusterStatus | None:
        generation = self._changes.get(handle.name, 0)
        read_at = time.monotonic()
        try:
            live = await self.ops.read(handle)
        except (ClusterError, HabotError) as e:
            log.info("%s: no status this poll (%s)", handle.name, e)
            return None
        self._keep_view(handle, live, read_at, generation)
        return live.status

    def _keep_view(
        self, handle: ClusterHandle, live: LiveStatus, read_at: float, generation: int
    ) -> None:
        """The live view `/ha status` answers from: only while every node's journal is
        followed (a change would be heard), and nothing was heard since the read began."""
        everyone = {n.name for n in handle.config.nodes}
        if (
            self.followed(handle.name) == everyone
            and self._changes.get(handle.name, 0) == generation
        ):
            self.ops.remember(handle.name, live, read_at, handle.config.alerts.interval_s)
        else:
            self.ops.forget(handle.name)

    def _changed(self, cluster: str) -> None:
        """A followed journal said something: the live view is forgotten and read again
        (once, however many batches come meanwhile)."""
        self._changes[cluster] = self._changes.get(cluster, 0) + 1
        self.ops.forget(cluster)
        if cluster not in self._refreshing:
            self._refreshing.add(cluster)
            task = asyncio.create_task(self._refresh(cluster), name=f"view-{cluster}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _refresh(self, cluster: str) -> None:
        try:
            await asyncio.sleep(VIEW_SETTLE_S)  # what comes with it
            handle = self.ops.cluster(cluster)
            self._refreshing.discard(cluster)
            generation = self._changes.get(cluster, 0)
            read_at = time.monotonic()
            try:
                live = await self.ops.read(handle)
            except (ClusterError, HabotError) as e:
                log.info("%s: live view not read (%s)", cluster, e)
                return
            if self.leads(cluster):
                self._keep_view(handle, live, read_at, generation)
        finally:
            self._refreshing.discard(cluster)

    async def _daily(
        self, handle: ClusterHandle, status: ClusterStatus, cursors: dict[str, str], now: float
    ) -> tuple[list[Match], set[str]]:
        """Every poll notes when each move constraint was first seen; once a day (from
        `alerts.daily_check`), each online node's failure is simulated: what would have
        nowhere to run, and the move constraints left longer than `left_behind_h`. Returns
        the findings, and the keys of the daily alerts that no longer hold."""
        config = handle.config.alerts
        key = f"constraint-seen|{handle.name}"  # {constraint id: first seen}, those present
        stored = daily.parse_seen(await off_loop(self.store.get, key))
        seen = daily.first_seen(status, stored, now)
        if seen != stored:  # a constraint new, or gone (a new one of the same id starts anew)
            cursors[key] = json.dumps(seen, sort_keys=True)
        nowhere = self.catalogue.rule("nowhere-to-run")
        behind = self.catalogue.rule("move-left-behind")
        if config.daily_check is None or nowhere is None or behind is None:
            return [], set()
        last = await off_loop(self.store.get, f"daily|{handle.name}")
        day = daily.due(last, now, config.daily_check, config.log_timezone)
        if day is None:
            return [], set()
        cursors[f"daily|{handle.name}"] = day
        found, unsure = [], False
        for node in status.online_nodes:
            try:
                report = await self.ops.whatif(handle.name, "node-fail", node)
            except HabotError as e:
                log.warning("%s: daily check: no simulation of %s failing: %s", handle, node, e)
                unsure = True
                continue
            for resource in report.left_stopped:
                text = f"crm_simulate --node-fail={node}: {resource} stops and starts nowhere"
                found.append(_synthetic(nowhere, {"resource": resource}, node, text))
        for left in daily.left_too_long(status, seen, now, config.left_behind_h):
            c = left.constraint
            fields = {"constraint": c.id, "resource": c.resource, "age": left.age}
            text = f"{c.id} ({c.resource}, {c.node}, score {c.score}) seen for {left.age}"
            found.append(_synthetic(behind, fields, "", text))
        log.info("%s: daily check for %s: %d findings", handle.name, day, len(found))
        if unsure:  # a node not simulated: what it would have found is not known to be gone
            return found, set()
        open_keys = await off_loop(self.store.alerts, handle.name)
        raised = {m.key for m in found}
        gone = {a.key for a in open_keys if a.rule == nowhere.id and a.key not in raised}
        return found, gone

    def _findings(self, status: ClusterStatus) -> list[Match]:
        codes = {f.code: f for f in assess(status)}
        return [
            _synthetic(rule, {}, "", codes[rule.finding].message)
            for rule in self.catalogue.rules
            if rule.finding is not None and rule.finding in codes
        ]

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
            found.append(runs.ActiveRun(r.id, r.runbook, r.channel, r.message_ts, names, expects))
        return found

    def _fold(self, cluster: str, matches: Sequence[Match], now: float) -> dict[str, Alert]:
        changed: dict[str, Alert] = {}
        kinds: dict[str, Change] = {}
        for match in matches:
            current = changed.get(match.key) or self.store.alert(cluster, match.key)
            alert, change = lifecycle.observe(current, match, cluster, now)
            if kinds.get(match.key) is Change.POST:  # a new card this poll: still one post
                change = Change.POST
            if change is Change.POST:
                alert = replace(_fresh(alert), version=current.version if current else 0)
            changed[match.key], kinds[match.key] = alert, change
        return changed

    def _resolve(
        self, cluster: str, seen: Seen, changed: dict[str, Alert], now: float
    ) -> dict[str, Alert]:
        """Alerts whose condition no longer holds — judged only on a status the cluster read
        long enough after the alert's newest line to have noticed it (`resolve_after_s`)."""
        status, gone = seen.status, seen.gone
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
            cleared = alert.key in gone or (
                status is not None
                and rule is not None
                and lifecycle.settled(alert, seen.at, rule.resolve_after_s)
                and _cleared(rule, alert, status)
            )
            if cleared:
                resolved[alert.key] = lifecycle.resolve(alert, now)
        return resolved


@dataclass(frozen=True, slots=True)
class Seen:
    """What one poll saw besides the lines: the status, when the cluster read it (its own
    clock), habot's own conditions that cleared, and whether it is the cluster's first."""

    status: ClusterStatus | None
    at: float
    gone: set[str]
    first: bool


def _status_time(status: ClusterStatus | None, zone: str, now: float) -> float:
    """crm_mon's "last updated" (the node's clock, in the nodes' time zone); habot's own
    time when there is none to read."""
    if status is None:
        return now
    read = crm_time(status.summary.last_update, ZoneInfo(zone))
    return read if read is not None else now


def _only_history(alert: Alert, now: float) -> bool:
    """Opened and resolved by the same poll, with no card yet: something of the past."""
    return alert.state is State.RESOLVED and not alert.message_ts and alert.first_seen == now


def _synthetic(rule: Rule, fields: dict[str, str], node: str, text: str) -> Match:
    line = LogLine(node=node, identifier="habot", level="", text=text)
    return Match(
        rule, fill(rule.key, rule.id, {"node": node, **fields}), {"node": node, **fields}, line
    )


def _canonical(match: Match, status: ClusterStatus) -> Match:
    """A clone's instance and its clone are one resource: named as the cluster names it at
    the top level (`dlm` -> `dlm-clone`), so one problem is one card."""
    fields = dict(match.fields)
    name = fields.get("resource")
    found = status.resource(name) if name else None
    if found is not None:
        fields["resource"] = found.id
        active = {n for i in found.instances if name in (i.id, found.id) for n in i.nodes}
        if len(active) > 1 and found.kind is ResourceKind.PRIMITIVE:
            fields["active_on"] = ", ".join(sorted(active))
    peer = next((n.name for n in status.nodes if n.node_id and n.node_id == fields.get("peer")), "")
    if peer:  # corosync names nodes by id
        fields["peer_name"] = peer
    if fields == match.fields:
        return match
    return replace(match, fields=fields, key=fill(match.rule.key, match.rule.id, fields))


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
    fresh = replace(alert, message_ts="", channel="", delivery=Delivery.NONE, token="")
    return runs.untied(fresh)


def _match_all(catalogue: Catalogue, lines: Sequence[LogLine]) -> list[Match]:
    """Each line on its own: one that a rule cannot take is logged and skipped, never the
    end of the batch."""
    found = []
    for line in lines:
        try:
            match = catalogue.match(line)
        except Exception:  # a defect in one rule or line; every other line still counts
            log.exception("%s: line not matched: %r", line.node, line.text[:200])
            continue
        if match is not None:
            found.append(match)
    return found


def schedule(poller: Poller, clusters: Sequence[ClusterHandle]) -> AsyncIOScheduler:
    """One job per cluster in the running event loop, twice per interval: it polls when this
    replica leads the cluster and a poll is due. A failing poll never stops the schedule."""
    scheduler = AsyncIOScheduler()
    for handle in clusters:
        scheduler.add_job(
            poller.lead,
            "interval",
            args=[handle.name],
            seconds=handle.config.alerts.interval_s / 2,
            id=f"poll-{handle.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    return scheduler
