"""A run's progress in its Slack thread: one reply per step, the card updated at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.runbooks.engine import StepOutcome
from habot.runbooks.plan import PlannedStep
from habot.service.pauses import Pauses
from habot.service.pauses import outcome as pause_outcome
from habot.slack import approval_blocks
from habot.slack.blocks import escape

log = logging.getLogger(__name__)
FILE_OVER = 2500  # characters of output above which the whole output goes up as a file


@dataclass
class ThreadReporter:
    client: AsyncWebClient
    channel: str
    thread_ts: str
    pauses: Pauses | None = None  # where a paused run's answer comes from
    request_id: str = ""

    async def pause(self, index: int, step: PlannedStep) -> tuple[bool, str]:
        """The step's words in the thread with Continue and Abort; the answer, from whichever
        replica took the click, read from the store; the message then says who answered."""
        if self.pauses is None:
            return False, "nobody can answer a pause here"
        value = f"{self.request_id}|{index}"
        text = f":raised_hand: *{index}. {escape(step.name)}*: {escape(step.text)}"
        posted = None
        try:
            posted = await self.client.chat_postMessage(
                channel=self.channel,
                thread_ts=self.thread_ts,
                text=text,
                blocks=approval_blocks.pause_blocks(text, value, step.timeout),
            )
        except SlackApiError as e:  # nobody could click: it times out, and says so
            log.warning("could not post the pause: %s", e.response.get("error"))
        choice, user = await self.pauses.wait(self.request_id, index, step.timeout)
        go_on, detail = pause_outcome(choice, user, step.timeout)  # plain: steps are escaped
        if posted is not None:
            shown = pause_outcome(choice, f"<@{user}>", step.timeout)[1] if user else detail
            try:
                await self.client.chat_update(
                    channel=self.channel, ts=str(posted["ts"]), text=f"{text}\n{shown}"
                )
            except SlackApiError as e:
                log.warning("could not update the pause: %s", e.response.get("error"))
        return go_on, detail

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
