"""Every log a node has, and no silent source: on the scripted transport, with the real
poller (syslog files, several files per node, a journal that is not JSON, a missing file)."""

from __future__ import annotations

from pathlib import Path

from habot.alerts.lifecycle import State
from habot.alerts.logline import LogLine
from habot.alerts.sources import CATCH_UP_READS, JournalSource, read_argv, stat_argv
from tests.alerts.test_delivery import CATALOGUE, MemorySink, cluster, feed, poller
from tests.fakes.cluster import Scene, journal, scene, watching

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


def files_say(s: Scene, node: str, contents: dict[str, bytes]) -> None:
    """A first poll of every configured file: `stat`, then `dd` of what it holds."""
    for path, data in contents.items():
        stat = f"{path} 1234 {len(data)}\n".encode()
        s.transport.expect(node, stat_argv(path), stdout=stat)
        if data:
            s.transport.expect(node, read_argv(path, 0, len(data)), stdout=data)


LAB = Path(__file__).parents[1] / "fixtures" / "logs"
PACEMAKER_LOG = "/var/log/pacemaker/pacemaker.log"
COROSYNC_LOG = "/var/log/corosync/corosync.log"


async def test_corosyncs_own_log_file_is_read_too() -> None:
    """A crash's knet link-down is only in corosync's log; pacemaker.log alone misses it."""
    s = scene(
        capture="lab_after_crash_nodo2.xml",
        alerts={"sources": ["file"], "log_files": [PACEMAKER_LOG, COROSYNC_LOG]},
    )
    sink = MemorySink()
    watching(s, f"file:{PACEMAKER_LOG}", f"file:{COROSYNC_LOG}")
    crash = LAB / "lab_crash_vs_stop"
    files_say(
        s,
        "nodo1",
        {
            PACEMAKER_LOG: b"",
            COROSYNC_LOG: (crash / "nodo1_corosync.log").read_bytes(),
        },
    )
    files_say(s, "nodo2", {PACEMAKER_LOG: b"", COROSYNC_LOG: b""})
    report = await poller(s, sink).poll("mycluster")
    assert "corosync-link-down:nodo1:2" in report.posted
    assert s.store.get(f"cursor|mycluster|nodo1|file:{COROSYNC_LOG}") is not None
    s.transport.assert_done()


async def test_an_agents_own_line_in_pacemaker_log_names_its_resource() -> None:
    s = scene(capture="lab_dlm_failed_without_fencing.xml", alerts={"sources": ["file"]})
    sink = MemorySink()
    data = (LAB / "lab_dlm_without_fencing" / "nodo2_pacemaker.log").read_bytes()
    agent_only = b"\n".join(ln for ln in data.splitlines() if b"controld(dlm)[" in ln) + b"\n"
    files_say(s, "nodo1", {PACEMAKER_LOG: b""})
    files_say(s, "nodo2", {PACEMAKER_LOG: agent_only})
    report = await poller(s, sink).poll("mycluster")
    assert "dlm-needs-fencing" in report.posted
    assert sink.posts[0].field_map["resource"] == "dlm-clone"


async def test_a_missing_log_file_is_said() -> None:
    s = scene(
        capture="lab_seed_no_stonith.xml", alerts={"sources": ["file"], "unreachable_after": 1}
    )
    for node in ("nodo1", "nodo2"):
        s.transport.expect(
            node,
            stat_argv(PACEMAKER_LOG),
            rc=1,
            stderr=f"habot-node: {PACEMAKER_LOG}: No such file or directory\n".encode(),
        )
    report = await poller(s, MemorySink()).poll("mycluster")
    assert f"source-unreadable:nodo1:{PACEMAKER_LOG}" in report.posted


async def corosync_log_only(case: str, capture: str) -> list[str]:
    """A deployment that reads only corosync.log: one poll of both nodes' real captures."""
    s = scene(capture=capture, alerts={"sources": ["file"], "log_files": [COROSYNC_LOG]})
    watching(s, f"file:{COROSYNC_LOG}")
    for node in ("nodo1", "nodo2"):
        files_say(s, node, {COROSYNC_LOG: (LAB / case / f"{node}_corosync.log").read_bytes()})
    report = await poller(s, MemorySink()).poll("mycluster")
    s.transport.assert_done()
    return list(report.posted)


async def test_a_lost_node_that_only_corosync_log_reports_is_a_card() -> None:
    """`habot lab crash nodo2`: corosync's "Failed to receive the leave message" names it."""
    posted = await corosync_log_only("lab_crash_vs_stop", "lab_after_crash_nodo2.xml")
    assert "corosync-lost:2" in posted


