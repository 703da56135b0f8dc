"""Following each node's journal between polls (scripted transport): a record is posted as
soon as its stream brings it, with no poll; a stream that breaks starts again from its cursor
(nothing lost, nothing twice); while a node is followed the poll leaves its journal alone,
and reads it again once the streams stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from habot.alerts.sources import JournalSource
from habot.errors import TransportError
from habot.service import describe
from habot.service.alert_poller import Poller
from tests.alerts.test_delivery import CATALOGUE, FAILED_MONITOR, MemorySink, cluster, feed
from tests.fakes.cluster import STATUS, Scene, journal

LOST = [("pacemaker-controld", "notice: Node nodo2 state is now lost | nodeid=2")]


async def until(what: str, check: Callable[[], bool]) -> None:
    for _ in range(250):  # bounded: 5 s at most
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


def journal_reads(calls: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    return [node for node, argv in calls if argv[:2] == ("habot-node", "journal")]


async def test_streams_post_at_once_resume_from_their_cursor_and_leave_the_poll_alone() -> None:
    s, sink = cluster(), MemorySink()
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, follow=True)
    first = journal("nodo1", FAILED_MONITOR, first=1, at=s.clock.now)
    second = journal("nodo1", LOST, first=2, at=s.clock.now + 1)
    s.transport.stream("nodo1", first.splitlines(), then=TransportError("nodo1", "reset"))
    s.transport.stream("nodo1", second.splitlines())  # then it ends: started once more
    feed(s)  # the first poll reads both journals (nothing in them)
    try:
        await p.lead("mycluster")
        await until("both cards", lambda: len(sink.posts) == 2)
        assert [a.key for a in sink.posts] == ["resource-failed:WebSite:nodo1", "node-lost:nodo2"]
        followed = [argv for node, argv in s.transport.followed if node == "nodo1"]
        assert followed[0] == tuple(JournalSource().follow_argv(None))  # from now on
        assert followed[1] == tuple(JournalSource().follow_argv("s=1;i=1"))  # after the break
        await until("the third start", lambda: len(s.transport.followed) >= 4)
        assert s.transport.followed[-1][1] == tuple(JournalSource().follow_argv("s=1;i=2"))
        assert s.store.get("cursor|mycluster|nodo1|journal") == "s=1;i=2"
        reads = len(journal_reads(s.transport.calls))
        assert reads == 2  # the first poll read both journals
        # the third stream is open once its channel answered (until then a poll reads nodo1)
        await until("both followed", lambda: p.followed("mycluster") == {"nodo1", "nodo2"})
        s.clock.now += 30
        await p.lead("mycluster")  # a poll while both nodes are followed
        assert len(journal_reads(s.transport.calls)) == reads  # it read no journal
        assert len(sink.posts) == 2  # and posted nothing twice
    finally:
        await p.idle()  # the streams stop
    s.clock.now += 30
    feed(s)  # now the poll reads both journals again, from the streams' cursors
    await p.poll("mycluster")
    s.transport.assert_done()
    assert len(sink.posts) == 2


async def test_a_replica_that_does_not_lead_follows_nothing() -> None:
    s, sink = cluster(), MemorySink()
    other = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="b")
    assert s.store.lease("poll:mycluster", "b", s.clock.now, 3600)  # another replica leads
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="a", follow=True)
    assert await p.lead("mycluster") is None
    await asyncio.sleep(0.05)
    assert s.transport.followed == []
    assert not p.follower.following("mycluster")
    assert other.replica == "b"


async def test_a_takeover_moves_the_streams_with_their_cursor() -> None:
    """Replica a follows; it stops renewing its lease (paused, cut off); b takes over and
    follows from the cursor a's stream stored — the next record posted once, by b — and a,
    at its next check, stops following."""
    s, sink = cluster(), MemorySink()
    a = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="a", follow=True)
    b = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="b", follow=True)
    s.transport.stream(
        "nodo1", journal("nodo1", FAILED_MONITOR, first=1, at=s.clock.now).splitlines()
    )
    feed(s)
    try:
        await a.lead("mycluster")
        await until("a's card", lambda: len(sink.posts) == 1)
        await until("a follows again", lambda: len(s.transport.followed) >= 3)
        s.clock.now += 30 * 1.5 + 1  # a's lease has run out
        second = journal("nodo1", LOST, first=2, at=s.clock.now)
        s.transport.stream("nodo1", second.splitlines())
        feed(s)  # b's first poll reads both journals, from the stored cursors
        await b.lead("mycluster")
        await until("b's card", lambda: len(sink.posts) == 2)
        assert [a.key for a in sink.posts] == ["resource-failed:WebSite:nodo1", "node-lost:nodo2"]
        from_b = [argv for node, argv in s.transport.followed if node == "nodo1"][-2]
        assert from_b == tuple(JournalSource().follow_argv("s=1;i=1"))
        assert await a.lead("mycluster") is None  # a sees b leads ...
        assert not a.follower.following("mycluster")  # ... and stops following
        assert b.follower.following("mycluster")
    finally:
        await a.idle()
        await b.idle()


async def test_a_node_that_does_not_answer_is_not_followed_and_the_poll_reads_it() -> None:
    """No channel to nodo2: it is never marked followed, so the poll keeps reading (and
    judging) its journal, while nodo1's stream is up."""
    s, sink = cluster(), MemorySink()
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, follow=True)
    s.transport.stream("nodo2", [], then=TransportError("nodo2", "connection refused"))
    feed(s)
    try:
        await p.lead("mycluster")
        await until("nodo1 followed", lambda: p.followed("mycluster") == {"nodo1"})
        await until("nodo2 tried", lambda: any(n == "nodo2" for n, _ in s.transport.followed))
        assert "nodo2" not in p.followed("mycluster")
        s.clock.now += 30  # within nodo2's pause before its next try (1 s)
        cursor = s.store.get("cursor|mycluster|nodo2|journal")
        since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
        s.transport.expect("nodo2", JournalSource().argv(cursor, since), stdout=b"")
        await p.lead("mycluster")
        s.transport.assert_done()  # the poll read nodo2's journal, not nodo1's
    finally:
        await p.idle()


