"""A run's progress in its Slack thread: one reply per step, the card updated at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.runbooks.engine import StepOutcome
from habot.runbooks.plan import PlannedStep
from habot.slack import approval_blocks

log = logging.getLogger(__name__)
FILE_OVER = 2500  # characters of output above which the whole output goes up as a file


@dataclass
class ThreadReporter:
    client: AsyncWebClient
    channel: str
    thread_ts: str

    async def step_started(self, index: int, step: PlannedStep, rollback: bool) -> None:
        return None  # one message per step, when it ends: Slack allows ~1 message/s/channel

    async def step_finished(self, outcome: StepOutcome) -> None:
        text, blocks = approval_blocks.step_post(outcome)
        await self.say(text, blocks)
        for record in outcome.commands:
            if len(record.output) > FILE_OVER:
                await self._upload(f"{outcome.index}-{record.node}.txt", record.output)

    async def say(self, text: str, blocks: list[dict[str, object]] | None = None) -> None:
        try:
            await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks
            )
        except SlackApiError as e:  # the run goes on; the audit log has every step
            log.warning("could not post to the thread: %s", e.response.get("error"))

    async def _upload(self, name: str, content: str) -> None:
        try:
            await self.client.files_upload_v2(
                channel=self.channel,
                thread_ts=self.thread_ts,
                filename=name,
                content=content,
                title=f"full output: {name}",
            )
        except SlackApiError as e:
            log.warning("could not upload %s: %s", name, e.response.get("error"))
