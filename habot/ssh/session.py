"""Read-only commands over one long-lived `sh` per node: no sshd session set-up per command.

A new exec channel costs sshd a fork, PAM and a login environment (~125 ms); a command written
to a shell that is already running costs what the command costs. The protocol needs nothing on
the node but `sh`, `stat` and `cat`, and is safe by construction:

    <shlex-joined `timeout --kill-after` argv> </dev/null >"$D/o" 2>"$D/e"; rc=$?
    set -- $(stat -c %s "$D/o" "$D/e"); printf '%s %s %s %s\\n' NONCE "$rc" "$1" "$2"
    cat "$D/o" "$D/e"

The reply is one header line — a fresh random nonce, the exit code, the byte lengths of stdout
and stderr — then exactly that many bytes. Output is read by length, never scanned for a
marker, so nothing a command prints can end it early; stdin is /dev/null, so no command can
read the next one. `$D` is a private directory (`mktemp -d`, 0700) made when the shell starts
and removed when it ends. A header that does not carry the nonce, a shell that dies or does not
answer in time: the session is closed, and the caller runs the command again on its own exec
channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncssh

from habot.ssh.transport import CommandResult, NodeAddress

_HEADER = re.compile(
    rb"^(?P<nonce>[0-9a-f]{32}) (?P<rc>\d{1,3}) (?P<out>\d{1,12}) (?P<err>\d{1,12}) ?$"
)
# The directory goes with the shell however it ends: a clean exit, or the signal a dropped
# connection brings (SIGHUP, or SIGPIPE on its next write), which would skip an EXIT trap alone.
_PREPARE = (
    "D=$(mktemp -d /tmp/habot-read.XXXXXXXXXX) && trap 'rm -rf \"$D\"' EXIT && "
    "trap 'exit 129' HUP && trap 'exit 141' PIPE && trap 'exit 143' TERM && echo {ready}\n"
)
MAX_OUTPUT = 256 * 1024 * 1024  # bytes of one reply; past it the session is not trusted


class SessionBroken(Exception):
    """The shell cannot be trusted any more (desynchronised, dead, silent): close it."""


def framed(command: str, nonce: str) -> bytes:
    """The shell text for one command (`command` is already one quoted command line). Its
    output files are its own (named by the nonce) and removed once sent: a child left behind
    by a timed-out command writes into a file nobody reads again, never into the next reply."""
    out, err = f'"$D/o.{nonce}"', f'"$D/e.{nonce}"'
    return (
        f"{command} </dev/null >{out} 2>{err}; rc=$?; "
        f"set -- $(stat -c %s {out} {err}); "
        f'printf \'%s %s %s %s\\n\' {nonce} "$rc" "$1" "$2"; '
        f"cat {out} {err}; rm -f {out} {err}\n"
    ).encode()


class ReplyTooLarge(SessionBroken):
    """A reply over MAX_OUTPUT: not read here, and not asked again elsewhere either."""


def parse_header(line: bytes, nonce: str) -> tuple[int, int, int]:
    """(exit code, stdout length, stderr length) — or SessionBroken when the line is not this
    command's header."""
    found = _HEADER.match(line.rstrip(b"\n"))
    if found is None or found.group("nonce").decode() != nonce:
        raise SessionBroken(f"out of step: {line[:80]!r}")
    out, err = int(found.group("out")), int(found.group("err"))
    if out + err > MAX_OUTPUT:
        raise ReplyTooLarge(f"a reply of {out + err} bytes (more than {MAX_OUTPUT})")
    return int(found.group("rc")), out, err


@dataclass
class ReadSession:
    """One `sh` on one node, one command at a time."""

    node: NodeAddress
    process: asyncssh.SSHClientProcess[bytes]
    lock: asyncio.Lock

    @classmethod
    async def open(
        cls, conn: asyncssh.SSHClientConnection, node: NodeAddress, timeout: float
    ) -> ReadSession:
        process = await conn.create_process("sh -s -- habot-read-session", encoding=None)
        session = cls(node, process, asyncio.Lock())
        ready = secrets.token_hex(16)
        process.stdin.write(_PREPARE.format(ready=ready).encode())
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except (TimeoutError, asyncssh.Error, OSError) as e:
            session.close()
            raise SessionBroken(f"the shell did not start: {e}") from e
        if line.strip() != ready.encode():
            session.close()
            raise SessionBroken(f"the shell did not start: {line[:80]!r}")
        return session

    @property
    def alive(self) -> bool:
        return not self.process.is_closing() and self.process.exit_status is None

    async def run(self, argv: Sequence[str], command: str, guard: float) -> CommandResult:
        """Run one command line; SessionBroken on anything that is not a clean reply."""
        async with self.lock:
            nonce = secrets.token_hex(16)
            started = time.monotonic()
            try:
                self.process.stdin.write(framed(command, nonce))
                async with asyncio.timeout(guard):
                    header = await self.process.stdout.readline()
                    rc, out, err = parse_header(header, nonce)
                    body = await self.process.stdout.readexactly(out + err)
            except (TimeoutError, asyncio.IncompleteReadError, asyncssh.Error, OSError) as e:
                self.close()
                raise SessionBroken(f"{type(e).__name__}: {e}") from e
            except SessionBroken:
                self.close()
                raise
            return CommandResult(
                self.node.name,
                tuple(argv),
                rc,
                body[:out],
                body[out:],
                time.monotonic() - started,
            )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.process.stdin.write_eof()
        self.process.close()
