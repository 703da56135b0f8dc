"""A private directory on a node for a run's own files (shadow CIBs): `mktemp -d` makes it
0700 under a name nobody can guess, and it is removed whatever the outcome."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from habot.errors import TransportError
from habot.ssh.transport import NodeAddress, Transport

MKTEMP = ("mktemp", "-d", "/tmp/habot.XXXXXXXXXX")
_MADE = re.compile(r"/tmp/habot\.[A-Za-z0-9]{10}")


def made_dir(node: str, rc: int | None, output: str) -> str:
    """The directory `mktemp -d` made, checked to be what was asked for."""
    path = output.strip()
    if rc != 0 or not _MADE.fullmatch(path):
        raise TransportError(
            node, f"cannot make a private directory (mktemp rc {rc}): {path[-200:]}"
        )
    return path


def removal(path: str) -> tuple[str, ...]:
    if not _MADE.fullmatch(path):
        raise ValueError(f"not a habot scratch directory: {path!r}")
    return ("rm", "-rf", "--", path)


@asynccontextmanager
async def scratch_dir(
    transport: Transport, node: NodeAddress, *, timeout: float
) -> AsyncIterator[str]:
    made = await transport.run(node, MKTEMP, timeout=timeout)
    path = made_dir(node.name, made.exit_status, made.stdout_text + made.stderr_text)
    try:
        yield path
    finally:
        with suppress(TransportError):  # the node went away: its /tmp is its own to clean
            await transport.run(node, removal(path), timeout=timeout)
