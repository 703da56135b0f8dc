"""Every log a node has, and no silent source: on the scripted transport, with the real
poller (syslog files, several files per node, a journal that is not JSON, a missing file)."""

from __future__ import annotations

from habot.alerts.lifecycle import State
from habot.alerts.sources import JournalSource
from tests.alerts.test_delivery import CATALOGUE, MemorySink, cluster, feed, poller
from tests.fakes.cluster import Scene, scene

SYSLOG_TEXT = (
    b"Nov 25 00:47:28 nodo1 pacemaker-controld[9012]: notice: State transition S_IDLE\n"
    b"Nov 25 00:47:29 nodo1 pacemaker-controld[9012]: notice: Node nodo2 state is now lost\n"
)


def journal_says(s: Scene, node: str, stdout: bytes, rc: int = 0) -> None:
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    cursor = s.store.get(f"cursor|mycluster|{node}|journal")
    s.transport.expect(node, JournalSource().argv(cursor, since), stdout=stdout, rc=rc)


async def test_a_journal_that_is_not_json_becomes_an_alert_then_resolves() -> None:
    s, sink = cluster(), MemorySink()
    p = poller(s, sink)
    after = s.config.clusters["mycluster"].alerts.unreachable_after
    for n in range(after):
        journal_says(s, "nodo1", SYSLOG_TEXT)  # syslog text where JSON was expected
        feed_nodo2_nothing(s)
        report = await p.poll("mycluster")
        posted = [k for k in report.posted if k.startswith("source-unreadable")]
        assert posted == ([] if n < after - 1 else ["source-unreadable:nodo1:journal"])
        s.clock.now += 30
    alert = s.store.alert("mycluster", "source-unreadable:nodo1:journal")
    assert alert is not None
    assert alert.title == (
        "habot cannot read nodo1's journal: 2 records, none of them journal JSON "
        "(is this journalctl -o json?)"
    )
    feed(s)  # JSON again (nothing new)
    await p.poll("mycluster")
    resolved = s.store.alert("mycluster", "source-unreadable:nodo1:journal")
    assert resolved is not None
    assert resolved.state is State.RESOLVED
    s.transport.assert_done()


def feed_nodo2_nothing(s: Scene) -> None:
    journal_says(s, "nodo2", b"")


async def test_an_empty_poll_is_not_a_problem() -> None:
    """The false friend: a journal with nothing new says nothing, and that is fine."""
    s, sink = cluster(), MemorySink()
    p = poller(s, sink)
    for _ in range(4):
        feed(s)
        report = await p.poll("mycluster")
        assert not [k for k in report.posted if k.startswith("source-unreadable")]
        s.clock.now += 30


async def test_journalctl_failing_is_said() -> None:
    s, sink = scene_with(unreachable_after=1), MemorySink()
    journal_says(s, "nodo1", b"", rc=1)
    # rc 1 without a cursor is not the bad-cursor case: it is journalctl failing
    feed_nodo2_nothing(s)
    report = await poller(s, sink).poll("mycluster")
    assert "source-unreadable:nodo1:journal" in report.posted


def scene_with(**alerts: object) -> Scene:
    return scene(capture="lab_seed_no_stonith.xml", alerts=alerts)


def test_the_catalogue_has_the_rule() -> None:
    assert CATALOGUE.rule("source-unreadable") is not None
