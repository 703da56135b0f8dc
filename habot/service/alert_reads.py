"""What a poll reads on each node: the cluster's alert sources (the journal, log files, the
alert agent's records), each with its own stored cursor."""

from __future__ import annotations

import logging

from habot.alerts.sources import Batch, FileSource, JournalSource
from habot.errors import TransportError
from habot.service.clusters import ClusterHandle

log = logging.getLogger(__name__)
Source = JournalSource | FileSource


def cursor_key(cluster: str, node: str, source: Source) -> str:
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
    could not be reached. A source that fails in any other way is a problem of its own (the
    "source unreadable" card), never the end of the poll: the others are read as usual."""
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