async def test_a_clean_stop_in_corosync_log_loses_no_node() -> None:
    """The false friend: `pcs cluster stop nodo1` (members left, link down) sends its leave
    message, so no lost-node card (its link-down is the planned-stop rule's to quiet)."""
    posted = await corosync_log_only("lab_planned_stop", "lab_nodo1_stopped.xml")
    assert not [k for k in posted if k.startswith("corosync-lost")]


def test_the_lost_node_card_names_the_node() -> None:
    found = CATALOGUE.match(
        LogLine(
            "nodo1", "corosync", "notice", "[TOTEM ] Failed to receive the leave message. failed: 2"
        )
    )
    assert found is not None
    assert (found.rule.id, found.fields["peer"]) == ("corosync-lost-node", "2")


def flood(node: str, first: int, count: int) -> bytes:
    """`logger -t pacemaker-controld` lines by a user would never be selected; what fills a
    batch here is a real daemon that logs a lot."""
    return journal(node, [("pacemaker-controld", "info: busy")] * count, first=first)


async def test_a_journal_with_more_than_a_batch_is_read_until_caught_up() -> None:
    s = scene_with()
    watching(s)
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    source = JournalSource()
    cursor, first = "s=0;i=0", 1
    for count in (source.batch, source.batch, 7):  # two full batches, then the rest
        s.transport.expect("nodo1", source.argv(cursor, since), stdout=flood("nodo1", first, count))
        first += count
        cursor = f"s=1;i={first - 1}"
    s.transport.expect("nodo2", source.argv("s=0;i=0", since), stdout=b"")
    report = await poller(s, MemorySink()).poll("mycluster")
    assert report.lines == 2 * source.batch + 7  # all of it in one poll
    assert not [k for k in report.posted if k.startswith("source-behind")]
    assert s.store.get("cursor|mycluster|nodo1|journal") == cursor
    s.transport.assert_done()


async def test_a_journal_still_full_after_the_catch_up_reads_is_a_backlog_alert() -> None:
    s = scene_with()
    watching(s)
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    source = JournalSource()
    cursor, first = "s=0;i=0", 1
    for _ in range(CATCH_UP_READS):
        s.transport.expect(
            "nodo1", source.argv(cursor, since), stdout=flood("nodo1", first, source.batch)
        )
        first += source.batch
        cursor = f"s=1;i={first - 1}"
    s.transport.expect("nodo2", source.argv("s=0;i=0", since), stdout=b"")
    report = await poller(s, MemorySink()).poll("mycluster")
    assert "source-behind:nodo1:journal" in report.posted
    assert s.store.get("cursor|mycluster|nodo1|journal") == cursor  # what was read is kept
    s.transport.assert_done()


async def test_a_planned_stop_read_from_two_files_is_quiet_in_time_order() -> None:
    """`pcs cluster stop nodo1` and, 17 s later, its return — read from pacemaker.log and
    corosync.log in one poll. File by file, nodo2's "link down" (corosync.log, 11:44:09)
    comes after nodo1's return (pacemaker.log, 11:44:21); by the lines' own times it comes
    between the clean stop and the return: quiet, as the journal is."""
    case = LAB / "lab_planned_stop_and_return"
    s = scene(
        capture="lab_seed_fenced.xml",
        alerts={"sources": ["file"], "log_files": [PACEMAKER_LOG, COROSYNC_LOG]},
    )
    watching(s, f"file:{PACEMAKER_LOG}", f"file:{COROSYNC_LOG}")
    for node in ("nodo1", "nodo2"):  # both files read at once: answers in any order
        for path, name in ((PACEMAKER_LOG, "pacemaker.log"), (COROSYNC_LOG, "corosync.log")):
            data = (case / f"{node}_{name}").read_bytes()
            stat = stat_argv(path)
            s.transport.answer(node, stat, stdout=f"{path} 1234 {len(data)}\n".encode())
            s.transport.answer(node, read_argv(path, 0, len(data)), stdout=data)
    corosync = (case / "nodo2_corosync.log").read_text()
    assert "link: host: 1 link: 0 is down" in corosync  # what used to raise a card
    report = await poller(s, MemorySink()).poll("mycluster")
    assert report.lines > 1000
    assert not [k for k in report.posted if k.startswith(("corosync-link-down", "node-lost"))]


