"""Episodes through the real poller (scripted transport, the lab's real crm_mon captures):
what a followed journal brings is carded at once; the node's return ends the episode; a
status read between polls resolves the card; a second loss is a new card that says it is
the second; the card that ended is told so. No poll runs after the first one."""

from __future__ import annotations

from habot.alerts.lifecycle import State
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import LiveStatus
from habot.service import describe
from habot.service.alert_poller import Poller
from tests.alerts.test_delivery import CATALOGUE, MemorySink, cluster, feed
from tests.fakes.cluster import CRM_MON, Scene, journal, status_output

LOST = [("pacemaker-controld", "notice: Node nodo2 state is now lost | nodeid=2")]
BACK = [("pacemaker-controld", "notice: Node nodo2 state is now member | nodeid=2")]


def status(capture: str, read_at: float) -> LiveStatus:
    """A crm_mon capture, as read at `read_at` (its "last updated")."""
    text = status_output((CRM_MON / capture).read_bytes(), read_at=read_at)
    crm_mon = text.split(b"\n--habot-section--\n")[0]
    return LiveStatus(parse_crm_mon(crm_mon), "nodo1", {})


async def push(p: Poller, s: Scene, messages: list[tuple[str, str]], first: int, at: float) -> None:
    raw = journal("nodo1", messages, first=first, at=at).splitlines()
    await p.push("mycluster", "nodo1", raw)


async def test_a_second_loss_is_a_new_card_and_each_ends_at_the_return() -> None:
    s, sink = cluster(), MemorySink()
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock)
    feed(s)
    await p.lead("mycluster")  # the first poll: this replica leads, nothing to say
    t0 = s.clock.now
    await push(p, s, LOST, 1, t0 + 1)  # the loss, from the stream: a card at once
    assert [a.key for a in sink.posts] == ["node-lost:nodo2"]
    await push(p, s, BACK, 2, t0 + 7)  # nodo2 back: the episode is over, the card says so
    ended = s.store.alert("mycluster", "node-lost:nodo2")
    assert ended is not None
    assert ended.active
    assert ended.ended_at == t0 + 7
    assert "ended" in describe.lasted(ended)
    assert sink.updates[-1].ended_at == t0 + 7
    # a status between polls, read 31 s after the loss, shows nodo2 online: resolved now
    s.clock.now = t0 + 32
    await p.judge_now("mycluster", status("lab_seed_fenced.xml", read_at=t0 + 32))
    resolved = s.store.alert("mycluster", "node-lost:nodo2")
    assert resolved is not None
    assert resolved.state is State.RESOLVED
    assert describe.lasted(resolved).startswith("lasted 6 s")
    # lost again: a new card (people are notified), the second in its window
    s.clock.now = t0 + 40
    await push(p, s, LOST, 3, t0 + 40)
    assert [a.key for a in sink.posts] == ["node-lost:nodo2", "node-lost:nodo2"]
    second = sink.posts[-1]
    assert second.episodes == (t0 + 1,)
    assert describe.recurrence(second).startswith("2nd time in 39 s")
    assert p.polls == 1  # all of it between polls


async def test_a_loss_before_the_first_ended_is_the_same_card() -> None:
    """The false friend: lines of one outage from both nodes, or a second "lost" line
    before the node is back, are the same episode — one card, counted."""
    s, sink = cluster(), MemorySink()
    p = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock)
    feed(s)
    await p.lead("mycluster")
    t0 = s.clock.now
    await push(p, s, LOST, 1, t0 + 1)
    await push(p, s, LOST, 2, t0 + 3)
    assert len(sink.posts) == 1
    alert = s.store.alert("mycluster", "node-lost:nodo2")
    assert alert is not None
    assert alert.count == 2
