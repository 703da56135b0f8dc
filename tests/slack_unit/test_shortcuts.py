"""Message shortcuts on real signed Slack requests (scripted cluster, fake Slack): "Ask habot
why" answers in the message's thread for a viewer and refuses anyone else; "Run the remedy…"
opens an alert card's remedy form, prefilled, and says so when the message is not a card."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fakes.cluster import Scene, scene, scored
from tests.slack.flows import (
    CHANNEL,
    ephemerals_to,
    form,
    inputs,
    resource_failed,
    stored_card,
)
from tests.slack.harness import Bot, message_shortcut, post_payload


@pytest.fixture
def cluster() -> Scene:
    return scored(
        scene(
            allowed_channels=[CHANNEL],
            capture="lab_nodo1_stopped.xml",
            policy={"viewers": ["UVIEW", "UASK"], "requesters": ["UASK"]},
        )
    )


def message(text: str, ts: str = "1700000100.000200", **more: Any) -> dict[str, Any]:
    return {"type": "message", "user": "UCAROL", "text": text, "ts": ts, **more}


async def use(
    session: aiohttp.ClientSession, bot: Bot, callback: str, msg: dict[str, Any], user: str
) -> None:
    status, acked = await post_payload(session, bot, message_shortcut(callback, msg, CHANNEL, user))
    assert status == 200
    assert acked is None


def thread_answers(bot: Bot) -> list[dict[str, Any]]:
    return [c.params for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]


async def test_ask_why_answers_in_the_thread_of_a_persons_message(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await use(session, bot, "habot_why", message("is `WebSite` down again?"), "UVIEW")
    [said] = await bot.fake.wait_for("the answer", lambda: thread_answers(bot))
    assert (said["channel"], said["thread_ts"]) == (CHANNEL, "1700000100.000200")
    assert "<@UVIEW> asked why" in said["text"]
    assert "WebSite runs on nodo2" in said["text"]
    assert "node nodo1 is offline" in said["text"]
    reply = message("and nodo1?", ts="1700000200.000300", thread_ts="1700000100.000200")
    await use(session, bot, "habot_why", reply, "UVIEW")
    answers = await bot.fake.wait_for("two answers", lambda: thread_answers(bot)[1:])
    assert answers[0]["thread_ts"] == "1700000100.000200"  # the parent's thread
    assert "nodo1 is offline (mycluster)" in answers[0]["text"]
    assert "/ha whatif node-fail nodo1" in answers[0]["text"]


async def test_ask_why_on_a_message_naming_nothing_or_by_someone_who_may_not_view(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await use(session, bot, "habot_why", message("lunch? WebSiteOld is not ours"), "UVIEW")
    await use(session, bot, "habot_why", message("is WebSite down?"), "UNOBODY")
    await bot.fake.wait_for(
        "two refusals", lambda: len(bot.fake.calls_to("chat.postEphemeral")) == 2 or None
    )
    assert "names no resource or node of mycluster" in ephemerals_to(bot, "UVIEW")[0]
    assert "you may not view here" in ephemerals_to(bot, "UNOBODY")[0]
    assert thread_answers(bot) == []


def alert_card(bot: Bot, ts: str) -> dict[str, Any]:
    """A resource-failed alert, stored as posted in CHANNEL at `ts`; its card as Slack has it."""
    return stored_card(bot, resource_failed("WebSite", "nodo2", channel=CHANNEL, ts=ts))


async def test_run_the_remedy_opens_the_remedys_form_prefilled(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    card = alert_card(bot, "1700000300.000400")
    await use(session, bot, "habot_remedy", card, "UASK")
    view = await form(bot)
    assert "*cleanup* on *mycluster*" in str(view["blocks"][0])
    assert inputs(view)["resource"]["initial_option"]["value"] == "WebSite"
    audit = [e.event for e in bot.workflow.store.audit_log(10)]
    assert "alert remedy form" in audit
    await use(session, bot, "habot_why", card, "UVIEW")  # the card names its resource
    [said] = await bot.fake.wait_for("the answer", lambda: thread_answers(bot))
    assert "WebSite runs on nodo2" in said["text"]


async def test_run_the_remedy_refuses_what_is_not_a_card_and_who_may_not_ask(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    await use(session, bot, "habot_remedy", message("WebSite failed"), "UASK")
    card = alert_card(bot, "1700000400.000500")
    await use(session, bot, "habot_remedy", card, "UVIEW")
    await bot.fake.wait_for(
        "two refusals", lambda: len(bot.fake.calls_to("chat.postEphemeral")) == 2 or None
    )
    assert "this message is not one" in ephemerals_to(bot, "UASK")[0]
    assert "you may not request here (cleanup)" in ephemerals_to(bot, "UVIEW")[0]
    assert bot.fake.calls_to("views.open") == []