AGENT_FILE = "/var/log/pacemaker/habot-events.jsonl"
AGENT_FAILED = (
    b'{"kind":"resource","node":"nodo1","rsc":"WebSite","task":"monitor","interval":"10000",'
    b'"rc":"7","target_rc":"0","status":"0","desc":"not running","host":"nodo1"}\n'
)
HOSTILE = [
    b"[" * 50_000 + b"]" * 50_000 + b"\n",  # nested past Python's recursion limit
    b'{"kind":"resource","rsc":"Web\\udcffSite","task":"stop","interval":"0","rc":"1",'
    b'"target_rc":"0","status":"0","desc":"error","host":"nodo1"}\n',  # the old agent's
    b'{"kind":["node"],"node":"nodo2","desc":"lost"}\n',
]


async def test_one_bad_record_never_silences_a_cluster() -> None:
    """Each record is read on its own: the deep one and the strange one are skipped and said
    (one card), the good one after them is a card, the other node's journal is read, and the
    cursor moves on, so the next poll is a poll like any other."""
    s = scene(capture="lab_seed_fenced.xml", alerts={"sources": ["journal", "agent"]})
    watching(s, "journal", f"agent:{AGENT_FILE}")
    sink = MemorySink()
    data = b"".join(HOSTILE) + AGENT_FAILED
    feed(s, nodo2=[("pacemaker-fenced", "error: Too many failures (10) to fence nodo1, giving up")])
    s.store.put(f"cursor|mycluster|nodo1|agent:{AGENT_FILE}", "1234:0")
    s.transport.expect(
        "nodo1", stat_argv(AGENT_FILE), stdout=f"{AGENT_FILE} 1234 {len(data)}\n".encode()
    )
    s.transport.expect("nodo1", read_argv(AGENT_FILE, 0, len(data)), stdout=data)
    s.transport.expect("nodo2", stat_argv(AGENT_FILE), stdout=f"{AGENT_FILE} 99 0\n".encode())
    p = poller(s, sink)
    report = await p.poll("mycluster")
    assert "resource-failed:WebSite" in " ".join(report.posted)
    assert f"source-skipped:nodo1:agent:{AGENT_FILE}" in report.posted
    skipped = s.store.alert("mycluster", f"source-skipped:nodo1:agent:{AGENT_FILE}")
    assert skipped is not None
    assert "2 unreadable records skipped" in skipped.title
    assert any(k.startswith("fencing-failed") for k in report.posted)
    assert s.store.get(f"cursor|mycluster|nodo1|agent:{AGENT_FILE}") == f"1234:{len(data)}"
    for alert in sink.posts:
        alert.title.encode("utf-8")  # every card's text encodable (no lone surrogate)
    s.transport.assert_done()
    # the next poll reads on, skips nothing, and the skipped card resolves
    s.clock.now += 30
    feed(s)
    s.transport.expect(
        "nodo1", stat_argv(AGENT_FILE), stdout=f"{AGENT_FILE} 1234 {len(data)}\n".encode()
    )
    s.transport.expect("nodo2", stat_argv(AGENT_FILE), stdout=f"{AGENT_FILE} 99 0\n".encode())
    await p.poll("mycluster")
    resolved = s.store.alert("mycluster", f"source-skipped:nodo1:agent:{AGENT_FILE}")
    assert resolved is not None
    assert resolved.state is State.RESOLVED
    s.transport.assert_done()


async def test_a_file_rotated_twice_between_reads_is_a_gap_said() -> None:
    s = scene(capture="lab_seed_fenced.xml", alerts={"sources": ["agent"]})
    s.store.put(f"cursor|mycluster|nodo1|agent:{AGENT_FILE}", "77:500")
    s.store.put(f"cursor|mycluster|nodo2|agent:{AGENT_FILE}", "99:0")
    stats = f"{AGENT_FILE} 80 {len(AGENT_FAILED)}\n{AGENT_FILE}.1 79 4000\n".encode()
    s.transport.expect("nodo1", stat_argv(AGENT_FILE), stdout=stats)
    s.transport.expect("nodo1", read_argv(AGENT_FILE, 0, len(AGENT_FAILED)), stdout=AGENT_FAILED)
    s.transport.expect("nodo2", stat_argv(AGENT_FILE), stdout=f"{AGENT_FILE} 99 0\n".encode())
    report = await poller(s, MemorySink()).poll("mycluster")
    assert f"source-skipped:nodo1:agent:{AGENT_FILE}" in report.posted
    gap = s.store.alert("mycluster", f"source-skipped:nodo1:agent:{AGENT_FILE}")
    assert gap is not None
    assert "rotated more than once" in gap.title
    s.transport.assert_done()
