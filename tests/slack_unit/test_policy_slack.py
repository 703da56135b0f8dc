"""The policy on real signed Slack requests (scripted transport, fake Slack): each dimension
allowed and refused — where, who may see, who may ask, who may approve (a user, a group), how
many, and whether the requester may be one of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from habot.approvals.model import State
from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import CHANNEL, answer, ephemerals_to
from tests.slack.harness import Bot, click_payload, make_bot, post_click, post_command, start_http

POLICY = {
    "viewers": ["UVIEW", "UASK", "UBOB", "UCAROL", "S0SENIOR"],
    "requesters": ["UASK"],
    "runbooks": {"cleanup": {"approvals": 2, "approvers": ["UBOB", "S0SENIOR"]}},
}


@pytest.fixture
def cluster() -> Scene:
    return scene(approvers=["UBOB"], allowed_channels=[CHANNEL, "CWAR"], policy=POLICY)


@pytest.fixture
async def bot(cluster: Scene, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    fake_slack.groups["S0SENIOR"] = ["UCAROL"]
    the_bot = await start_http(
        make_bot(cluster.config, fake_slack, ops=cluster.ops, clock=cluster.clock)
    )
    yield the_bot
    await the_bot.stop()


async def test_who_may_see(bot: Bot, session: aiohttp.ClientSession) -> None:
    assert "mycluster" in await answer(bot, session, "status", "UVIEW")
    refused = await answer(bot, session, "status", "UNOBODY")
    assert "refused by `policy`: you may not view here" in refused
    assert "<@UVIEW>" in refused
    assert "you may not view here" in await answer(bot, session, "audit", "UNOBODY")


async def test_who_may_ask(bot: Bot, cluster: Scene, session: aiohttp.ClientSession) -> None:
    refused = await answer(bot, session, "runbook cleanup resource=WebSite", "UVIEW")
    assert "refused by `policy`: you may not request here (cleanup); who may: <@UASK>" in refused
    assert bot.workflow.store.requests_in(State.REQUESTED) == []
    await post_command(session, bot, "runbook cleanup resource=WebSite", user="UASK")
    await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    assert len(bot.workflow.store.requests_in(State.REQUESTED)) == 1


async def card_of(bot: Bot, session: aiohttp.ClientSession, user: str) -> dict[str, Any]:
    await post_command(session, bot, "runbook cleanup resource=WebSite", user=user)
    posts = await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    return {"ts": posts[0].answer["ts"], "blocks": posts[0].params["blocks"], "text": ""}


async def test_who_may_approve_and_how_many(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    card = await card_of(bot, session, "UASK")
    assert "Needs two distinct approvers" in str(card["blocks"])  # this runbook's policy
    request = bot.workflow.store.requests_in(State.REQUESTED)[0]
    for user in ("UVIEW", "UASK", "UBOB"):  # not an approver; the requester; an approver
        await post_click(
            session, bot, click_payload(bot.fake, card, CHANNEL, "habot_approve", user)
        )
    await bot.fake.wait_for(
        "two refusals", lambda: len(bot.fake.calls_to("chat.postEphemeral")) == 2 or None
    )
    assert "policy.runbooks.cleanup" in ephemerals_to(bot, "UVIEW")[0]
    assert "<@UBOB>, <!subteam^S0SENIOR>" in ephemerals_to(bot, "UVIEW")[0]
    assert "you may not approve here" in ephemerals_to(bot, "UASK")[0]
    await bot.fake.wait_for(
        "one approval",
        lambda: bot.workflow.store.request(request.id).approvals == ("UBOB",),  # type: ignore[union-attr]
    )
    cluster.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    # UCAROL approves through the S0SENIOR group: the second approval runs it
    await post_click(
        session, bot, click_payload(bot.fake, card, CHANNEL, "habot_approve", "UCAROL")
    )
    await bot.fake.wait_for(
        "the run",
        lambda: bot.workflow.store.request(request.id).state is State.SUCCEEDED,  # type: ignore[union-attr]
    )
    cluster.transport.assert_done()


async def test_self_approval_when_the_policy_allows_it(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    policy = {"runbooks": {"cleanup": {"self_approval": True}}}
    s = scene(approvers=["UASK"], allowed_channels=[CHANNEL], policy=policy)
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    try:
        card = await card_of(bot, session, "UASK")
        s.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
        await post_click(
            session, bot, click_payload(fake_slack, card, CHANNEL, "habot_approve", "UASK")
        )
        request = bot.workflow.store.requests_in(State.SUCCEEDED) or await fake_slack.wait_for(
            "the run", lambda: bot.workflow.store.requests_in(State.SUCCEEDED)
        )
        assert request[0].approvals == ("UASK",)
    finally:
        await bot.stop()


async def test_policy_shows_the_effective_rules(bot: Bot, session: aiohttp.ClientSession) -> None:
    text = await answer(bot, session, "policy mycluster cleanup", "UVIEW")
    assert "policy for mycluster / cleanup:" in text
    assert "approvals: 2  (from policy.runbooks.cleanup)" in text
    assert "requesters: <@UASK>  (from policy)" in text
