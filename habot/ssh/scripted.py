"""A scripted Transport for tests and benchmarks (in the spirit of pcs's runner mock and
httpx's MockTransport): it expects each node's commands in order (nodes may interleave) and
answers with recorded outputs.

    t = ScriptedTransport()
    t.expect("nodo1", ("pcs", "resource", "move", "VirtualIP", "nodo2"))
    t.answer(None, STATUS, stdout=crm_mon_xml)   # any node, any number of times
    ... run the code under test on `t` ...
    t.assert_done()

An unexpected command fails loudly: "command 2 expected nodo1: pcs ... but was nodo2: ...".
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from habot.errors import TransportError
from habot.ssh.transport import CommandResult, NodeAddress

ANY = "\x00any\x00"  # in an expected argv: matches any one element


@dataclass
class Reply:
    node: str | None  # None: any node
    argv: tuple[str, ...]
    rc: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    raises: TransportError | None = None
    delay: float = 0.0
    before: Callable[[NodeAddress, tuple[str, ...]], None] | None = None  # runs on arrival

    def matches(self, node: NodeAddress, argv: Sequence[str]) -> bool:
        if self.node is not None and self.node != node.name:
            return False
        return len(argv) == len(self.argv) and all(
            want in (ANY, got) for want, got in zip(self.argv, argv, strict=True)
        )

    def describe(self) -> str:
        return f"{self.node or 'any node'}: {' '.join('*' if a == ANY else a for a in self.argv)}"


@dataclass
class ScriptedTransport:
    script: deque[Reply] = field(default_factory=deque)
    standing: list[Reply] = field(default_factory=list)
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    cancelled: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    reads: int = 0  # how many of the calls came through `read`
    # per node, one entry per `follow` call, in order: the lines it yields before it ends,
    # or the error it raises after them; with none left, a follow waits, like a quiet journal
    streams: dict[str, deque[tuple[list[bytes], TransportError | None]]] = field(
        default_factory=dict
    )
    followed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def stream(
        self, node: str, lines: list[bytes], then: TransportError | None = None
    ) -> ScriptedTransport:
        """The next follow on `node`: its channel opens, it yields `lines`, then ends (or
        raises `then`); with no lines and an error, the channel never opens."""
        self.streams.setdefault(node, deque()).append((lines, then))
        return self

    async def follow(
        self, node: NodeAddress, argv: Sequence[str], *, limit_s: float
    ) -> AsyncIterator[bytes]:
        self.followed.append((node.name, tuple(argv)))
        queue = self.streams.get(node.name)
        if not queue:
            yield b""  # open, and nothing happens on this node, until cancelled
            await asyncio.Event().wait()
            return
        lines, then = queue.popleft()
        if then is not None and not lines:
            raise then  # no channel: the node does not answer
        yield b""  # open
        for line in lines:
            await asyncio.sleep(0)
            yield line
        if then is not None:
            raise then

    def expect(self, node: str | None, argv: Sequence[str], **reply: object) -> ScriptedTransport:
        """The next command, in order."""
        self.script.append(Reply(node, tuple(argv), **reply))  # type: ignore[arg-type]
        return self

    def answer(self, node: str | None, argv: Sequence[str], **reply: object) -> ScriptedTransport:
        """A command that may come any number of times, in any order (status reads)."""
        self.standing.append(Reply(node, tuple(argv), **reply))  # type: ignore[arg-type]
        return self

    async def run(self, node: NodeAddress, argv: Sequence[str], *, timeout: float) -> CommandResult:
        argv = tuple(argv)
        self.calls.append((node.name, argv))
        reply = self._reply(node, argv)
        if reply.before is not None:
            reply.before(node, argv)
        try:
            await asyncio.sleep(reply.delay)
        except asyncio.CancelledError:
            self.cancelled.append((node.name, argv))
            raise
        if reply.raises is not None:
            raise reply.raises
        return CommandResult(node.name, argv, reply.rc, reply.stdout, reply.stderr, reply.delay)

    async def read(
        self, node: NodeAddress, argv: Sequence[str], *, timeout: float
    ) -> CommandResult:
        self.reads += 1
        return await self.run(node, argv, timeout=timeout)

    def _reply(self, node: NodeAddress, argv: tuple[str, ...]) -> Reply:
        """The next expected command of this node (nodes run concurrently; each node's
        commands come in order), else a standing answer."""
        nexts = [r for r in self.script if r.node in (None, node.name)]
        if nexts and nexts[0].matches(node, argv):
            self.script.remove(nexts[0])
            return nexts[0]
        for reply in self.standing:
            if reply.matches(node, argv):
                return reply
        number = len(self.calls)
        wanted = nexts[0].describe() if nexts else "no more commands"
        message = f"command {number} expected {wanted} but was {node.name}: {' '.join(argv)}"
        self.unexpected.append(message)
        raise AssertionError(message)

    def assert_done(self) -> None:
        assert not self.unexpected, self.unexpected
        assert not self.script, "expected but never run: " + "; ".join(
            r.describe() for r in self.script
        )

    def ran(self, node: str | None = None) -> list[tuple[str, ...]]:
        return [argv for name, argv in self.calls if node in (None, name)]

    async def close(self) -> None:
        return None
