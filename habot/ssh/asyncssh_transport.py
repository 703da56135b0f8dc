"""The real Transport: asyncssh, one pooled connection per node, host keys always verified."""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace
from pathlib import Path

import asyncssh

from habot.errors import CommandTimeout, ConnectError, HostKeyError, TransportError
from habot.metrics import SSH_SECONDS
from habot.node import EXIT_REFUSED, HELPER, HELPER_PATH, PYTHON, helper_source
from habot.ssh.session import ReadSession, ReplyTooLarge, SessionBroken
from habot.ssh.transport import EXIT_KILLED, EXIT_TIMED_OUT, CommandResult, NodeAddress

log = logging.getLogger(__name__)
KILL_AFTER_S = 5  # SIGTERM at the timeout, SIGKILL this much later
# An idle connection (a quiet followed journal) is asked to answer this often; three missed,
# it is dropped and its stream started again. Commands on it find a dead one sooner.
KEEPALIVE_S = 30
TIMEOUT_SLACK = 0.98  # clocks of the node and of habot differ a little
SESSIONS_PER_NODE = 7  # exec channels; with READERS_PER_NODE below OpenSSH's MaxSessions (10)
READERS_PER_NODE = 2  # long-lived read sessions: a poll and a status read may overlap


SUDO = ("sudo", "-n", "--")  # never a password prompt: a refusal is an answer


def remote_command(argv: Sequence[str], timeout: float, *, sudo: bool = False) -> str:
    """The one place argv becomes a command line: quoted whole, bounded by `timeout`, and
    through `sudo -n` when the node user is unprivileged (`timeout` stays outside: sudoers
    allows the command itself, never a wrapper that could run anything)."""
    if not argv:
        raise ValueError("empty argv")
    privileged = list(argv)
    if sudo and argv[0] == HELPER:  # one of the helper's own steps (status, cib, log, ...)
        privileged = [*SUDO, HELPER_PATH, *argv[1:]]
    elif argv[0] == HELPER:  # a node habot logs into as root: the helper from its source
        privileged = [*PYTHON, helper_source(), *argv[1:]]
    elif sudo:  # the helper runs it if its rules allow this argv, argument by argument
        privileged = [*SUDO, HELPER_PATH, "exec", *argv]
    bounded = ["timeout", f"--kill-after={KILL_AFTER_S}", f"{timeout:g}", *privileged]
    return shlex.join(bounded)


async def _observed(node: NodeAddress, work: Awaitable[CommandResult]) -> CommandResult:
    """The command's duration, by node and outcome, for /metrics."""
    started = time.monotonic()
    outcome = "error"
    try:
        result = await work
        outcome = "ok" if result.ok else "failed"
        return result
    except CommandTimeout:
        outcome = "timeout"
        raise
    finally:
        SSH_SECONDS.labels(node.name, outcome).observe(time.monotonic() - started)


def sudo_refusal(node: NodeAddress, argv: Sequence[str], rc: int, stderr: bytes) -> bytes:
    """A refusal by the node, said plainly: sudo does not allow the helper, or the helper's
    rules do not allow this command."""
    said = stderr.decode(errors="replace").strip()
    if not node.sudo:
        return stderr
    command = shlex.join(argv)[:300]
    if rc == EXIT_REFUSED and said.startswith("habot-node: refused"):
        return (
            f"the node refused it: habot-node on {node.name} does not allow `{command}` "
            f"({said.splitlines()[0][:160]}); `habot node-files` writes the rules habot needs\n"
        ).encode()
    if rc != 1 or not said.startswith("sudo: "):
        return stderr
    if "password is required" not in said and "not allowed" not in said:
        return stderr
    return (
        f"the node refused it: sudo on {node.name} does not allow {node.user} to run "
        f"`{command}` ({said.splitlines()[0][:120]}); `habot sudoers` prints the rule habot "
        "needs\n"
    ).encode()


