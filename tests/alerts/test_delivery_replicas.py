"""Two replicas on one database, one Slack channel: only the holder of the polling lease
delivers cards, a card is marked "posting" by compare-and-set, and a delivery that outlives
its lease stops — so no card is posted twice."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from habot.alerts.lifecycle import Alert, Delivery
from habot.service.alert_poller import LEASE_INTERVALS, Poller
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