def status_reads(s: Scene) -> int:
    return sum(argv == tuple(STATUS) for _, argv in s.transport.calls)


async def test_status_answers_from_the_live_view_until_a_followed_journal_speaks() -> None:
    """Every node followed: `/ha status` answers from the view (saying how old it is) with no
    read; a record on a followed journal forgets it, and it is read again; a stream that goes
    down forgets it too. Plans and checks always read afresh."""
    s, sink = cluster(), MemorySink()
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, follow=True)
    feed(s)
    try:
        await p.lead("mycluster")
        await until("every node followed", lambda: len(p.followed("mycluster")) == 2)
        await until("the live view", lambda: "mycluster" in s.ops.views)
        reads = status_reads(s)
        report = await s.ops.status("mycluster")
        assert report.age_s is not None
        assert "kept current by following every node's journal" in describe.read_from(report)
        assert status_reads(s) == reads  # answered without a read
        await s.ops.read(s.ops.cluster("mycluster"))  # what plans use: always a read
        assert status_reads(s) == reads + 1
        await p.push(
            "mycluster", "nodo1", journal("nodo1", FAILED_MONITOR, at=s.clock.now).splitlines()
        )
        assert "mycluster" not in s.ops.views  # the cluster spoke: forgotten at once
        assert (await s.ops.status("mycluster")).age_s is None  # so this one reads
        await until("read again", lambda: "mycluster" in s.ops.views)
    finally:
        await p.idle()
    assert "mycluster" not in s.ops.views  # no stream, no live view
    assert (await s.ops.status("mycluster")).age_s is None