class AsyncsshTransport:
    def __init__(
        self,
        *,
        client_key: Path,
        known_hosts: Path,
        connect_timeout: float = 5.0,
        sessions_per_node: int = SESSIONS_PER_NODE,
        readers_per_node: int = READERS_PER_NODE,
    ) -> None:
        self._client_key = client_key
        self._known_hosts = known_hosts
        self._connect_timeout = connect_timeout
        self._sessions_per_node = sessions_per_node
        self._connections: dict[NodeAddress, asyncssh.SSHClientConnection] = {}
        self._connecting: dict[NodeAddress, asyncio.Lock] = {}
        self._sessions: dict[NodeAddress, asyncio.Semaphore] = {}
        self._readers: dict[NodeAddress, list[ReadSession]] = {}
        self._readers_per_node = readers_per_node

    async def run(self, node: NodeAddress, argv: Sequence[str], *, timeout: float) -> CommandResult:
        return await _observed(node, self._run(node, argv, timeout=timeout))

    async def read(
        self, node: NodeAddress, argv: Sequence[str], *, timeout: float
    ) -> CommandResult:
        """A read-only command on a long-lived session; if that session fails in any way, it
        is closed and the command runs once more on its own exec channel."""
        return await _observed(node, self._read(node, argv, timeout=timeout))

    async def follow(
        self, node: NodeAddress, argv: Sequence[str], *, limit_s: float
    ) -> AsyncIterator[bytes]:
        command = remote_command(argv, limit_s, sudo=node.sudo)
        conn = await self._connection(node)
        try:
            process = await conn.create_process(command, encoding=None)
        except (asyncssh.ConnectionLost, asyncssh.DisconnectError, asyncssh.ChannelOpenError) as e:
            self._drop(node, conn)
            raise TransportError(node.name, f"no channel to follow on: {_reason(e)}") from e
        try:
            yield b""  # the channel is open: the node answers
            while True:
                try:
                    line = await process.stdout.readline()
                except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError) as e:
                    self._drop(node, conn)
                    raise TransportError(node.name, f"connection lost: {_reason(e)}") from e
                if not line:
                    break
                yield _bytes(line)
        finally:
            process.close()  # the channel closes: the command's next write ends it

    async def _run(
        self, node: NodeAddress, argv: Sequence[str], *, timeout: float
    ) -> CommandResult:
        command = remote_command(argv, timeout, sudo=node.sudo)
        semaphore = self._sessions.setdefault(node, asyncio.Semaphore(self._sessions_per_node))
        async with semaphore:
            started = time.monotonic()
            completed = await self._run_reconnecting(node, command, timeout)
        elapsed = time.monotonic() - started
        exit_status = _exit_status(completed)
        if timed_out(exit_status, elapsed, timeout):
            raise _killed(node, argv, timeout)
        return CommandResult(
            node=node.name,
            argv=tuple(argv),
            exit_status=exit_status,
            stdout=_bytes(completed.stdout),
            stderr=sudo_refusal(node, argv, exit_status, _bytes(completed.stderr)),
            duration_s=elapsed,
        )

    async def _read(
        self, node: NodeAddress, argv: Sequence[str], *, timeout: float
    ) -> CommandResult:
        if self._readers_per_node == 0:
            return await self._run(node, argv, timeout=timeout)
        try:
            session = await self._reader(node, timeout)
            result = await session.run(argv, timeout, timeout + KILL_AFTER_S + 5)
        except ReplyTooLarge as e:  # asked again on an exec channel, it would be read whole
            raise TransportError(node.name, f"{argv[0]}: {e}; not read") from e
        except SessionBroken as e:
            log.info("%s: read session closed (%s); %s on an exec channel", node.name, e, argv[0])
            return await self._run(node, argv, timeout=timeout)
        if timed_out(result.exit_status, result.duration_s, timeout):
            raise _killed(node, argv, timeout)
        stderr = sudo_refusal(node, argv, result.exit_status, result.stderr)
        return result if stderr is result.stderr else replace(result, stderr=stderr)

    async def _reader(self, node: NodeAddress, timeout: float) -> ReadSession:
        """An idle session of the node, a new one while there are fewer than the limit, else
        the first one (its lock queues the command)."""
        alive = [s for s in self._readers.get(node, []) if s.alive]
        self._readers[node] = alive
        idle = next((s for s in alive if not s.lock.locked()), None)
        if idle is not None:
            return idle
        if len(alive) >= self._readers_per_node:
            return alive[0]
        conn = await self._connection(node)
        try:
            session = await ReadSession.open(conn, node, min(timeout, self._connect_timeout + 5))
        except (asyncssh.ChannelOpenError, asyncssh.Error, OSError) as e:
            raise SessionBroken(f"no session: {e}") from e
        self._readers[node].append(session)
        return session

    async def _run_reconnecting(
        self, node: NodeAddress, command: str, timeout: float
    ) -> asyncssh.SSHCompletedProcess:
        """Run once; a pooled connection that turns out dead is re-made once."""
        for attempt in (1, 2):
            conn = await self._connection(node)
            try:
                async with asyncio.timeout(timeout + KILL_AFTER_S + self._connect_timeout):
                    return await conn.run(command, check=False, encoding=None)
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError) as e:
                self._drop(node, conn)
                if attempt == 2:
                    raise TransportError(node.name, f"connection lost: {e}") from e
            except asyncssh.ChannelOpenError as e:
                self._drop(node, conn)
                if attempt == 2:
                    raise TransportError(node.name, f"session refused: {e.reason}") from e
            except TimeoutError as e:
                # A node that stopped answering: its connection is not trusted again.
                self._drop(node, conn)
                raise CommandTimeout(node.name, f"no answer within {timeout:g} s") from e
        raise AssertionError("unreachable")

    async def _connection(self, node: NodeAddress) -> asyncssh.SSHClientConnection:
        lock = self._connecting.setdefault(node, asyncio.Lock())
        async with lock:
            conn = self._connections.get(node)
            if conn is not None and not conn.is_closed():
                return conn
            conn = await self._connect(node)
            self._connections[node] = conn
            return conn

    async def _connect(self, node: NodeAddress) -> asyncssh.SSHClientConnection:
        where = f"{node.user}@{node.host}:{node.port}"
        try:
            async with asyncio.timeout(self._connect_timeout + 1):
                return await asyncssh.connect(
                    node.host,
                    node.port,
                    username=node.user,
                    client_keys=[str(self._client_key)],
                    known_hosts=str(self._known_hosts),
                    agent_path=None,
                    config=(),
                    preferred_auth="publickey",
                    keepalive_interval=KEEPALIVE_S,
                    connect_timeout=self._connect_timeout,
                )
        except asyncssh.HostKeyNotVerifiable as e:
            raise HostKeyError(
                node.name, f"host key of {where} is not in {self._known_hosts} or does not match it"
            ) from e
        except asyncssh.PermissionDenied as e:
            raise ConnectError(node.name, f"{where} refused habot's key") from e
        except TimeoutError as e:
            raise ConnectError(
                node.name, f"{where} did not answer within {self._connect_timeout:g} s"
            ) from e
        except (OSError, asyncssh.Error) as e:
            raise ConnectError(node.name, f"cannot connect to {where}: {_reason(e)}") from e

    def _drop(self, node: NodeAddress, conn: asyncssh.SSHClientConnection) -> None:
        if self._connections.get(node) is conn:
            del self._connections[node]
        for session in self._readers.pop(node, []):
            session.close()
        conn.abort()

    async def close(self) -> None:
        for sessions in self._readers.values():
            for session in sessions:
                session.close()
        self._readers.clear()
        connections = list(self._connections.values())
        self._connections.clear()
        for conn in connections:
            conn.close()
        for conn in connections:
            await conn.wait_closed()


def _killed(node: NodeAddress, argv: Sequence[str], timeout: float) -> CommandTimeout:
    return CommandTimeout(
        node.name,
        f"{shlex.join(argv)} did not finish within {timeout:g} s and was killed on the node",
    )


def timed_out(exit_status: int, elapsed: float, timeout: float) -> bool:
    """`timeout` exits 124 (or 137 after SIGKILL) when the time ran out; a command that exits
    124 or 137 by itself, before its time, is data like any other exit code."""
    return exit_status in (EXIT_TIMED_OUT, EXIT_KILLED) and elapsed >= timeout * TIMEOUT_SLACK


def _exit_status(completed: asyncssh.SSHCompletedProcess) -> int:
    if completed.exit_status is not None and completed.exit_status >= 0:
        return int(completed.exit_status)
    if completed.exit_signal is not None:
        return EXIT_KILLED
    return 255


def _bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    return str(data or "").encode()


def _reason(e: BaseException) -> str:
    if isinstance(e, asyncssh.Error):
        return str(e.reason)
    return e.strerror or str(e) if isinstance(e, OSError) else str(e)
