"""The SSH boundary: one small Protocol, the result record, and exit codes that mean something."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

# `timeout` (coreutils) exits 124 when the command ran out of time, 137 when it had to be
# killed (SIGKILL after --kill-after).
EXIT_TIMED_OUT = 124
EXIT_KILLED = 137
# The command could not be found on the node (shell convention).
EXIT_NOT_FOUND = 127


@dataclass(frozen=True, slots=True)
class NodeAddress:
    name: str
    host: str
    port: int = 22
    user: str = "root"
    sudo: bool = False  # every command through `sudo -n --` (an unprivileged node user)

    @property
    def runs_as(self) -> str:
        """Who runs habot's commands on the node, as the card and the audit say it."""
        return f"{self.user} via sudo" if self.sudo else self.user


@dataclass(frozen=True, slots=True)
class CommandResult:
    node: str
    argv: tuple[str, ...]
    exit_status: int
    stdout: bytes
    stderr: bytes
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Runs argv on a node. A non-zero exit is data; not reaching the node raises."""

    async def run(self, node: NodeAddress, argv: Sequence[str], *, timeout: float) -> CommandResult:
        """A command on its own exec channel (every command that may change the cluster)."""

    async def read(
        self, node: NodeAddress, argv: Sequence[str], *, timeout: float
    ) -> CommandResult:
        """A read-only command; it may share a long-lived session with other reads."""

    def follow(
        self, node: NodeAddress, argv: Sequence[str], *, limit_s: float
    ) -> AsyncIterator[bytes]:
        """The output lines of a long-running read-only command (`journalctl --follow`), as
        they come, on its own channel — first an empty line once that channel is open; it
        ends when the command does (killed on the node after `limit_s`); TransportError when
        the connection drops."""

    async def close(self) -> None: ...
