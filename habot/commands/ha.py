"""The `/ha` slash command listener: parse, ack at once, hand the work to a tracked job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from habot.commands.grammar import Command, Help, Status, parse
from habot.errors import ClusterError, ClusterUnreachable, UsageError
from habot.jobs import Jobs
from habot.ops import Ops
from habot.slack import blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deps:
    ops: Ops
    jobs: Jobs
    allowed_channels: tuple[str, ...] = ()


def register(app: AsyncApp, deps: Deps) -> None:
    app.command("/ha")(_listener(deps))


def _listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def ha(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        refusal, parsed = _check(deps, command)
        if parsed is None or isinstance(parsed, Help):
            await ack(response_type="ephemeral", text=refusal or blocks.usage())
            return
        await ack()
        deps.jobs.start(f"/ha {command.get('text', '')}", _run(deps, parsed, respond))

    return ha


def _check(deps: Deps, command: dict[str, Any]) -> tuple[str | None, Command | None]:
    """Parse and authorise without raising: (refusal text, command)."""
    channel = str(command.get("channel_id", ""))
    if deps.allowed_channels and channel not in deps.allowed_channels:
        return "habot is not enabled in this channel.", None
    try:
        return None, parse(str(command.get("text", "")))
    except UsageError as e:
        return blocks.usage(f":warning: {blocks.escape(str(e))}"), None


async def _run(deps: Deps, command: Command, respond: AsyncRespond) -> None:
    try:
        if isinstance(command, Status):
            report = await deps.ops.status(command.cluster)
            await respond(
                response_type="in_channel",
                text=blocks.status_text(report),
                blocks=blocks.status(report),
            )
    except UsageError as e:
        await respond(response_type="ephemeral", text=blocks.usage(f":warning: {e}"))
    except ClusterUnreachable as e:
        await respond(response_type="in_channel", text=str(e), blocks=blocks.unreachable(e))
    except ClusterError as e:
        await respond(response_type="ephemeral", text=blocks.error(str(e)))
