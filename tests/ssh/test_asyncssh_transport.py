"""The real transport against a real sshd: quoting, exit codes, timeouts, host keys, reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habot.alerts.sources import read_argv, stat_argv
from habot.errors import CommandTimeout, ConnectError, HostKeyError
from habot.node import EXIT_REFUSED
from habot.ssh.asyncssh_transport import AsyncsshTransport, remote_command
from habot.ssh.transport import NodeAddress
from tests.ssh.conftest import node
from tests.ssh.server import Sshd, free_port

HOSTILE = [
    "a; touch /tmp/habot-pwned",
    "$(id -u)",
    "`id`",
    'it\'s "quoted"',
    "two\nlines",
    "-rf",
    "--help",
    "ñandú 🐧",
    "*",
    "~root",
    "x" * 10_000,
    "",
    " spaced  out ",
]


async def test_non_zero_exit_is_data(transport: AsyncsshTransport, sshd: Sshd) -> None:
    result = await transport.run(
        node(sshd), ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10
    )
    assert (result.exit_status, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
    assert not result.ok


@pytest.mark.parametrize("argument", HOSTILE)
async def test_hostile_argument_stays_one_literal_argument(
    transport: AsyncsshTransport, sshd: Sshd, argument: str
) -> None:
    result = await transport.run(node(sshd), ["printf", "%s|%s", argument, "end"], timeout=10)
    assert result.stdout.decode() == f"{argument}|end"
    assert not Path("/tmp/habot-pwned").exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    argument=st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=200
    )
)
def test_any_text_round_trips(sshd: Sshd, argument: str) -> None:
    async def once() -> bytes:
        t = AsyncsshTransport(client_key=sshd.client_key, known_hosts=sshd.known_hosts)
        try:
            return (await t.run(node(sshd), ["printf", "%s", argument], timeout=10)).stdout
        finally:
            await t.close()

    assert asyncio.run(once()) == argument.encode()


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker in Path(f"/proc/{entry}/cmdline").read_text():
                found.append(int(entry))
        except OSError:
            continue
    return found


async def test_hung_command_is_killed_on_the_node(transport: AsyncsshTransport, sshd: Sshd) -> None:
    marker = "613.1337"
    with pytest.raises(CommandTimeout, match="did not finish within 1 s and was killed"):
        await transport.run(node(sshd), ["sh", "-c", f"sleep {marker}; echo never"], timeout=1)
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert _processes_with(marker) == []


async def test_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text(
        f"[127.0.0.1]:{sshd.port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBGWk2TLnzWNB4SFSkH2cx4YK3HPlFzEXEhFZCsEmnOk\n"
    )
    t = AsyncsshTransport(client_key=sshd.client_key, known_hosts=other)
    with pytest.raises(HostKeyError, match=r"host key of .* does not match"):
        await t.run(node(sshd), ["true"], timeout=5)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    t = AsyncsshTransport(client_key=sshd.client_key, known_hosts=empty)
    with pytest.raises(HostKeyError):
        await t.run(node(sshd), ["true"], timeout=5)


async def test_dropped_connection_is_made_again(transport: AsyncsshTransport, sshd: Sshd) -> None:
    assert (await transport.run(node(sshd), ["echo", "one"], timeout=5)).stdout == b"one\n"
    for pid in sshd.session_pids():
        os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    assert (await transport.run(node(sshd), ["echo", "two"], timeout=5)).stdout == b"two\n"


async def test_many_concurrent_commands_share_one_connection(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    before = set(sshd.session_pids())  # connections of earlier tests may still be closing
    results = await asyncio.gather(
        *(transport.run(node(sshd), ["echo", str(i)], timeout=10) for i in range(25))
    )
    assert [r.stdout for r in results] == [f"{i}\n".encode() for i in range(25)]
    assert len(set(sshd.session_pids()) - before) == 1


async def test_nothing_listening_is_a_connect_error(sshd: Sshd) -> None:
    t = AsyncsshTransport(
        client_key=sshd.client_key, known_hosts=sshd.known_hosts, connect_timeout=2
    )
    with pytest.raises(ConnectError, match="cannot connect to"):
        await t.run(NodeAddress("gone", "127.0.0.1", free_port(), sshd.user), ["true"], timeout=5)


def test_argv_becomes_one_quoted_command_line() -> None:
    assert remote_command(["crm_mon", "--one-shot", "$(x)"], 30) == (
        "timeout --kill-after=5 30 crm_mon --one-shot '$(x)'"
    )
    with pytest.raises(ValueError, match="empty argv"):
        remote_command([], 1)


@pytest.mark.parametrize("code", [124, 137])
async def test_a_commands_own_124_or_137_is_data_not_a_timeout(
    transport: AsyncsshTransport, sshd: Sshd, code: int
) -> None:
    result = await transport.run(node(sshd), ["sh", "-c", f"exit {code}"], timeout=30)
    assert result.exit_status == code


async def test_a_frozen_node_costs_one_timeout_and_its_connection(sshd: Sshd) -> None:
    """After a timeout the pooled connection is not trusted again: the next command opens a
    new one, even once the old one would answer again."""
    t = AsyncsshTransport(
        client_key=sshd.client_key, known_hosts=sshd.known_hosts, connect_timeout=1
    )
    try:
        before = set(sshd.session_pids())
        await t.run(node(sshd), ["true"], timeout=5)
        frozen = sorted(set(sshd.session_pids()) - before)
        assert len(frozen) == 1
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(CommandTimeout, match="no answer within 1 s"):
                await t.run(node(sshd), ["true"], timeout=1)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        assert (await t.run(node(sshd), ["echo", "again"], timeout=5)).stdout == b"again\n"
        assert set(sshd.session_pids()) - before - set(frozen) != set()
    finally:
        await t.close()


async def test_a_root_login_reads_logs_through_the_helpers_own_walk(
    transport: AsyncsshTransport, sshd: Sshd, tmp_path: Path
) -> None:
    """Where habot logs in as root there is no installed helper: the same helper's text runs
    with `python3 -I -c` (over the read session and on its own channel), and a link planted
    as the log is refused there too."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "pacemaker.log").write_bytes(b"one\ntwo\n")
    here = node(sshd)
    stat = await transport.read(here, stat_argv(str(logs / "pacemaker.log")), timeout=30)
    assert stat.exit_status == 0, stat.stderr_text
    assert stat.stdout_text.startswith(f"{logs}/pacemaker.log ")
    assert stat.argv[:3] == ("habot-node", "log", "stat")  # what the audit shows
    read = await transport.run(here, read_argv(str(logs / "pacemaker.log"), 4, 3), timeout=30)
    assert read.stdout == b"two"
    (logs / "pacemaker.log").unlink()
    (logs / "pacemaker.log").symlink_to("/etc/shadow")
    refused = await transport.read(here, read_argv(str(logs / "pacemaker.log"), 0, 64), timeout=30)
    assert refused.exit_status == EXIT_REFUSED
    assert "symbolic link; refused" in refused.stderr_text
    assert refused.stdout == b""
