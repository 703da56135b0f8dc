"""Driving a runbook through Slack as people do: a request, the card, the clicks."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from habot.alerts.lifecycle import Alert
from habot.slack import alert_blocks
from tests.fakes.cluster import NOW
from tests.fakes.slack_server import Call
from tests.slack.harness import Bot, click_payload, post_click, post_command, post_event

CHANNEL = "COPS"


async def answer(bot: Bot, session: aiohttp.ClientSession, text: str, user: str) -> str:
    """`/ha TEXT` from `user`: the answer habot sent to the command's response URL."""
    status, _body, payload = await post_command(session, bot, text, user=user)
    assert status == 200
    key = payload["response_url"].rsplit("/", 1)[1]
    found = await bot.fake.wait_for(
        f"the answer to {text!r}", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    return str(found[0].get("text", "")) + str(found[0].get("blocks", ""))


async def request_card(
    session: aiohttp.ClientSession, bot: Bot, text: str, user: str = "UALICE"
) -> dict[str, Any]:
    """Post `/ha TEXT` and return the approval card the bot posted (with its ts): its first
    message in the channel since, not in a thread (an earlier run's last words in its thread,
    or an alert card, may come in between)."""
    before = len(bot.fake.calls_to("chat.postMessage"))
    status, _, _ = await post_command(session, bot, text, user=user, channel=CHANNEL)
    assert status == 200
    posts = await bot.fake.wait_for(
        "the approval card",
        lambda: [
            c
            for c in bot.fake.calls_to("chat.postMessage")[before:]
            if c.params.get("channel") == CHANNEL and not c.params.get("thread_ts")
        ],
    )
    call: Call = posts[0]
    return {
        "ts": call.answer["ts"],
        "blocks": call.params["blocks"],
        "text": call.params.get("text", ""),
    }


async def click(
    session: aiohttp.ClientSession, bot: Bot, card: dict[str, Any], action: str, user: str
) -> int:
    return await post_click(session, bot, click_payload(bot.fake, card, CHANNEL, action, user))


def card_updates(bot: Bot, card: dict[str, Any]) -> list[str]:
    return [
        json.dumps(c.params.get("blocks", "")) + c.params.get("text", "")
        for c in bot.fake.calls_to("chat.update")
        if c.params.get("ts") == card["ts"]
    ]


async def wait_card(bot: Bot, card: dict[str, Any], text: str, timeout: float = 240) -> str:
    found = await bot.fake.wait_for(
        f"the card to say {text!r}",
        lambda: [u for u in card_updates(bot, card) if text in u],
        timeout=timeout,
    )
    return str(found[-1])


def ephemerals_to(bot: Bot, user: str) -> list[str]:
    return [
        c.params.get("text", "")
        for c in bot.fake.calls_to("chat.postEphemeral")
        if c.params.get("user") == user
    ]


def thread_posts(bot: Bot, card: dict[str, Any]) -> list[str]:
    return [
        c.params.get("text", "")
        for c in bot.fake.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == card["ts"]
    ]


async def form(bot: Bot, before: int = 0) -> dict[str, Any]:
    """The modal as it shows once habot filled it: the views.update after views.open number
    `before` (0: the first opened)."""
    told = [c.params.get("text") for c in bot.fake.calls_to("chat.postEphemeral")]
    opened = await bot.fake.wait_for(
        f"a modal to open (told so far: {told})",
        lambda: bot.fake.calls_to("views.open")[before:],
        timeout=10,
    )
    view_id = opened[0].answer["view"]["id"]
    await bot.fake.wait_for(
        "the modal to be filled",
        lambda: [
            c for c in bot.fake.calls_to("views.update") if c.params.get("view_id") == view_id
        ],
    )
    return bot.fake.views[view_id]


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """parameter -> its input's element."""
    return {
        b["block_id"].split(":", 1)[1]: b["element"]
        for b in view["blocks"]
        if b.get("type") == "input"
    }


def option_values(element: dict[str, Any]) -> list[str]:
    return [o["value"] for o in element.get("options", [])]


def resource_failed(resource: str, node: str, *, channel: str = "", ts: str = "") -> Alert:
    """A resource-failed alert (the rule with a cleanup remedy), posted at (channel, ts) when
    those are given."""
    return Alert(
        key=f"resource-failed|{resource}|{node}",
        cluster="mycluster",
        rule="resource-failed",
        severity="warning",
        title=f"{resource} failed on {node}",
        node=node,
        fields=(("resource", resource), ("node", node), ("operation", "monitor")),
        first_seen=NOW,
        last_seen=NOW,
        channel=channel,
        message_ts=ts,
    )


def stored_card(bot: Bot, alert: Alert) -> dict[str, Any]:
    """`alert` stored as posted; its card as Slack holds it (for a shortcut on it)."""
    bot.workflow.store.save_poll([alert], {})
    rule = bot.inner.deps.catalogue.rule(alert.rule)
    return {"ts": alert.message_ts, "text": "", "blocks": alert_blocks.card(alert, rule)}


def home_tabs(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Every home tab habot published for `user`, oldest first."""
    return [
        c.params["view"] for c in bot.fake.calls_to("views.publish") if c.params["user_id"] == user
    ]


async def open_home(bot: Bot, session: aiohttp.ClientSession, user: str) -> dict[str, Any]:
    """`user` opens habot's home tab: the view habot published for them."""
    before = len(home_tabs(bot, user))
    event = {"type": "app_home_opened", "user": user, "channel": "DHOME", "tab": "home"}
    assert await post_event(session, bot, event) == 200
    found = await bot.fake.wait_for(f"{user}'s tab", lambda: home_tabs(bot, user)[before:])
    return dict(found[-1])
