"""Requests nobody decided: expired on schedule, their cards saying so (buttons gone)."""

from __future__ import annotations

import contextlib

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.approvals.model import State
from habot.runbooks.loader import by_name
from habot.service.workflow import Workflow
from habot.slack import approval_blocks

SWEEP_S = 60


async def expire_waiting(workflow: Workflow, client: AsyncWebClient) -> list[str]:
    """Expire every waiting request past its expiry; returns their ids."""
    expired_ids = []
    for request in workflow.store.requests_in(State.REQUESTED):
        expired = workflow.expire(request.id)
        if expired is None:
            continue
        expired_ids.append(expired.id)
        if not expired.message_ts:
            continue
        runbook = by_name(workflow.runbooks, expired.runbook)
        blocks = approval_blocks.updated_card(
            workflow.store.card(expired.id), expired, runbook.destructive if runbook else False
        )
        # The request is expired either way; a click on an old card says so.
        with contextlib.suppress(SlackApiError):
            await client.chat_update(
                channel=expired.channel,
                ts=expired.message_ts,
                text=f"{expired.runbook}: expired",
                blocks=blocks,
            )
    return expired_ids
