"""Real journal JSON captured on the lab (tests/fixtures/logs/*/NOTES.txt says how), through
the real poller on the scripted transport: the cards a team would get, and no others."""

from __future__ import annotations

import json
from pathlib import Path

from habot.alerts.lifecycle import State
from habot.alerts.sources import JournalSource
from habot.cluster.live import STATUS
from habot.service.alert_poller import Poller
from tests.alerts.test_delivery import MemorySink, feed, poller
from tests.fakes.cluster import CRM_MON, Scene, scene, status_output, watching

LOGS = Path(__file__).parents[1] / "fixtures" / "logs"


def journals(
    s: Scene,
    case: str,
    extra: dict[str, list[dict[str, str]]] | None = None,
    *,
    first: bool = False,
) -> None:
    """The capture as the next poll's journal; habot was watching already unless `first`."""
    if not first:
        watching(s)
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    for node in ("nodo1", "nodo2"):
        out = (LOGS / case / f"{node}_journal.json").read_bytes()
        out += b"".join(json.dumps(r).encode() + b"\n" for r in (extra or {}).get(node, []))
        cursor = s.store.get(f"cursor|mycluster|{node}|journal")
        s.transport.expect(node, JournalSource().argv(cursor, since), stdout=out)


async def test_the_dlm_without_fencing_is_one_card_naming_the_resource() -> None:
    s, sink = scene(capture="lab_dlm_failed_without_fencing.xml"), MemorySink()
    journals(s, "lab_dlm_without_fencing")
    report = await poller(s, sink).poll("mycluster")
    assert sorted(report.posted) == [
        "dlm-needs-fencing",
        "migration-threshold:dlm-clone",
        "no-stonith",
    ]
    titles = {a.key: a.title for a in sink.posts}
    assert titles["dlm-needs-fencing"] == "The DLM (dlm-clone) refuses to run without fencing"
    dlm = next(a for a in sink.posts if a.key == "dlm-needs-fencing")
    assert dlm.field_map["resource"] == "dlm-clone"
    assert dlm.count == 35  # the agent's, the controller's and the scheduler's lines: one card
    s.transport.assert_done()


async def test_the_agents_own_journal_lines_are_read() -> None:
    """Only the agent's line says it: the daemons' lines are taken out of the same journal."""
    s, sink = scene(capture="lab_dlm_failed_without_fencing.xml"), MemorySink()
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    for node in ("nodo1", "nodo2"):
        records = [
            r
            for r in (LOGS / "lab_dlm_without_fencing" / f"{node}_journal.json")
            .read_text()
            .splitlines()
            if '"SYSLOG_IDENTIFIER":"controld(dlm)"' in r
        ]
        out = ("\n".join(records) + "\n").encode() if records else b""
        s.transport.expect(node, JournalSource().argv(None, since), stdout=out)
    report = await poller(s, sink).poll("mycluster")
    assert report.posted == ("dlm-needs-fencing",)
    assert sink.posts[0].field_map["agent"] == "controld"


async def test_other_daemons_on_the_daemon_facility_are_left_out() -> None:
    """The false friend: any daemon may log "... state is now lost"; only pacemaker's own
    programs, the kernel and resource agents are read."""
    s, sink = scene(capture="lab_seed_no_stonith.xml"), MemorySink()
    impostor = {
        "__CURSOR": "s=9;i=1",
        "__REALTIME_TIMESTAMP": "1796142868637435",
        "SYSLOG_IDENTIFIER": "some-daemon",
        "SYSLOG_FACILITY": "3",
        "_TRANSPORT": "syslog",
        "PRIORITY": "3",
        "MESSAGE": "Node nodo2 state is now lost",
    }
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    for node in ("nodo1", "nodo2"):
        s.transport.expect(
            node, JournalSource().argv(None, since), stdout=json.dumps(impostor).encode() + b"\n"
        )
    report = await poller(s, sink).poll("mycluster")
    assert not [k for k in report.posted if k.startswith("node-lost")]
    assert report.lines == 0


async def test_a_planned_stop_raises_no_card() -> None:
    """`pcs cluster stop` on nodo1 (real journals of both nodes): nodo2 logs nodo1 lost and
    its knet link down, after nodo1's shutdown was requested — a planned stop, no card."""
    s, sink = scene(capture="lab_nodo1_stopped.xml"), MemorySink()
    journals(s, "lab_planned_stop")
    report = await poller(s, sink).poll("mycluster")
    assert report.lines > 100
    assert report.posted == ()
    lines = (LOGS / "lab_planned_stop" / "nodo2_journal.json").read_text()
    assert "state is now lost" in lines
    assert "link: host: 1 link: 0 is down" in lines  # what used to raise a card


