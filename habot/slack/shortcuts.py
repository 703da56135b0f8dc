"""Message shortcuts: "Ask habot why" on any message that names a resource or node answers
in its thread; "Run the remedy…" on an alert card opens the remedy's form, prefilled. Each
acks at once; the work is a tracked job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.lifecycle import Alert
from habot.errors import HabotError
from habot.service.explain import explain
from habot.service.policy import Actor
from habot.slack import alert_blocks, blocks
from habot.slack.deps import Deps
from habot.slack.failures import FAILURES, said
from habot.slack.form_view import Origin
from habot.slack.forms import ephemeral, open_form
from habot.slack.slash import not_here

log = logging.getLogger(__name__)
WHY = "habot_why"  # callback_ids, as in the manifest
REMEDY = "habot_remedy"
ALERT_BUTTONS = (alert_blocks.RUN, alert_blocks.ACK, alert_blocks.SNOOZE)
TEXT_MAX = 20_000  # of a message read for names


def register(app: AsyncApp, deps: Deps) -> None:
    app.shortcut(WHY)(_listener(deps, _why))
    app.shortcut(REMEDY)(_listener(deps, _remedy))


@dataclass(frozen=True)
class _Shortcut:
    user: str
    channel: str
    trigger: str
    message: dict[str, Any]

    @property
    def actor(self) -> Actor:
        return Actor(self.user, self.channel)

    @property
    def ts(self) -> str:
        return str(self.message.get("ts", ""))

    @property
    def thread(self) -> str:
        """Where an answer goes: the message's thread (its parent's, for a reply)."""
        return str(self.message.get("thread_ts") or self.ts)


Act = Callable[[Deps, AsyncWebClient, _Shortcut], Coroutine[Any, Any, None]]


def _listener(deps: Deps, act: Act) -> Callable[..., Awaitable[None]]:
    async def used(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        shortcut = _Shortcut(
            user=str((body.get("user") or {}).get("id", "")),
            channel=str((body.get("channel") or {}).get("id", "")),
            trigger=str(body.get("trigger_id", "")),
            message=dict(body.get("message") or {}),
        )
        deps.jobs.start(f"shortcut {body.get('callback_id')}", act(deps, client, shortcut))

    return used


async def _why(deps: Deps, client: AsyncWebClient, shortcut: _Shortcut) -> None:
    say = ephemeral(client, shortcut.channel, shortcut.user)
    if not deps.workflow.config.channel_allowed(shortcut.channel):
        await say(not_here(shortcut.channel))
        return
    alert = await _alert_of(deps, shortcut)
    text = words_of(shortcut.message)
    if alert is not None:  # what the alert is about, beside what its card says
        text = " ".join([*alert.field_map.values(), alert.node, text])
    try:
        answer = await explain(
            deps.workflow, text, shortcut.actor, alert.cluster if alert else None
        )
    except HabotError as e:
        await say(f":no_entry: {blocks.escape(str(e))}")
        return
    body = f"<@{shortcut.user}> asked why:\n" + blocks.code_block("\n".join(answer.lines))
    try:
        await client.chat_postMessage(
            channel=shortcut.channel,
            thread_ts=shortcut.thread,
            text=blocks.truncate(body, blocks.SECTION_MAX),
        )
    except FAILURES as e:
        await say(f":warning: the answer could not be posted in the thread ({said(e)})")


async def _remedy(deps: Deps, client: AsyncWebClient, shortcut: _Shortcut) -> None:
    say = ephemeral(client, shortcut.channel, shortcut.user)
    ref = alert_ref(shortcut.message)
    if ref is None:
        await say(
            ":no_entry: Run the remedy… works on habot's alert cards; this message is not one."
        )
        return
    try:
        alert = await deps.alerts.find(ref, shortcut.actor, shortcut.ts)
        runbook, params = await deps.alerts.remedy_form(alert, shortcut.actor)
    except HabotError as e:
        await say(f":no_entry: {e}")
        return
    origin = Origin(alert.cluster, runbook, shortcut.channel)
    await open_form(deps, client, shortcut.trigger, origin, shortcut.actor, say, prefill=params)


async def _alert_of(deps: Deps, shortcut: _Shortcut) -> Alert | None:
    """The alert whose card this is, when it is one (of a cluster the person may view)."""
    ref = alert_ref(shortcut.message)
    if ref is None:
        return None
    try:
        return await deps.alerts.find(ref, shortcut.actor, shortcut.ts)
    except HabotError:
        return None


def alert_ref(message: dict[str, Any]) -> str | None:
    """An alert card's id: from its header (cards since it carries one) or its buttons."""
    for block in message.get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith(alert_blocks.CARD):
            return block_id[len(alert_blocks.CARD) :][:40] or None
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") in ALERT_BUTTONS:
                return str(element.get("value", ""))[:40] or None
    return None


def words_of(message: dict[str, Any]) -> str:
    """A message's text and every text in its blocks."""
    found: list[str] = [str(message.get("text") or "")]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(found)[:TEXT_MAX]
