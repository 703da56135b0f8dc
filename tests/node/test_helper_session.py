"""habot-node as a session: one helper (one sudo, one Python start) answers many reads, each
request matched exactly as a command of its own would be, each answer framed by length and the
request's nonce; it runs no change (a push, a new file, a followed journal has its own
channel), keeps each command to its time, and ends at the first request that is not one. And a
simulation with Pacemaker's own tools, where they can: no pcs for a standby or a move."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from habot.node import EXIT_REFUSED
from tests.node.test_helper import node, ran

__all__ = ["node"]


class Session:
    def __init__(self, node: Path) -> None:
        self.ready = secrets.token_hex(16)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(node / "libexec" / "habot-node"), "session", self.ready],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == f"{self.ready}\n".encode()

    def ask(self, argv: list[str], timeout: float = 10) -> tuple[int, bytes, bytes]:
        nonce = secrets.token_hex(16)
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        request = {"nonce": nonce, "argv": argv, "timeout": timeout}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        got, rc, out, err = self.process.stdout.readline().split()
        assert got.decode() == nonce
        body = self.process.stdout.read(int(out) + int(err))
        return int(rc), body[: int(out)], body[int(out) :]

    def close(self) -> int:
        """Ends it (the end of its input), and every pipe with it."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
        code = self.process.wait(timeout=10)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return code


@pytest.fixture
def session(node: Path) -> Session:
    opened = Session(node)
    yield opened  # type: ignore[misc]
    if opened.process.poll() is None:
        opened.process.kill()
    opened.close()


def test_one_helper_answers_many_reads_each_by_its_rules(node: Path, session: Session) -> None:
    rc, out, _ = session.ask(["status"])
    assert (rc, out.split(b"\n")[0]) == (0, b"<crm_mon/>")
    rc, _, err = session.ask(["exec", "pcs", "resource", "move", "VirtualIP", "nodo2"])
    assert rc == 0, err
    assert "arg:nodo2" in ran(node)
    for argv in (
        ["exec", "pcs", "resource move", "VirtualIP", "nodo2"],  # two words merged
        ["exec", "pcs", "resource", "delete", "VirtualIP"],
        ["exec", "sh", "-c", "id"],
        ["journal", "--since=@0", "--flush"],
        ["log", "read", "/etc/shadow", "0", "100"],
    ):
        rc, out, err = session.ask(argv)
        assert rc == EXIT_REFUSED, argv
        assert err.startswith(b"habot-node: refused: ")
        assert out == b""
    assert session.ask(["status"])[0] == 0  # refusals do not end the session
    assert session.close() == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["cib", "push", json.dumps([["resource", "clone", "WebSite"]])],
        ["write-new", "/run/habot-test.x/html/index.html", "<h1>x</h1>"],
        ["journal", "--follow", "--lines=0"],
    ],
    ids=["push", "write-new", "follow"],
)
def test_a_session_runs_no_change(node: Path, session: Session, argv: list[str]) -> None:
    rc, _, err = session.ask(argv)
    assert rc == EXIT_REFUSED
    assert b"of its own" in err or b"reads only" in err
    assert not (node / "ran.log.pushed").exists()


def test_output_that_looks_like_a_reply_is_only_output(node: Path, session: Session) -> None:
    """What a command prints cannot end its answer early or pass for the next one's."""
    fake = f"{'0' * 32} 0 0 0\n"
    log = node / "logs"
    log.mkdir()
    (log / "pacemaker.log").write_text(fake + "x\0y")
    rc, out, _ = session.ask(["log", "read", str(log / "pacemaker.log"), "0", "100"])
    assert (rc, out) == (0, (fake + "x\0y").encode())
    assert session.ask(["status"])[0] == 0


def test_a_command_is_kept_to_its_time(node: Path) -> None:
    slow = node / "bin" / "stonith_admin"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    opened = Session(node)
    try:
        rc, _, _ = opened.ask(["exec", "stonith_admin", "--reboot", "nodo2"], timeout=0.5)
        assert rc in (124, 137)
        assert opened.ask(["status"])[0] == 0  # and the session goes on
    finally:
        opened.close()


def test_a_request_that_is_not_one_ends_the_session(node: Path, session: Session) -> None:
    assert session.process.stdin is not None
    session.process.stdin.write(b'{"argv": ["status"], "timeout": 5}\n')  # no nonce
    session.process.stdin.flush()
    assert session.close() == EXIT_REFUSED


@pytest.mark.skipif(os.geteuid() != 0, reason="the shadow CIB lives in /run (root)")
def test_a_standby_or_a_move_is_simulated_without_pcs(node: Path, session: Session) -> None:
    edits = [["node", "standby", "nodo1"], ["resource", "move-with-constraint", "WebSite", "nodo2"]]
    rc, out, err = session.ask(["cib", "simulate", json.dumps(edits)])
    assert rc == 0, err
    assert out == b"<constraints/>\n"  # crm_simulate's XML alone (the edits print too)
    assert b"mycluster" in err  # what crm_attribute printed
    programs = [line for line in ran(node) if ":" not in line]
    assert programs == ["cibadmin", "crm_attribute", "crm_resource", "crm_simulate"]
    log = ran(node)
    assert log[log.index("crm_attribute") + 1 : log.index("crm_attribute") + 7] == [
        "arg:--node", "arg:nodo1", "arg:--name", "arg:standby", "arg:--update", "arg:on",
    ]  # fmt: skip
    assert any(line.startswith("cib_file:/run/habot-cib.") for line in log)
    edit_not_in_rules = [["node", "standby", "nodo3"]]
    rc, _, _ = session.ask(["cib", "simulate", json.dumps(edit_not_in_rules)])
    assert rc == EXIT_REFUSED


@pytest.mark.skipif(os.geteuid() != 0, reason="the shadow CIB lives in /run (root)")
def test_a_cluster_property_is_simulated_without_pcs(node: Path, session: Session) -> None:
    """A crmsh cluster's node has no pcs: `maintenance mode=on`'s preview still runs."""
    rc, _, err = session.ask(
        ["cib", "simulate", json.dumps([["property", "set", "maintenance-mode=true"]])]
    )
    assert rc == 0, err
    programs = [line for line in ran(node) if ":" not in line]
    assert programs == ["cibadmin", "crm_attribute", "crm_simulate"]
    log = ran(node)
    at = log.index("crm_attribute")
    assert log[at + 1 : at + 7] == [
        "arg:--type", "arg:crm_config", "arg:--name", "arg:maintenance-mode",
        "arg:--update", "arg:true",
    ]  # fmt: skip
