"""Continue and Abort on a paused run's question: ack at once; the answer is stored once
(the run, on whichever replica runs it, reads it); a refusal is told to the person."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.service import pauses
from habot.slack import approval_blocks
from habot.slack.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(approval_blocks.PAUSE_CONTINUE)(_clicked(deps, pauses.CONTINUE))
    app.action(approval_blocks.PAUSE_ABORT)(_clicked(deps, pauses.ABORT))


def _clicked(deps: Deps, choice: str) -> Any:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        request_id, _, index = str(action.get("value", ""))[:60].partition("|")

        async def work() -> None:
            refusal = (
                "this is not a paused run's question"
                if not index.isdigit()
                else await pauses.Pauses(deps.workflow).answer(
                    request_id, int(index), user, channel, choice
                )
            )
            if refusal and channel:
                await client.chat_postEphemeral(
                    channel=channel, user=user, text=f":no_entry: {refusal}"
                )

        deps.jobs.start(f"{choice} {request_id}", work())

    return clicked
