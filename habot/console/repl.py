"""`habot console`: type `/ha ...` at a prompt; answers come from the same use cases as Slack."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from habot.commands.grammar import Help, Status, parse
from habot.console import text
from habot.errors import ClusterError, ClusterUnreachable, UsageError
from habot.ops import Ops

PROMPT = "habot> "


async def answer(ops: Ops, line: str) -> str:
    """The console's reply to one line; never raises for anything a user can type."""
    try:
        command = parse(line)
        if isinstance(command, Help):
            return text.usage()
        if isinstance(command, Status):
            return text.status(await ops.status(command.cluster))
    except UsageError as e:
        return text.usage(str(e))
    except ClusterUnreachable as e:
        return text.unreachable(e)
    except ClusterError as e:
        return f"error: {e}"
    raise AssertionError(f"unhandled command {command!r}")


async def run(ops: Ops, write: Callable[[str], None]) -> int:
    interactive = sys.stdin.isatty()
    names = ", ".join(
        f"{c.name} ({', '.join(n.name for n in c.config.nodes)})" for c in ops.clusters.values()
    )
    write(f"habot console on {names}. Type /ha help; Ctrl-D to quit.\n")
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            write(PROMPT)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        line = line.strip()
        if line in ("quit", "exit"):
            break
        if line:
            write(await answer(ops, line) + "\n")
    return 0
