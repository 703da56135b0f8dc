"""The live view of a cluster habot follows: the status `/ha status` answers from, forgotten the
moment a followed journal says something and read again half a second later — and each read
judged at once, so an episode ends and a card resolves within seconds of the cluster showing
it, not at the next poll. A card that can resolve only later gets a read of its own then."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from habot.cluster.live import LiveStatus
from habot.errors import ClusterError, HabotError
from habot.service.clusters import ClusterHandle, Ops

log = logging.getLogger(__name__)
VIEW_SETTLE_S = 0.5  # after a followed journal speaks, the live view is read again this late

Judge = Callable[[str, LiveStatus], Awaitable[None]]


@dataclass
class LiveView:
    ops: Ops
    followed: Callable[[str], set[str]]  # the nodes whose journal stream is up now
    leads: Callable[[str], bool]
    judge: Judge  # a status read between polls, judged at once
    _changes: dict[str, int] = field(default_factory=dict)  # what followed journals said
    _refreshing: set[str] = field(default_factory=set)
    _checks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def generation(self, cluster: str) -> int:
        return self._changes.get(cluster, 0)

    def keep(
        self, handle: ClusterHandle, live: LiveStatus, read_at: float, generation: int
    ) -> None:
        """The live view `/ha status` answers from: only while every node's journal is
        followed (a change would be heard), and nothing was heard since the read began."""
        everyone = {n.name for n in handle.config.nodes}
        if self.followed(handle.name) == everyone and self.generation(handle.name) == generation:
            self.ops.remember(handle.name, live, read_at, handle.config.alerts.interval_s)
        else:
            self.ops.forget(handle.name)

    def changed(self, cluster: str) -> None:
        """A followed journal said something: the live view is forgotten and read again
        (once, however many batches come meanwhile)."""
        self._changes[cluster] = self.generation(cluster) + 1
        self.ops.forget(cluster)
        if cluster not in self._refreshing:
            self._refreshing.add(cluster)
            self._start(self._refresh(cluster, VIEW_SETTLE_S), f"view-{cluster}")

    def check_in(self, cluster: str, delay: float) -> None:
        """Read the cluster again in `delay` seconds and judge what it shows (one waiting
        check per cluster: a later one replaces it)."""
        waiting = self._checks.pop(cluster, None)
        if waiting is not None:
            waiting.cancel()
        self._checks[cluster] = self._start(self._refresh(cluster, delay), f"check-{cluster}")

    def _start(self, work: Awaitable[None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _refresh(self, cluster: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)  # what comes with it
            handle = self.ops.cluster(cluster)
            self._refreshing.discard(cluster)
            generation = self.generation(cluster)
            read_at = time.monotonic()
            try:
                live = await self.ops.read(handle)
            except (ClusterError, HabotError) as e:
                log.info("%s: live view not read (%s)", cluster, e)
                return
            if self.leads(cluster):
                self.keep(handle, live, read_at, generation)
                await self.judge(cluster, live)
        except HabotError as e:  # the store, most likely: the next poll judges again
            log.warning("%s: a status read between polls was not judged: %s", cluster, e)
        finally:
            self._refreshing.discard(cluster)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._checks.clear()
