"""A cluster's logs over a window of time, read once from every node (for `/ha history`, not
for alerts: no cursor is kept, nothing is marked as seen)."""

from __future__ import annotations

import asyncio
import dataclasses

from habot.alerts.logline import LogLine
from habot.alerts.sources import FileSource
from habot.alerts.transitions import ClusterEvent, cluster_events
from habot.service.alert_reads import Source, read_source, sources_for
from habot.service.clusters import ClusterHandle

FILE_TAIL = 8 * 1024 * 1024  # bytes of a log file's end read for a window (a day, typically)


async def events_since(
    handle: ClusterHandle, since: float, now: float
) -> tuple[list[ClusterEvent], list[str]]:
    """What the cluster's logs say happened since `since` (transitions, membership), and
    which node's logs could not be read, and why."""
    sources = [_wide(s) for s in sources_for(handle)]
    reads = [(node.name, s) for node in handle.config.nodes for s in sources]
    done = await asyncio.gather(*(_read(handle, n, s, since, now) for n, s in reads))
    lines = [ln for found, _ in done for ln in found if ln.at >= since]
    unread = [
        f"{name} {s.name}: {why}" for (name, s), (_, why) in zip(reads, done, strict=True) if why
    ]
    return cluster_events(lines), unread


def _wide(source: Source) -> Source:
    if isinstance(source, FileSource):
        return dataclasses.replace(source, first_read=FILE_TAIL)
    return source


async def _read(
    handle: ClusterHandle, name: str, source: Source, since: float, now: float
) -> tuple[tuple[LogLine, ...], str]:
    batch = await read_source(handle, name, source, None, since, now)
    if isinstance(batch, str):
        return (), batch
    return batch.lines, batch.problem
