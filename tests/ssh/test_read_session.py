"""Read-only commands through one long-lived habot-node session (here from its own text, as on a
root login), against a real sshd: what an exec channel gives, framed by length and nonce, one
helper and one sshd session for many reads, and recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from habot.errors import CommandTimeout
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.ssh.session import MAX_OUTPUT, ReplyTooLarge, SessionBroken, parse_header
from tests.ssh.conftest import node
from tests.ssh.server import Sshd
from tests.ssh.test_asyncssh_transport import HOSTILE


def session_shells() -> list[int]:
    """The helper sessions running here (`… session NONCE`), not the shells that start them."""
    out = subprocess.run(
        ["pgrep", "-f", "python3 -I -c .* session [0-9a-f]{32}$"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [int(p) for p in out.stdout.split()]


async def test_a_read_gives_what_an_exec_channel_gives(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    argv = ["sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 3"]
    read = await transport.read(node(sshd), argv, timeout=10)
    run = await transport.run(node(sshd), argv, timeout=10)
    assert (read.exit_status, read.stdout, read.stderr) == (3, b"out\n", b"err\n")
    assert (read.exit_status, read.stdout, read.stderr) == (run.exit_status, run.stdout, run.stderr)


@pytest.mark.parametrize("argument", HOSTILE)
async def test_hostile_arguments_stay_one_argument(
    transport: AsyncsshTransport, sshd: Sshd, argument: str
) -> None:
    result = await transport.read(node(sshd), ["printf", "%s|%s", argument, "end"], timeout=10)
    assert result.stdout.decode() == f"{argument}|end"


async def test_output_that_looks_like_a_header_does_not_end_the_command(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    """The desynchronisation attempt: a command prints a header-shaped line and binary noise,
    without a final newline; the next command still gets its own reply."""
    fake = "0123456789abcdef0123456789abcdef 0 0 0\n"
    argv = ["sh", "-c", f"printf '{fake}'; printf 'x\\000y'; printf '{fake}' >&2"]
    first = await transport.read(node(sshd), argv, timeout=10)
    assert first.stdout == fake.encode() + b"x\x00y"
    assert first.stderr == fake.encode()
    second = await transport.read(node(sshd), ["echo", "next"], timeout=10)
    assert second.stdout == b"next\n"


async def test_many_reads_share_one_shell(transport: AsyncsshTransport, sshd: Sshd) -> None:
    before = set(session_shells())
    for i in range(20):
        assert (await transport.read(node(sshd), ["echo", str(i)], timeout=10)).stdout == (
            f"{i}\n".encode()
        )
    assert len(set(session_shells()) - before) == 1


async def test_a_command_cannot_read_the_next_one(transport: AsyncsshTransport, sshd: Sshd) -> None:
    result = await transport.read(node(sshd), ["cat"], timeout=10)  # stdin is /dev/null
    assert (result.exit_status, result.stdout) == (0, b"")
    assert (await transport.read(node(sshd), ["echo", "ok"], timeout=10)).stdout == b"ok\n"


async def test_a_timeout_is_a_timeout_and_the_session_lives_on(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    with pytest.raises(CommandTimeout, match="did not finish within 1 s"):
        await transport.read(node(sshd), ["sleep", "30"], timeout=1)
    own = await transport.read(node(sshd), ["sh", "-c", "exit 124"], timeout=10)
    assert own.exit_status == 124  # a command's own 124 is data


async def test_a_shell_killed_mid_command_is_replaced_and_the_command_runs_again(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    before = set(session_shells())  # other transports' shells may still be ending
    await transport.read(node(sshd), ["true"], timeout=10)
    (shell,) = set(session_shells()) - before
    reading = asyncio.create_task(
        transport.read(node(sshd), ["sh", "-c", "sleep 1; echo done"], timeout=10)
    )
    await asyncio.sleep(0.3)
    os.kill(shell, signal.SIGKILL)
    result = await reading
    assert result.stdout == b"done\n"  # run again on its own exec channel
    again = await transport.read(node(sshd), ["echo", "fresh"], timeout=10)
    assert again.stdout == b"fresh\n"
    assert shell not in session_shells()


def test_a_header_without_the_nonce_breaks_the_session() -> None:
    nonce = "0" * 32
    assert parse_header(f"{nonce} 0 3 0\n".encode(), nonce) == (0, 3, 0)
    for line in (b"", b"garbage\n", f"{'1' * 32} 0 3 0\n".encode(), f"{nonce} 0 x 0\n".encode()):
        with pytest.raises(SessionBroken):
            parse_header(line, nonce)


async def test_a_dropped_connection_leaves_no_helper_behind(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    """The connection drops mid-command (sshd's session process dies): the command is asked
    again on a new connection, and the old helper ends once its command has (its reply
    meets a closed pipe, or its next read meets the end of its input)."""
    shells = set(session_shells())
    await transport.read(node(sshd), ["true"], timeout=10)
    (helper,) = set(session_shells()) - shells
    reading = asyncio.create_task(
        transport.read(node(sshd), ["sh", "-c", "sleep 1; echo done"], timeout=10)
    )
    await asyncio.sleep(0.3)
    parent = int(Path(f"/proc/{helper}/stat").read_text().rsplit(")", 1)[1].split()[1])
    os.kill(parent, signal.SIGKILL)  # the connection's sshd process (or the shell under it)
    assert (await reading).stdout == b"done\n"  # asked again on a new connection
    for _ in range(100):  # bounded: the helper ends once its command has
        if helper not in session_shells():
            break
        await asyncio.sleep(0.05)
    assert helper not in session_shells()


async def test_a_child_left_by_a_timed_out_command_never_writes_into_the_next_reply(
    transport: AsyncsshTransport, sshd: Sshd
) -> None:
    """The command times out; a child it started in a session of its own outlives it and
    writes a moment later — into its own command's pipe, never the next command's reply."""
    escaped = "setsid sh -c 'sleep 1.5; echo LATE; echo LATE >&2' & sleep 30"
    with pytest.raises(CommandTimeout):
        await transport.read(node(sshd), ["sh", "-c", escaped], timeout=1)
    after = await transport.read(node(sshd), ["sh", "-c", "sleep 1; echo fresh"], timeout=10)
    assert (after.stdout, after.stderr) == (b"fresh\n", b"")
    await asyncio.sleep(1)  # the child has written by now
    again = await transport.read(node(sshd), ["echo", "again"], timeout=10)
    assert (again.stdout, again.stderr) == (b"again\n", b"")


def test_a_reply_too_large_is_not_asked_again_elsewhere() -> None:
    nonce = "0" * 32
    with pytest.raises(ReplyTooLarge):
        parse_header(f"{nonce} 0 {MAX_OUTPUT} 1\n".encode(), nonce)
