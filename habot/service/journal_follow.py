"""Following each node's journal between polls: one `journalctl --follow` per node, over the
SSH connection habot already has, from the stored cursor; what it prints goes to the poller
in small batches (within FLUSH_S of arriving), so a problem reaches Slack in about a second
instead of at the next poll. A stream that breaks is started again from the cursor (after a
pause that grows while it keeps failing); meanwhile the poll reads that node's journal, as
it does for clusters without following. Only the replica that polls a cluster follows it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from habot.alerts.sources import JournalSource
from habot.errors import HabotError
from habot.service.clusters import ClusterHandle
from habot.ssh.transport import NodeAddress

log = logging.getLogger(__name__)
LIMIT_S = 600.0  # a follow is ended on the node and started again from its cursor this often
FLUSH_S = 0.05  # lines that arrive together are pushed together
MAX_BATCH = 2000  # lines pushed at once at most (a flood is pushed in pieces)
PAUSES_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # before each new start while it keeps failing
AGAIN = -1  # a stream overtaken by a poll before it read anything: started again at once

Start = Callable[[str, str], Awaitable[str | None]]  # (cluster, node) -> the cursor to follow from
# (cluster, node, the cursor it started from) -> whether the stream may read the journal now
# (the node answers, and no poll read past that cursor meanwhile): from then on, it is followed
Opened = Callable[[str, str, str | None], Awaitable[bool]]
Push = Callable[[str, str, Sequence[bytes]], Awaitable[object]]
Down = Callable[[str, str], None]


@dataclass
class JournalFollower:
    start: Start  # from where to follow
    opened: Opened  # the channel is open: marks the node followed (the poll leaves it alone)
    push: Push
    down: Down  # the stream ended: the poll reads the node's journal again
    _tasks: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)

    def follow(self, handle: ClusterHandle) -> None:
        """Every node of the cluster followed (those already followed left alone)."""
        for node in handle.config.nodes:
            key = (handle.name, node.name)
            task = self._tasks.get(key)
            if task is None or task.done():
                self._tasks[key] = asyncio.create_task(
                    self._follow(handle, node.address()), name=f"follow-{handle.name}-{node.name}"
                )

    def following(self, cluster: str) -> bool:
        return any(c == cluster and not t.done() for (c, _), t in self._tasks.items())

    async def stop(self, cluster: str | None = None) -> None:
        """Streams of the cluster (of every cluster) ended, and the poll told."""
        keys = [k for k in self._tasks if cluster is None or k[0] == cluster]
        tasks = [self._tasks.pop(k) for k in keys]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for cluster_name, node in keys:
            self.down(cluster_name, node)

    async def _follow(self, handle: ClusterHandle, node: NodeAddress) -> None:
        failures = 0
        while True:
            lines = 0
            try:
                cursor = await self.start(handle.name, node.name)
                argv = JournalSource().follow_argv(cursor)
                lines = await self._stream(handle, node, argv, cursor)
                said = "ended"
            except HabotError as e:
                said = f"broke ({e})"
            except Exception as e:  # a defect must not end the following for good
                log.exception("%s %s: journal stream failed", handle.name, node.name)
                said = f"failed ({type(e).__name__})"
            finally:
                self.down(handle.name, node.name)
            pause = 0.0
            if lines != AGAIN:
                failures = 0 if lines else failures + 1
                pause = PAUSES_S[min(failures, len(PAUSES_S)) - 1] if failures else 0.0
            log.info(
                "%s %s: journal stream %s after %d lines; again in %g s",
                handle.name,
                node.name,
                said,
                lines,
                pause,
            )
            await asyncio.sleep(pause)

    async def _stream(
        self, handle: ClusterHandle, node: NodeAddress, argv: Sequence[str], cursor: str | None
    ) -> int:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def read() -> None:
            try:
                async for line in handle.transport.follow(node, argv, limit_s=LIMIT_S):
                    queue.put_nowait(line)
            finally:
                queue.put_nowait(None)

        reader = asyncio.create_task(read(), name=f"read-{handle.name}-{node.name}")
        count, finished = 0, False
        try:
            while not finished:
                first = await queue.get()
                if first is None:
                    finished = True
                    break
                if first == b"":  # open: followed from now on, unless a poll read past it
                    if not await self.opened(handle.name, node.name, cursor):
                        return AGAIN  # started again at once, from the newer cursor
                    continue
                await asyncio.sleep(FLUSH_S)  # what else arrives with it
                batch = [first]
                while not queue.empty() and len(batch) < MAX_BATCH:
                    more = queue.get_nowait()
                    if more is None:
                        finished = True
                        break
                    batch.append(more)
                count += len(batch)
                await self.push(handle.name, node.name, [b for b in batch if b])
            await reader  # its error, if it broke
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return count
