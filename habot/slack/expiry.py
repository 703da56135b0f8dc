"""Requests nobody decided: expired on schedule, their cards saying so (buttons gone)."""

from __future__ import annotations

import contextlib

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.service.workflow import Workflow
from habot.slack import approval_blocks

SWEEP_S = 60


async def expire_waiting(workflow: Workflow, client: AsyncWebClient) -> list[str]:
    """Expire every waiting request past its expiry; their cards say so. Returns their ids."""
    expired = await workflow.expire_due()
    for request in (r for r in expired if r.message_ts):
        blocks = approval_blocks.updated_card(
            await workflow.card(request.id), request, workflow.destructive(request)
        )
        # The request is expired either way; a click on an old card says so.
        with contextlib.suppress(SlackApiError):
            await client.chat_update(
                channel=request.channel,
                ts=request.message_ts,
                text=f"{request.runbook}: expired",
                blocks=blocks,
            )
    return [r.id for r in expired]
