"""Alert cards that tell the truth, on the real journals of `habot lab crash nodo2` through the
real poller: never resolved on a status the cluster read before it could have noticed the
event (by its own clock); the first poll's history summarised, not posted as news; each card
says since when, for how long, and when it was last seen."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from habot.alerts.lifecycle import HISTORY_RULE, Alert, State
from habot.alerts.sources import JournalSource
from habot.cluster.live import STATUS
from habot.service import describe
from habot.slack import alert_blocks
from tests.alerts.test_delivery import MemorySink, feed, poller
from tests.fakes.cluster import CRM_MON, Scene, scene, status_output, watching

CRASH = Path(__file__).parents[1] / "fixtures" / "logs" / "lab_crash_vs_stop"
LINK_DOWN = 1796143070.728935  # nodo1's corosync: "link: host: 2 link: 0 is down"


def crash_journal(until: float) -> bytes:
    """nodo1's real journal of the crash, up to `until` (its own clock)."""
    kept = [
        line
        for line in (CRASH / "nodo1_journal.json").read_text().splitlines()
        if int(json.loads(line)["__REALTIME_TIMESTAMP"]) / 1e6 <= until
    ]
    return ("\n".join(kept) + "\n").encode()


def status_read(s: Scene, capture: str, read_at: float) -> None:
    s.transport.standing.clear()
    crm_mon = (CRM_MON / capture).read_bytes()
    s.transport.answer(None, STATUS, stdout=status_output(crm_mon, read_at=read_at))


def expect_journal(s: Scene, nodo1: bytes) -> None:
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    for node, out in (("nodo1", nodo1), ("nodo2", b"")):
        cursor = s.store.get(f"cursor|mycluster|{node}|journal")
        s.transport.expect(node, JournalSource().argv(cursor, since), stdout=out)


async def test_a_status_read_before_the_cluster_noticed_resolves_nothing() -> None:
    """0.7 s after the link went down, crm_mon still shows both nodes online (Pacemaker
    learns of the loss seconds later): the cards stay active — never "resolved" while nodo2
    is powered off. Read long enough after the newest line, both online again: resolved."""
    s, sink = scene(capture="lab_seed_fenced.xml"), MemorySink()
    watching(s)
    p = poller(s, sink)
    status_read(s, "lab_seed_fenced.xml", read_at=LINK_DOWN + 0.7)  # both nodes online
    expect_journal(s, crash_journal(until=LINK_DOWN + 0.6))  # link down, token lost
    report = await p.poll("mycluster")
    assert {"corosync-link-down:nodo1:2", "token-loss:nodo1"} <= set(report.posted)
    assert all(a.state is State.OPEN for a in sink.posts), [a.title for a in sink.posts]
    assert not [u for u in sink.updates if u.state is State.RESOLVED]
    # 20 s later, still within the time the cluster needs: nothing resolves yet
    status_read(s, "lab_seed_fenced.xml", read_at=LINK_DOWN + 20)
    s.clock.now += 20
    feed(s)
    await p.poll("mycluster")
    link = s.store.alert("mycluster", "corosync-link-down:nodo1:2")
    assert link is not None
    assert link.state is State.OPEN
    # nodo2 back, read 40 s after the newest line: resolved
    status_read(s, "lab_seed_fenced.xml", read_at=LINK_DOWN + 40)
    s.clock.now += 20
    feed(s)
    await p.poll("mycluster")
    link = s.store.alert("mycluster", "corosync-link-down:nodo1:2")
    assert link is not None
    assert link.state is State.RESOLVED
    s.transport.assert_done()


async def test_the_first_polls_history_is_one_summary_not_news() -> None:
    """A new install reads the lookback: the crash an hour ago, over now (both nodes online,
    nodo2 fenced and back). One summary card with each problem's times; no card of its own
    for any of them, and none posted as resolved."""
    s, sink = scene(capture="lab_after_crash_nodo2.xml"), MemorySink()
    p = poller(s, sink)
    status_read(s, "lab_after_crash_nodo2.xml", read_at=s.clock.now)
    expect_journal(s, (CRASH / "nodo1_journal.json").read_bytes())
    report = await p.poll("mycluster")
    assert report.posted == (f"{HISTORY_RULE}:{int(s.clock.now)}",)
    (summary,) = sink.posts
    assert summary.title.startswith("Before habot watched mycluster: ")
    assert any("nodo2 left the cluster" in line for line in summary.lines)
    assert any(line.startswith("2026-12-01 16:37:") for line in summary.lines)
    past = s.store.alerts("mycluster", active_only=False)
    kept = [a for a in past if a.rule != HISTORY_RULE]
    assert kept  # each condition is kept (resolved), so a later line updates no old card
    assert all(a.state is State.RESOLVED and not a.message_ts for a in kept)
    assert s.store.alerts_to_deliver("mycluster", s.clock.now + 10_000) == []
    # the next poll finds nothing new: nothing more is posted
    feed(s)
    assert (await p.poll("mycluster")).posted == ()


async def test_a_first_poll_still_cards_what_is_still_wrong() -> None:
    """The false friend of the summary: the missing-STONITH error of the lookback still holds
    now, so it is a card of its own, not history."""
    s, sink = scene(capture="lab_seed_no_stonith.xml"), MemorySink()
    p = poller(s, sink)
    status_read(s, "lab_seed_no_stonith.xml", read_at=s.clock.now)
    nodo1 = "\n".join(
        json.dumps(
            {
                "__CURSOR": f"s=1;i={i}",
                "__REALTIME_TIMESTAMP": str(int((s.clock.now - 600) * 1e6) + i),
                "SYSLOG_IDENTIFIER": "pacemaker-schedulerd",
                "PRIORITY": "3",
                "MESSAGE": "error: Resource start-up disabled since no STONITH resources "
                "have been defined",
            }
        )
        for i in range(1, 3)
    )
    expect_journal(s, nodo1.encode() + b"\n")
    report = await p.poll("mycluster")
    assert "no-stonith" in report.posted
    assert not [k for k in report.posted if k.startswith(HISTORY_RULE)]


def test_a_card_says_since_when_for_how_long_and_when_last_seen() -> None:
    alert = Alert(
        key="node-lost:nodo2",
        cluster="mycluster",
        rule="node-lost",
        severity="high",
        title="nodo2 left the cluster",
        node="nodo1",
        fields=(("node", "nodo2"),),
        first_seen=1796143100.0,
        last_seen=1796143400.0,
        count=8,
        line_first=1796143075.0,
        line_last=1796143082.0,
    )
    shown = describe.lasted(alert)
    assert shown.startswith("since 2026-12-01 16:37:55 UTC (5 min so far)")
    assert "last seen 2026-12-01 16:38:02 UTC" in shown
    assert "times" not in alert_blocks.text(alert)
    assert "for 5 min, last seen 2026-12-01 16:38:02 UTC" in alert_blocks.text(alert)
    over = describe.lasted(replace(alert, state=State.RESOLVED))
    assert over.startswith("lasted 7 s, from 2026-12-01 16:37:55 UTC")
