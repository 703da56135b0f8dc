"""Two replicas on one database, one Slack channel: only the holder of the polling lease
delivers cards, a card is marked "posting" by compare-and-set, and a delivery that outlives
its lease stops — so no card is posted twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from habot.alerts.lifecycle import POST_GRACE_S, Alert, Delivery, posting
from habot.service.alert_poller import LEASE_INTERVALS, Poller
from habot.service.clusters import ClusterHandle, Ops
from habot.store import Store
from tests.alerts.test_delivery import CATALOGUE, FAILED_MONITOR, MemorySink, feed
from tests.fakes.cluster import NO_STONITH, Scene, scene


@dataclass
class SlowChannel(MemorySink):
    """A channel where, during the first post, the poster's lease runs out and the other
    replica takes it (a poll of many cards at Slack's one message a second)."""

    during_first_post: list[object] = field(default_factory=list)

    async def post(self, alert: Alert) -> tuple[str, str]:
        answer = await super().post(alert)
        for action in self.during_first_post:
            action()  # type: ignore[operator]
        self.during_first_post.clear()
        return answer


def two_replicas(tmp_path: Path, sink: MemorySink) -> tuple[Scene, Poller, Poller]:
    db = tmp_path / "habot.sqlite3"
    s = scene(db, capture="lab_seed_no_stonith.xml")
    a = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="a")
    b = Poller(s.ops, Store(db), CATALOGUE, sink, clock=s.clock, replica="b")
    return s, a, b


async def test_only_the_lease_holder_delivers_a_buttons_change(tmp_path: Path) -> None:
    sink = MemorySink()
    s, a, b = two_replicas(tmp_path, sink)
    feed(s, nodo1=NO_STONITH)
    assert (await a.lead("mycluster")) is not None  # a leads, polls, posts the card
    assert len(sink.posts) == 1
    # a button clicked on replica b changes the alert: b does not deliver it
    b.store.change_alert(
        "mycluster",
        "no-stonith",
        lambda x: replace(x, delivery=Delivery.UPDATE),
    )
    assert (await b.deliver("mycluster")).updated == []
    assert sink.updates == []
    # a's next check (half an interval later, no poll due) sends it, once
    s.clock.now += s.config.clusters["mycluster"].alerts.interval_s / 2
    assert await a.lead("mycluster") is None
    assert len(sink.updates) == 1


async def test_a_delivery_that_outlives_its_lease_stops_and_no_card_goes_twice(
    tmp_path: Path,
) -> None:
    sink = SlowChannel()
    s, a, b = two_replicas(tmp_path, sink)
    interval = s.config.clusters["mycluster"].alerts.interval_s

    def lease_lost() -> None:  # a's lease expires, b takes it over
        s.clock.now += interval * LEASE_INTERVALS + 1
        assert b.store.lease("poll:mycluster", "b", s.clock.now, interval * LEASE_INTERVALS)

    sink.during_first_post.append(lease_lost)
    feed(s, nodo1=NO_STONITH + FAILED_MONITOR)  # two cards to post
    report = await a.poll("mycluster")
    assert len(report.posted) == 1  # the second waits: a lost the lease after the first
    assert not a.leads("mycluster")
    s.clock.now += interval
    feed(s)
    assert await b.lead("mycluster") is not None  # b polls and posts the rest
    keys = [p.key for p in sink.posts]
    assert sorted(keys) == ["no-stonith", "resource-failed:WebSite:nodo1"]  # each once


def test_the_posting_mark_is_compare_and_set(tmp_path: Path) -> None:
    """Two deliveries read the same due card; the second to mark it finds it marked."""
    db = tmp_path / "habot.sqlite3"
    s = scene(db)
    other = Store(db)
    stale = _due_card(s)
    first = s.store.change_alert(
        "mycluster", stale.key, lambda x: _marked(x) if x.version == stale.version else None
    )
    assert first is not None
    second = other.change_alert(
        "mycluster", stale.key, lambda x: _marked(x) if x.version == stale.version else None
    )
    assert second is None


