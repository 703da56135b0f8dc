"""Journal JSON and log-file lines, garbage included (pure)."""

from __future__ import annotations

import json

from habot.alerts.logline import MAX_MESSAGE, parse_file_line, parse_journal
from habot.alerts.sources import FileCursor, JournalSource, Plan, Read, plan_reads


def record(**fields: object) -> bytes:
    base = {
        "__CURSOR": "s=1;i=1",
        "__REALTIME_TIMESTAMP": "1795595295773308",
        "SYSLOG_IDENTIFIER": "pacemaker-schedulerd",
        "PRIORITY": "3",
    }
    return json.dumps({**base, **fields}).encode()


def test_journal_records_binary_null_and_garbage() -> None:
    text = " error: Resource start-up disabled since no STONITH resources have been defined"
    output = b"\n".join(
        [
            record(MESSAGE=text),
            record(MESSAGE=list(b"binary \x01\x02 message"), __CURSOR="s=1;i=2"),
            record(MESSAGE=None, __CURSOR="s=1;i=3"),
            b"not json at all {",
            b"[1, 2, 3]",
            record(
                MESSAGE="kernel: gfs2: fsid=x: File system withdrawn",
                _TRANSPORT="kernel",
                __CURSOR="s=1;i=4",
            ),
        ]
    )
    batch = parse_journal("nodo1", output)
    assert batch.cursor == "s=1;i=4"
    assert batch.skipped == 2
    first, binary, kernel = batch.lines
    assert (first.level, first.text) == ("error", text.strip().removeprefix("error: "))
    assert first.at > 1.7e9
    assert binary.text.startswith("binary \x01\x02")
    assert kernel.identifier == "kernel"


def test_file_lines() -> None:
    raw = (
        b"Nov 25 08:32:57.477 nodo1 pacemaker-schedulerd[6154] (unpack_resources) \terror: "
        b"Resource start-up disabled since no STONITH resources have been defined"
    )
    parsed = parse_file_line("nodo1", raw)
    assert parsed is not None
    assert (parsed.identifier, parsed.level) == ("pacemaker-schedulerd", "error")
    assert parse_file_line("nodo1", b"   ") is None
    garbage = parse_file_line("nodo1", b"\xff\xfe\x00 random bytes")
    assert garbage is not None
    assert garbage.identifier == ""
    huge = parse_file_line("nodo1", b"x" * 1_000_000)
    assert huge is not None
    assert len(huge.text) == MAX_MESSAGE


def test_journal_reads_are_habot_nodes_own_verb() -> None:
    """The selection is habot-node's own (see tests/node/test_helper.py): habot names only
    where to start."""
    source = JournalSource(identifiers=("corosync",), batch=10)
    assert source.argv(None, 1000.0) == ("habot-node", "journal", "--since=@1000")
    assert source.argv("s=1;i=4", 1000.0) == (
        "habot-node",
        "journal",
        "--after-cursor=s=1;i=4",
        "--lines=10",
    )
    assert source.follow_argv(None) == ("habot-node", "journal", "--follow", "--lines=0")
    assert source.follow_argv("s=1") == ("habot-node", "journal", "--follow", "--after-cursor=s=1")


def test_file_reads_follow_rotation_and_truncation() -> None:
    path = "/var/log/pacemaker/pacemaker.log"
    stats = {path: (20, 300)}
    assert plan_reads(path, None, stats, 1000) == Plan((Read(path, 20, 0, 300),))
    assert plan_reads(path, None, stats, 100) == Plan((Read(path, 20, 200, 100),))
    assert plan_reads(path, FileCursor(20, 120), stats, 100) == Plan((Read(path, 20, 120, 180),))
    assert plan_reads(path, FileCursor(20, 500), stats, 100) == Plan((Read(path, 20, 0, 300),))
    rotated = {path: (21, 50), f"{path}.1": (20, 400)}
    assert plan_reads(path, FileCursor(20, 300), rotated, 100) == Plan(
        (Read(f"{path}.1", 20, 300, 100), Read(path, 21, 0, 50))
    )
    assert plan_reads(path, FileCursor(20, 300), {}, 100) == Plan(())


def test_a_cursor_in_the_second_rotation_reads_both_to_their_end() -> None:
    path = "/var/log/pacemaker/habot-events.jsonl"
    stats = {path: (22, 10), f"{path}.1": (21, 400), f"{path}.2": (20, 500)}
    assert plan_reads(path, FileCursor(20, 300), stats, 100) == Plan(
        (Read(f"{path}.2", 20, 300, 200), Read(f"{path}.1", 21, 0, 400), Read(path, 22, 0, 10))
    )


def test_a_file_rotated_away_before_habot_read_it_is_a_gap_said() -> None:
    path = "/var/log/pacemaker/habot-events.jsonl"
    rotated = {path: (21, 50), f"{path}.1": (20, 400)}
    assert plan_reads(path, FileCursor(19, 300), rotated, 100) == Plan(
        (Read(path, 21, 0, 50),), gap=True
    )