async def test_a_link_down_a_poll_after_the_clean_stop_is_still_quiet() -> None:
    s, sink = scene(capture="lab_nodo1_stopped.xml"), MemorySink()
    p = poller(s, sink)
    stop = [("pacemaker-attrd", "notice: Setting shutdown[nodo1]: (unset) -> 1796143021")]
    down = [("corosync", "  [KNET  ] link: host: 1 link: 0 is down")]
    feed(s, nodo2=stop)
    assert (await p.poll("mycluster")).posted == ()
    s.clock.now += 30
    feed(s, nodo2=down)
    assert (await p.poll("mycluster")).posted == ()
    s.clock.now += 600  # long after the stop: a link that goes down is news again
    feed(s, nodo2=down)
    assert (await p.poll("mycluster")).posted == ("corosync-link-down:nodo2:1",)
    assert sink.posts[0].title == ("A corosync link to nodo1, node id 1, is down (seen from nodo2)")


async def test_a_link_down_without_a_stop_is_a_card() -> None:
    """The false friend of the quiet rule: the same line, no clean stop before it."""
    s, sink = scene(capture="lab_nodo1_stopped.xml"), MemorySink()
    feed(s, nodo2=[("corosync", "  [KNET  ] link: host: 1 link: 0 is down")])
    report = await poller(s, sink).poll("mycluster")
    assert report.posted == ("corosync-link-down:nodo2:1",)


async def test_a_crash_is_not_a_planned_stop() -> None:
    """The contrast (real journals of `habot lab crash nodo2`): no clean stop, so the lost
    node and its link are cards, and the fencing names its device."""
    s, sink = scene(capture="lab_after_crash_nodo2.xml"), MemorySink()
    journals(s, "lab_crash_vs_stop")
    report = await poller(s, sink).poll("mycluster")
    assert {"corosync-link-down:nodo1:2", "node-lost:nodo2", "node-fenced:nodo2"} <= set(
        report.posted
    )
    titles = {a.key: a.title for a in sink.posts}
    assert titles["node-fenced:nodo2"] == "nodo2 was fenced (reboot) with fencing-libvirt"
    assert titles["corosync-link-down:nodo1:2"] == (
        "A corosync link to nodo2, node id 2, is down (seen from nodo1)"
    )


async def test_multiply_active_names_the_nodes_and_resolves_when_one_is_left() -> None:
    s, sink = scene(capture="lab_VirtualIP_active_on_2_nodes.xml"), MemorySink()
    p = poller(s, sink)
    journals(s, "lab_multiply_active")
    report = await p.poll("mycluster")
    assert report.posted == ("multiply-active:VirtualIP",)
    assert sink.posts[0].title == "VirtualIP is active on more than one node: nodo1, nodo2"
    # the cluster recovered: VirtualIP on one node — but the capture was read 0.7 s before
    # the newest line: too early to judge (the cluster may not have noticed yet)
    recovered = "lab_VirtualIP_recovered.xml"
    key = "multiply-active:VirtualIP"
    assert await state_after(s, p, recovered, key, as_captured=True) is State.OPEN
    # the same state read later: resolved
    assert await state_after(s, p, recovered, key) is State.RESOLVED


async def test_a_failed_fencing_names_its_device_until_the_history_is_clean() -> None:
    s, sink = scene(capture="lab_after_failed_fence.xml"), MemorySink()
    p = poller(s, sink)
    journals(s, "lab_fencing_failed")
    report = await p.poll("mycluster")
    assert report.posted == ("fencing-failed:nodo2",)
    assert sink.posts[0].title == "Fencing of nodo2 failed (device fencing-wrong)"
    alert = s.store.alert("mycluster", "fencing-failed:nodo2")
    assert alert is not None
    assert alert.state is State.OPEN  # nodo2 is online, yet its fencing is still broken
    # `stonith_admin --history nodo2 --cleanup`: no failed fencing in the history any more
    assert await state_after(s, p, "lab_VirtualIP_recovered.xml", "fencing-failed:nodo2") is (
        State.RESOLVED
    )


async def state_after(
    s: Scene, p: Poller, capture: str, key: str, *, as_captured: bool = False
) -> State:
    """The alert's state after one more poll, the cluster now as `capture` shows it — read
    now, or (`as_captured`) at the moment it was captured."""
    s.transport.standing.clear()
    crm_mon = (CRM_MON / capture).read_bytes()
    read_at = None if as_captured else s.clock.now + 30
    s.transport.answer(None, STATUS, stdout=status_output(crm_mon, read_at=read_at))
    s.clock.now += 30
    feed(s)
    await p.poll("mycluster")
    alert = s.store.alert("mycluster", key)
    assert alert is not None
    return alert.state
