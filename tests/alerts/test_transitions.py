"""What the cluster did, read from its own logs (real captures, Pacemaker 2.1.5): transitions
with their actions and how they ended, nodes leaving and joining — the same from the journal
and from pacemaker.log, each once, with the false friends a log is full of."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from habot.alerts.logline import FileTime, LogLine, parse_file_line, parse_journal
from habot.alerts.transitions import cluster_events

LOGS = Path(__file__).parents[1] / "fixtures" / "logs"
CRASH = LOGS / "lab_crash_vs_stop"
CRASH_TRANSITION = (
    "#1 (DC nodo1): Fence (reboot) nodo2 'peer is no longer part of the cluster', "
    "Move VirtualIP nodo2 -> nodo1, Move WebSite nodo2 -> nodo1, "
    "Stop WebData:0 Promoted nodo2 due to node availability, "
    "Promote WebData:1 Unpromoted -> Promoted nodo1, Move WebFS nodo2 -> nodo1 and 2 more"
    " — stopped, 2 skipped, 4 left undone"
)


def journal(capture: Path) -> list[LogLine]:
    lines: list[LogLine] = []
    for path in sorted(capture.glob("*_journal.json")):
        lines += parse_journal(path.name.split("_")[0], path.read_bytes()).lines
    return lines


def files(capture: Path, now: float) -> list[LogLine]:
    clock = FileTime(now, ZoneInfo("UTC"))
    lines: list[LogLine] = []
    for path in sorted(capture.glob("*_pacemaker.log")):
        node = path.name.split("_")[0]
        raw = path.read_bytes().splitlines()
        lines += [ln for r in raw if (ln := parse_file_line(node, r, clock)) is not None]
    return lines


def test_a_crash_from_the_journal_left_fenced_moved_and_back() -> None:
    events = cluster_events(journal(CRASH))
    assert [e.text for e in events] == [
        "nodo2 left the cluster (seen by nodo1)",
        "nodo2 joined the cluster (seen by nodo2)",  # once, though both nodes logged it
        CRASH_TRANSITION,
    ]
    assert [e.kind for e in events] == ["node", "node", "transition"]
    assert events == sorted(events, key=lambda e: e.at)


def test_the_same_crash_from_pacemaker_log_files() -> None:
    lines = journal(CRASH)
    now = max(ln.at for ln in lines) + 600
    from_files = cluster_events(files(CRASH, now))
    assert [e.text for e in from_files] == [e.text for e in cluster_events(lines)]
    for a, b in zip(from_files, cluster_events(lines), strict=True):
        assert abs(a.at - b.at) < 1  # the file's stamps, read in the nodes' zone


def test_a_planned_stop_moves_everything_then_the_node_leaves() -> None:
    texts = [e.text for e in cluster_events(journal(LOGS / "lab_planned_stop"))]
    assert texts[0].startswith("#19 (DC nodo1): Move VirtualIP nodo1 -> nodo2")
    assert texts[1] == (
        "#20 (DC nodo1): Start VirtualIP nodo2, Start WebSite nodo2, "
        "Promote WebData:0 Unpromoted -> Promoted nodo2, Start WebFS nodo2 — complete"
    )
    assert texts[2] == "nodo1 left the cluster (seen by nodo2)"


def line(node: str, ident: str, text: str, at: float) -> LogLine:
    return LogLine(node=node, identifier=ident, level="notice", text=text, at=at)


def test_false_friends_make_no_event() -> None:
    sched, ctl = "pacemaker-schedulerd", "pacemaker-controld"
    quiet = [
        # a user's look-alike under another name
        line("nodo1", "logger", "Actions: Move       VirtualIP     ( nodo1 -> nodo2 )", 10),
        line("nodo1", "logger", "Calculated transition 7, saving inputs in /x/pe-input-7.bz2", 11),
        line("nodo1", "logger", "Node nodo2 state is now lost | nodeid=2", 12),
        # every recheck calculates a transition with nothing to do
        line("nodo1", sched, "Calculated transition 8, saving inputs in /x/pe-input-8.bz2", 20),
        line(
            "nodo1",
            ctl,
            "Transition 8 (Complete=0, Pending=0, Fired=0, Skipped=0, "
            "Incomplete=0, Source=/x/pe-input-8.bz2): Complete",
            21,
        ),
        # a starting node meets its peers: they never left
        line("nodo2", ctl, "Node nodo2 state is now member | nodeid=2", 30),
        line("nodo2", ctl, "Node nodo1 state is now member | nodeid=1", 31),
        # the monitor the scheduler schedules is not an action of the transition
        line("nodo1", sched, "Start 10s-interval monitor for WebSite on nodo1", 40),
        # no time: not placed on a timeline
        line("nodo1", ctl, "Node nodo1 state is now lost", 0),
    ]
    assert [e.text for e in cluster_events(quiet)] == ["nodo2 joined the cluster (seen by nodo2)"]


def test_the_same_transition_read_twice_is_one_event_and_a_long_one_is_capped() -> None:
    sched = "pacemaker-schedulerd"
    actions = [
        line("nodo1", sched, f"Actions: Start      r{i}     ( nodo1 )", 100 + i) for i in range(9)
    ]
    done = line("nodo1", sched, "Calculated transition 3, saving inputs in /p/pe-input-3.bz2", 110)
    events = cluster_events([*actions, done, done])
    assert len(events) == 1
    assert events[0].text.endswith("Start r5 nodo1 and 3 more")
