"""habot's alert agent, end to end without a cluster: the agent itself run as Pacemaker runs
it (environment in, one JSON line out), and its records — real ones, written on the lab — read
back as the lines Pacemaker logs, matched by the same catalogue, each event once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from habot.alerts.agent_records import AGENT, RecordError, once, parse_record
from habot.alerts.logline import LogLine
from habot.alerts.rules import load_catalogue
from habot.node import alert_agent

AGENT_PY = Path(alert_agent.__file__)
RECORDS = Path(__file__).parents[1] / "fixtures" / "logs" / "lab_agent_records"
CATALOGUE = load_catalogue()


def lines_of(node: str) -> list[LogLine]:
    raw = (RECORDS / f"{node}_habot-events.jsonl").read_bytes().splitlines()
    return [ln for r in raw if (ln := parse_record(node, r)) is not None]


def run_agent(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HABOT_ALERT_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-I", str(AGENT_PY)],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_real_records_become_pacemakers_own_lines_and_their_alerts() -> None:
    nodo1 = lines_of("nodo1")
    assert [ln.text for ln in nodo1] == [
        "Result of asyncmon operation for WebSite on nodo1: error",  # crm_resource --fail
        "Node nodo2 state is now lost",
        "Peer nodo2 was terminated (reboot) by nodo1 on behalf of stonith_admin.23126@nodo1: OK",
        "Node nodo2 state is now member",
    ]  # successes ("ok") and cancellations are not events
    assert all(ln.identifier == AGENT and ln.at > 1.79e9 for ln in nodo1)
    keys = [m.key for ln in nodo1 if (m := CATALOGUE.match(ln)) is not None]
    assert keys[:3] == ["resource-failed:WebSite:nodo1", "node-lost:nodo2", "node-fenced:nodo2"]
    # nodo2, after its reboot, meets nodo1 again: a member event, no alert
    assert [ln.text for ln in lines_of("nodo2")] == ["Node nodo1 state is now member"]


def test_node_and_fencing_events_from_every_node_are_one_each() -> None:
    lost = [
        LogLine("nodo1", AGENT, "notice", "Node nodo3 state is now lost", 100.0),
        LogLine("nodo2", AGENT, "notice", "Node nodo3 state is now lost", 100.4),
        LogLine("nodo1", "pacemaker-controld", "notice", "Node nodo3 state is now lost", 100.1),
        LogLine("nodo2", AGENT, "notice", "Node nodo3 state is now lost", 500.0),  # again, later
        LogLine("nodo1", AGENT, "notice", "Result of stop operation for A on nodo1: error", 100),
        LogLine("nodo2", AGENT, "notice", "Result of stop operation for A on nodo1: error", 100),
    ]
    kept = once(lost)
    assert [(ln.node, ln.at) for ln in kept] == [
        ("nodo1", 100.0),
        ("nodo1", 100.1),  # the journal's own line is not the agent's to drop
        ("nodo2", 500.0),
        ("nodo1", 100),
        ("nodo2", 100),  # resource events come from the node that ran them: never merged
    ]


@pytest.mark.parametrize(
    ("record", "text"),
    [
        ({"kind": "node", "node": "n2", "desc": "lost"}, "Node n2 state is now lost"),
        (
            {"kind": "fencing", "node": "n2", "desc": "Operation off of n2 by n1 for x@n1: Error"},
            "Peer n2 was not terminated (off) by n1 on behalf of x@n1: Error",
        ),
        (
            {
                "kind": "resource",
                "rsc": "r",
                "task": "start",
                "rc": "1",
                "target_rc": "0",
                "status": "2",
                "desc": "Timed Out",
            },
            "Result of start operation for r on n1: Timed Out",
        ),
        (
            {
                "kind": "resource",
                "rsc": "r",
                "task": "monitor",
                "interval": "0",
                "rc": "0",
                "target_rc": "7",
                "status": "0",
                "desc": "ok",
            },
            "Result of probe operation for r on n1: ok",  # found running: the catalogue decides
        ),
        (
            {
                "kind": "resource",
                "rsc": "r",
                "task": "stop",
                "rc": "0",
                "target_rc": "0",
                "status": "0",
                "desc": "ok",
            },
            None,
        ),
        ({"kind": "attribute", "node": "n1", "desc": "x"}, None),
        ({"kind": "fencing", "desc": "no such shape"}, None),
    ],
)
def test_each_kind(record: dict[str, str], text: str | None) -> None:
    found = parse_record("n1", json.dumps({"host": "n1", **record}).encode())
    assert (found.text if found else None) == text


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1,2]",
        b"[" * 100_000 + b"]" * 100_000,  # nested past Python's recursion limit
        b'{"kind": {"kind": "node"}, "node": "n2", "desc": "lost"}',  # not flat
        b'{"kind": "node", "node": ["n2"], "desc": "lost"}',
        json.dumps({"kind": "node", "node": "n" * 70_000, "desc": "lost"}).encode(),  # too big
    ],
    ids=lambda r: repr(r[:30]),
)
def test_a_line_that_is_no_agent_record_is_refused_on_its_own(raw: bytes) -> None:
    with pytest.raises(RecordError):
        parse_record("n1", raw)


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    """What the old agent wrote for a non-UTF-8 byte in an event's field: a lone surrogate,
    which RE2, the database and Slack all refuse to encode."""
    raw = (
        b'{"kind": "resource", "rsc": "Web\\udcffSite", "task": "monitor", "interval": "1", '
        b'"rc": "7", "target_rc": "0", "status": "0", "desc": "x"}'
    )
    found = parse_record("n1", raw)
    assert found is not None
    assert "Web\ufffdSite" in found.text
    found.text.encode("utf-8")  # encodable


def test_broken_or_hostile_records_are_dropped_or_bounded() -> None:
    long = {"kind": "node", "node": "x" * 5000, "desc": "lost", "host": "n1"}
    found = parse_record("n1", json.dumps(long).encode())
    assert found is not None
    assert len(found.text) < 200
    sneaky = {"kind": "node", "node": "<!channel>", "desc": "lost", "host": "n1"}
    assert parse_record("n1", json.dumps(sneaky).encode()) is not None  # text; cards escape it


def test_the_agent_writes_one_escaped_line_per_event(tmp_path: Path) -> None:
    target = tmp_path / "habot-events.jsonl"
    env = {
        "CRM_alert_recipient": str(target),
        "CRM_alert_kind": "resource",
        "CRM_alert_rsc": 'Web"Site\n$(reboot)',
        "CRM_alert_task": "monitor",
        "CRM_alert_interval": "10000",
        "CRM_alert_rc": "7",
        "CRM_alert_target_rc": "0",
        "CRM_alert_status": "0",
        "CRM_alert_desc": "not running",
        "CRM_alert_timestamp_epoch": "1796566229",
        "CRM_alert_timestamp_usec": "064800",
    }
    for _ in range(3):
        assert run_agent(tmp_path, **env).returncode == 0
    written = target.read_bytes().splitlines()
    assert len(written) == 3
    record = json.loads(written[0])
    assert record["rsc"] == 'Web"Site\n$(reboot)'  # data, never evaluated
    assert all(b < 128 for b in target.read_bytes())  # escaped, one line each
    found = parse_record("n1", written[0])
    assert found is not None
    assert found.text.startswith('Result of monitor operation for Web"Site')
    assert oct(target.stat().st_mode & 0o777) == "0o640"


MONITOR_FAILED = {
    "CRM_alert_kind": "resource",
    "CRM_alert_rsc": "WebSite",
    "CRM_alert_task": "monitor",
    "CRM_alert_interval": "10000",
    "CRM_alert_rc": "7",
    "CRM_alert_target_rc": "0",
    "CRM_alert_status": "0",
}


def test_the_agent_never_writes_what_its_reader_refuses(tmp_path: Path) -> None:
    """A non-UTF-8 byte in an event's field (Pacemaker passes the bytes it has): the old
    agent wrote it as a lone surrogate, which stopped every later poll of the cluster."""
    target = tmp_path / "habot-events.jsonl"
    env = {
        b"PATH": os.environ.get("PATH", "").encode(),
        b"HABOT_ALERT_DIR": str(tmp_path).encode(),
        b"CRM_alert_recipient": str(target).encode(),
        **{k.encode(): v.encode() for k, v in MONITOR_FAILED.items()},
        b"CRM_alert_desc": b"not \xff running",
    }
    done = subprocess.run([sys.executable, "-I", str(AGENT_PY)], env=env, check=False, timeout=30)
    assert done.returncode == 0
    (written,) = target.read_bytes().splitlines()
    assert b"\\udc" not in written  # no lone surrogate: U+FFFD, escaped as \ufffd
    found = parse_record("n1", written)
    assert found is not None
    assert found.text.startswith("Result of monitor operation for WebSite on ")
    assert found.text.endswith(": not \ufffd running")


def test_a_record_cut_short_is_never_glued_to_the_next(tmp_path: Path) -> None:
    """A write cut short (a full disk, a kill) left no newline: the next record starts on a
    line of its own, and only the broken one is refused."""
    target = tmp_path / "habot-events.jsonl"
    target.write_bytes(b'{"kind":"node","node":"nodo2","de')
    env = {"CRM_alert_recipient": str(target), **MONITOR_FAILED, "CRM_alert_desc": "error"}
    assert run_agent(tmp_path, **env).returncode == 0
    broken, written = target.read_bytes().splitlines()
    with pytest.raises(RecordError):
        parse_record("n1", broken)
    found = parse_record("n1", written)
    assert found is not None
    assert found.text.endswith(": error")


def test_the_agent_keeps_two_older_generations(tmp_path: Path) -> None:
    target = tmp_path / "habot-events.jsonl"
    for generation in (b"2", b"1", b"0"):
        target.write_bytes(generation * 100 + b"\n")
        alert_agent.append(str(target), b'{"kind":"x"}\n', max_bytes=50)
    assert (tmp_path / "habot-events.jsonl.2").read_bytes().startswith(b"1" * 100)
    assert (tmp_path / "habot-events.jsonl.1").read_bytes().startswith(b"0" * 100)
    assert target.read_bytes() == b'{"kind":"x"}\n'


def test_the_agent_refuses_a_recipient_elsewhere_and_a_symlink(tmp_path: Path) -> None:
    for bad in ("/etc/passwd", str(tmp_path / "x.log"), str(tmp_path / "../x.jsonl"), ""):
        done = run_agent(tmp_path, CRM_alert_recipient=bad, CRM_alert_kind="node")
        assert done.returncode == 2, bad
        assert "must be a .jsonl file" in done.stderr
    outside = tmp_path.parent / "outside.jsonl"
    (tmp_path / "link.jsonl").symlink_to(outside)
    done = run_agent(tmp_path, CRM_alert_recipient=str(tmp_path / "link.jsonl"))
    assert done.returncode != 0
    assert not outside.exists()  # never written through


def test_the_agent_starts_a_new_file_past_its_size(tmp_path: Path) -> None:
    target = tmp_path / "habot-events.jsonl"
    target.write_bytes(b"x" * 100 + b"\n")
    alert_agent.append(str(target), b'{"kind":"node"}\n', max_bytes=50)
    assert (tmp_path / "habot-events.jsonl.1").read_bytes() == b"x" * 100 + b"\n"
    assert target.read_bytes() == b'{"kind":"node"}\n'
