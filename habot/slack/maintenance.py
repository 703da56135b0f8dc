"""Maintenance windows in Slack: `/ha maintenance start|stop`, the window's message (its
thread takes the alerts about what it touches), a reminder before it lifts itself, and a
summary at its end, broadcast to the channel."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.windows import REMIND_BEFORE_S, Window, WindowState
from habot.approvals.schedule import at_text
from habot.commands.grammar import Maintain
from habot.service.policy import Actor
from habot.slack.blocks import escape
from habot.slack.deps import Deps
from habot.slack.failures import said

log = logging.getLogger(__name__)
TICK_S = 30  # how often each replica looks for windows to end or remind of


def opened_text(w: Window) -> str:
    why = f": {escape(w.reason)}" if w.reason else ""
    return (
        f":construction: *Maintenance on {escape(w.cluster)}* ({escape(w.scope)}) until "
        f"{at_text(w.ends)}, by <@{w.opened_by}>{why}\n"
        f"Alerts about {escape(w.scope)} are told in this thread, not posted as new cards; "
        "everything else still alerts. `/ha maintenance stop` ends it; it lifts itself at "
        f"{at_text(w.ends)}."
    )


def ended_text(w: Window) -> str:
    by = f"by <@{w.ended_by}>" if w.ended_by else "its time was up"
    return (
        f":white_check_mark: *Maintenance on {escape(w.cluster)}* ({escape(w.scope)}) "
        f"ended at {at_text(w.ended_at)} ({by})"
    )


async def answer(
    deps: Deps, command: Maintain, respond: AsyncRespond, client: AsyncWebClient, actor: Actor
) -> None:
    maintenance = deps.maintenance
    if command.action == "start":
        window = await maintenance.start(
            command.cluster,
            actor,
            node=command.node,
            resource=command.resource,
            for_s=command.for_s,
            reason=command.reason,
        )
        posted = await client.chat_postMessage(channel=actor.channel, text=opened_text(window))
        channel = str(posted.get("channel") or actor.channel)
        placed = await maintenance.posted(window, channel, posted["ts"])
        if placed.state is WindowState.ENDED:  # stopped before its message was posted
            await close(deps, client, placed)
        deps.changed()
        return
    if command.action == "stop":
        for window in await maintenance.stop(command.cluster, actor):
            await close(deps, client, window)
        deps.changed()
        await respond(
            response_type="ephemeral", text="maintenance ended; its summary is in its thread"
        )
        return
    found = await maintenance.open_windows(actor)
    lines = [
        f"• {escape(w.cluster)} ({escape(w.scope)}) until {at_text(w.ends)}, by <@{w.opened_by}>"
        + (f": {escape(w.reason)}" if w.reason else "")
        for w in found
    ]
    await respond(
        response_type="ephemeral",
        text="\n".join(lines) or "No maintenance window is open.",
    )


async def close(deps: Deps, client: AsyncWebClient, window: Window) -> None:
    """A window ended: its summary in its thread (and the channel), its message says so."""
    lines = await deps.maintenance.summary(window)
    if not window.ts:
        return
    try:
        await client.chat_postMessage(
            channel=window.channel,
            thread_ts=window.ts,
            reply_broadcast=True,
            text=ended_text(window) + "\n" + escape("\n".join(lines)),
        )
        await client.chat_update(channel=window.channel, ts=window.ts, text=ended_text(window))
    except SlackApiError as e:
        log.warning("maintenance %s: its end not told: %s", window.id, said(e))


async def tick(deps: Deps, client: AsyncWebClient) -> list[str]:
    """Windows whose time is up, ended with their summary; reminders before that."""
    ended, remind = await deps.maintenance.due()
    for window in ended:
        await close(deps, client, window)
    for window in remind:
        if not window.ts:
            continue
        try:
            await client.chat_postMessage(
                channel=window.channel,
                thread_ts=window.ts,
                text=(
                    f"<@{window.opened_by}> this window lifts itself at {at_text(window.ends)} "
                    f"(in {REMIND_BEFORE_S // 60} minutes): alerts about {escape(window.scope)} "
                    "will be posted as cards again. Start a new one if the work goes on."
                ),
            )
        except SlackApiError as e:
            log.warning("maintenance %s: reminder not told: %s", window.id, said(e))
    if ended:
        deps.changed()
    return [w.id for w in (*ended, *remind)]
