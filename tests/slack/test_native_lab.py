"""Forms, the home tab and the message shortcuts on the lab, through signed requests against
the fake Slack (views.open, views.update, views.publish, view_submission, block_suggestion,
shortcut, app_home_opened): for a person who may, and for one who may not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from habot.approvals.model import State
from habot.config import HabotConfig, Policy
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import FakeSlack, block_kit_problems
from tests.slack.flows import (
    CHANNEL,
    answer,
    ephemerals_to,
    form,
    inputs,
    open_home,
    option_values,
    resource_failed,
    stored_card,
    wait_card,
)
from tests.slack.harness import (
    Bot,
    click_payload,
    make_bot,
    message_shortcut,
    post_click,
    post_command,
    post_payload,
    start_http,
    submission,
    suggestion,
)

pytestmark = pytest.mark.lab
POLICY = {"viewers": ["UVIEW", "UASK", "UBOB"], "requesters": ["UASK"], "approvers": ["UBOB"]}


@pytest.fixture
async def bot(
    lab_config: HabotConfig, fake_slack: FakeSlack, clock: SkewedClock
) -> AsyncIterator[Bot]:
    config = lab_config.model_copy(
        update={"policy": Policy.model_validate(POLICY), "allowed_channels": (CHANNEL,)}
    )
    fake_slack.groups[CHANNEL] = ["UVIEW", "UASK", "UBOB", "UNOBODY"]
    the_bot = await start_http(make_bot(config, fake_slack, clock=clock))
    the_bot.inner.tabs.settle_s = 0.05
    yield the_bot
    await the_bot.stop()


def blocks_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


async def shortcut(
    session: aiohttp.ClientSession, bot: Bot, callback: str, msg: dict[str, Any], user: str
) -> None:
    status, acked = await post_payload(session, bot, message_shortcut(callback, msg, CHANNEL, user))
    assert (status, acked) == (200, None)


async def test_forms_home_tab_and_shortcuts_on_the_lab(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    # A form: opened at once for who may ask, filled from the lab; refused to anyone else.
    refused = await answer(bot, session, "ban", "UVIEW")
    assert "you may not request here (ban)" in refused
    assert bot.fake.calls_to("views.open") == []
    await post_command(session, bot, "ban", user="UASK")
    view = await form(bot)
    assert block_kit_problems(view) == []
    fields = inputs(view)
    assert {"VirtualIP", "WebSite", "WebFS"} <= set(option_values(fields["resource"]))
    assert option_values(fields["node"]) == ["nodo1", "nodo2"]

    # A menu filtered as the person types, for who may ask only.
    _, found = await post_payload(session, bot, suggestion(view, "resource", "web", "UASK"))
    assert found is not None
    assert [o["value"] for o in found["options"]][:1] == ["WebData"]  # starting with it first
    assert "WebSite" in [o["value"] for o in found["options"]]
    _, none = await post_payload(session, bot, suggestion(view, "resource", "web", "UVIEW"))
    assert none == {"options": []}

    # Bad input: the error against its field, nothing requested; then the good one: a card.
    bad = {"resource": "VirtualIP", "node": "nodo9"}
    _, acked = await post_payload(session, bot, submission(view, "UASK", bad))
    assert acked is not None
    assert acked["response_action"] == "errors"
    assert "no node `nodo9`" in acked["errors"]["p:node"]
    _, forged = await post_payload(session, bot, submission(view, "UVIEW", bad))
    assert forged is not None
    assert forged["response_action"] == "update"
    assert bot.workflow.store.requests_in(State.REQUESTED) == []
    assert bot.fake.calls_to("chat.postMessage") == []
    good = {"resource": "VirtualIP", "node": "nodo2"}
    status, closed = await post_payload(session, bot, submission(view, "UASK", good))
    assert (status, closed) == (200, None)
    posts = await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    card = {"ts": posts[0].answer["ts"], "blocks": posts[0].params["blocks"], "text": ""}
    assert "cli-ban-VirtualIP-on-nodo2" in json.dumps(card["blocks"])  # the real preview
    [request] = bot.workflow.store.requests_in(State.REQUESTED)

    # The home tab: the request with Approve/Deny for the approver only; nothing for others.
    approver = await open_home(bot, session, "UBOB")
    assert block_kit_problems(approver) == []
    assert "nodo1: online" in blocks_text(approver)
    assert f'"value": "{request.id}"' in blocks_text(approver)
    viewer = await open_home(bot, session, "UVIEW")
    assert f"request `{request.id}`" in blocks_text(viewer)
    assert "habot_home_approve" not in blocks_text(viewer)
    assert "mycluster" not in blocks_text(await open_home(bot, session, "UNOBODY"))
    deny = click_payload(
        bot.fake, {"ts": "1", "blocks": approver["blocks"]}, "DHOME", "habot_home_deny", "UBOB"
    )
    assert await post_click(session, bot, deny) == 200
    await wait_card(bot, card, "denied", timeout=30)

    # Ask habot why: answered in the thread for a viewer, refused to anyone else.
    msg = {"type": "message", "text": "is VirtualIP where it should be?", "ts": "1700000500.1"}
    await shortcut(session, bot, "habot_why", msg, "UVIEW")
    await shortcut(session, bot, "habot_why", msg, "UNOBODY")
    answered = await bot.fake.wait_for(
        "the answer in the thread",
        lambda: [
            c.params
            for c in bot.fake.calls_to("chat.postMessage")
            if c.params.get("thread_ts") == "1700000500.1"
        ],
    )
    assert "VirtualIP runs on" in answered[0]["text"]
    await bot.fake.wait_for("the refusal", lambda: ephemerals_to(bot, "UNOBODY"))
    assert "you may not view here" in ephemerals_to(bot, "UNOBODY")[0]

    # Run the remedy… on an alert card: its form, prefilled, for who may ask; refused otherwise.
    card_msg = stored_card(
        bot, resource_failed("WebSite", "nodo1", channel=CHANNEL, ts="1700000600.1")
    )
    await shortcut(session, bot, "habot_remedy", card_msg, "UVIEW")
    await bot.fake.wait_for("the refusal", lambda: ephemerals_to(bot, "UVIEW"))
    assert "you may not request here (cleanup)" in ephemerals_to(bot, "UVIEW")[-1]
    await shortcut(session, bot, "habot_remedy", card_msg, "UASK")
    remedy = await form(bot, before=1)
    assert inputs(remedy)["resource"]["initial_option"]["value"] == "WebSite"
    assert "WebSite" in option_values(inputs(remedy)["resource"])