def _marked(alert: Alert) -> Alert:
    return replace(alert, delivery=Delivery.POSTING, token="t")


def _due_card(s: Scene) -> Alert:
    from tests.store.test_store_contract import alert

    assert s.store.save_poll([alert(delivery=Delivery.POST)], {})
    found = s.store.alert("mycluster", "no-stonith")
    assert found is not None
    return found


@dataclass
class HeldChannel(MemorySink):
    """A channel whose first post is in flight (Slack slow to answer) until released."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, alert: Alert) -> tuple[str, str]:
        if not self.arrived.is_set():
            self.arrived.set()
            await self.release.wait()
        return await super().post(alert)


async def test_a_post_in_flight_when_the_lease_lapses_is_never_posted_again(
    tmp_path: Path,
) -> None:
    """a marks the card and posts; Slack is slow; a's lease lapses and b leads. b must not
    post the card a's post will still land: the mark is a's until its post can no longer
    land (POST_GRACE_S), then b looks for it by its token before posting anything."""
    sink = HeldChannel()
    s, a, b = two_replicas(tmp_path, sink)
    interval = s.config.clusters["mycluster"].alerts.interval_s
    feed(s, nodo1=NO_STONITH)
    in_flight = asyncio.create_task(a.poll("mycluster"))
    await asyncio.wait_for(sink.arrived.wait(), 10)
    s.clock.now += interval * LEASE_INTERVALS + 1  # a's lease lapses; b takes it
    feed(s)
    assert await b.lead("mycluster") is not None
    assert sink.posts == []  # b left a's card alone
    sink.release.set()
    await in_flight  # a's post lands
    assert [p.key for p in sink.posts] == ["no-stonith"]
    s.clock.now += POST_GRACE_S + interval
    feed(s)
    await b.lead("mycluster")
    assert [p.key for p in sink.posts] == ["no-stonith"]  # still once


async def test_a_post_cut_short_by_a_dead_leader_is_looked_for_then_posted_once(
    tmp_path: Path,
) -> None:
    """The false friend: a leader that died mid-post leaves the mark; after the grace the
    next leader looks for the card by its token, and posts it when it is not there."""
    sink = MemorySink()
    s, _, b = two_replicas(tmp_path, sink)
    card = _due_card(s)
    s.store.change_alert("mycluster", card.key, lambda x: posting(x, "t0", s.clock.now))
    assert (await b.deliver("mycluster")).posted == []  # within the grace: a's still
    s.clock.now += POST_GRACE_S + 1
    assert (await b.deliver("mycluster")).posted == ["no-stonith"]
    assert [p.token for p in sink.posts] == ["t0"]


async def test_a_replica_full_of_clusters_leaves_the_rest_to_another(tmp_path: Path) -> None:
    """HABOT_MAX_CLUSTERS: each replica leads at most so many clusters and leaves the other
    leases alone; when one stops, another takes up what it can, up to its own bound."""
    db = tmp_path / "habot.sqlite3"
    s = scene(db)
    config = s.ops.cluster("mycluster").config
    names = ("c1", "c2", "c3", "c4")
    ops = Ops({n: ClusterHandle(n, config, s.transport) for n in names})
    a = Poller(ops, s.store, CATALOGUE, MemorySink(), clock=s.clock, replica="a", max_clusters=2)
    b = Poller(ops, Store(db), CATALOGUE, MemorySink(), clock=s.clock, replica="b", max_clusters=3)
    for replica in (a, b):
        for name in names:
            await replica.lead(name)
    assert [n for n in names if a.leads(n)] == ["c1", "c2"]
    assert [n for n in names if b.leads(n)] == ["c3", "c4"]
    await a.resign()
    for name in names:
        await b.lead(name)
    assert [n for n in names if b.leads(n)] == ["c1", "c3", "c4"]  # c2 waits for a replica
