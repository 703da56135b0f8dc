"""Read-only commands through one long-lived habot-node per node: one sudo and one Python start
for many reads, not one each, and no sshd session set-up per command either.

A new exec channel costs sshd a fork, PAM and a login (~125 ms), and through the helper a
sudo and a Python start (~50 ms) more; a request written to a helper already running costs what
its command costs. The session is `sudo -n -- habot-node session NONCE` (through sudo), or the
same helper's text run with `python3 -I -c` (a root login). It matches each request exactly as
a command of its own (argument by argument, no shell, a fixed environment, the same refusals):

    request:  {"nonce": "<32 hex>", "argv": ["status"], "timeout": 30}\\n
    reply:    <nonce> <exit code> <stdout bytes> <stderr bytes>\\n<stdout><stderr>

The reply is read by length, never scanned for a marker, so nothing a command prints can end it
early; its stdin is /dev/null, so no command can read the next request. A header that does not
carry the request's fresh nonce, a helper that dies or does not answer in time: the session is
closed, and the caller runs the command again on its own exec channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncssh

from habot.node import HELPER, HELPER_PATH, PYTHON, helper_source
from habot.ssh.transport import CommandResult, NodeAddress

_HEADER = re.compile(
    rb"^(?P<nonce>[0-9a-f]{32}) (?P<rc>\d{1,3}) (?P<out>\d{1,12}) (?P<err>\d{1,12}) ?$"
)
MAX_OUTPUT = 256 * 1024 * 1024  # bytes of one reply; past it the session is not trusted
SUDO = ("sudo", "-n", "--")


class SessionBroken(Exception):
    """The session cannot be trusted any more (desynchronised, dead, silent): close it."""


class ReplyTooLarge(SessionBroken):
    """A reply over MAX_OUTPUT: not read here, and not asked again elsewhere either."""


def session_command(node: NodeAddress, ready: str) -> str:
    """The helper as a session: installed, through sudo; else from its own text."""
    if node.sudo:
        return shlex.join([*SUDO, HELPER_PATH, "session", ready])
    return shlex.join([*PYTHON, helper_source(), "session", ready])


def request_of(argv: Sequence[str], timeout: float, nonce: str) -> bytes:
    """One request line: the helper's own verb as it is, any other command through `exec`."""
    verb = list(argv[1:]) if argv[0] == HELPER else ["exec", *argv]
    return json.dumps({"nonce": nonce, "argv": verb, "timeout": timeout}).encode() + b"\n"


def parse_header(line: bytes, nonce: str) -> tuple[int, int, int]:
    """(exit code, stdout length, stderr length) — or SessionBroken when the line is not this
    request's header."""
    found = _HEADER.match(line.rstrip(b"\n"))
    if found is None or found.group("nonce").decode() != nonce:
        raise SessionBroken(f"out of step: {line[:80]!r}")
    out, err = int(found.group("out")), int(found.group("err"))
    if out + err > MAX_OUTPUT:
        raise ReplyTooLarge(f"a reply of {out + err} bytes (more than {MAX_OUTPUT})")
    return int(found.group("rc")), out, err


@dataclass
class ReadSession:
    """One habot-node on one node, one request at a time."""

    node: NodeAddress
    process: asyncssh.SSHClientProcess[bytes]
    lock: asyncio.Lock

    @classmethod
    async def open(
        cls, conn: asyncssh.SSHClientConnection, node: NodeAddress, timeout: float
    ) -> ReadSession:
        ready = secrets.token_hex(16)
        process = await conn.create_process(session_command(node, ready), encoding=None)
        session = cls(node, process, asyncio.Lock())
        try:
            async with asyncio.timeout(timeout):
                line = await process.stdout.readline()
        except (TimeoutError, asyncssh.Error, OSError) as e:
            session.close()
            raise SessionBroken(f"the helper did not start: {e}") from e
        if line.strip() != ready.encode():
            session.close()
            said = await _said(process)
            raise SessionBroken(f"the helper did not start: {line[:80]!r} {said}".strip())
        return session

    @property
    def alive(self) -> bool:
        return not self.process.is_closing() and self.process.exit_status is None

    async def run(self, argv: Sequence[str], timeout: float, guard: float) -> CommandResult:
        """Run one command; SessionBroken on anything that is not a clean reply."""
        async with self.lock:
            nonce = secrets.token_hex(16)
            started = time.monotonic()
            try:
                self.process.stdin.write(request_of(argv, timeout, nonce))
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


async def _said(process: asyncssh.SSHClientProcess[bytes]) -> str:
    """What a helper that would not start wrote on stderr (a refusal, an old helper)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1):
            err = await process.stderr.read(300)
        return bytes(err).decode(errors="replace").strip()
    return ""
