"""The home tab on real signed Slack requests (scripted cluster, fake Slack): drawn when a
person opens it, only with what their policy lets them see; Approve/Deny only where their
decision counts, deciding as the card does; refreshed after requests, runs and alerts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from habot.approvals.model import State
from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack, block_kit_problems
from tests.slack.flows import (
    CHANNEL,
    home_tabs,
    open_home,
    request_card,
    resource_failed,
    wait_card,
)
from tests.slack.harness import Bot, click_payload, make_bot, post_click, post_event, start_http

POLICY = {
    "viewers": ["UVIEW", "UASK", "UBOB", "UOUT"],
    "requesters": ["UASK"],
    "approvers": ["UBOB"],
}


@pytest.fixture
def cluster() -> Scene:
    return scene(allowed_channels=[CHANNEL], capture="lab_nodo1_stopped.xml", policy=POLICY)


@pytest.fixture
async def bot(cluster: Scene, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    fake_slack.groups[CHANNEL] = ["UVIEW", "UASK", "UBOB", "UNOBODY"]  # UOUT is not in it
    the_bot = await start_http(
        make_bot(cluster.config, fake_slack, ops=cluster.ops, clock=cluster.clock)
    )
    the_bot.inner.tabs.settle_s = 0.05
    yield the_bot
    await the_bot.stop()


def text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in view["blocks"]
        for e in b.get("elements", [])
        if e.get("type") == "button"
    ]


async def test_the_tab_shows_each_cluster_at_a_glance_to_a_viewer(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    view = await open_home(bot, session, "UVIEW")
    assert view["type"] == "home"
    assert block_kit_problems(view) == []
    shown = text(view)
    assert "*mycluster*" in shown
    assert "nodo1: offline" in shown
    assert "WebData-clone: 1 of 2 instances stopped" in shown
    assert buttons(view) == []


async def test_who_may_not_view_sees_no_cluster(bot: Bot, session: aiohttp.ClientSession) -> None:
    for user in ("UNOBODY", "UOUT"):  # in the channel but no viewer; a viewer not in it
        shown = text(await open_home(bot, session, user))
        assert "mycluster" not in shown
        assert "There is no cluster here you may view" in shown
    await post_event(session, bot, {"type": "app_home_opened", "user": "UVIEW", "tab": "messages"})
    assert home_tabs(bot, "UVIEW") == []  # the messages tab is not drawn


async def test_a_waiting_request_has_buttons_only_for_who_may_decide_and_approve_runs_it(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    card = await request_card(session, bot, "runbook cleanup resource=WebSite", user="UASK")
    [request] = bot.workflow.store.requests_in(State.REQUESTED)
    approver = await open_home(bot, session, "UBOB")
    assert buttons(approver) == [
        ("habot_home_approve", request.id),
        ("habot_home_deny", request.id),
    ]
    assert block_kit_problems(approver) == []
    for user in ("UVIEW", "UASK"):  # may not approve; may not approve their own
        view = await open_home(bot, session, user)
        assert f"request `{request.id}`" in text(view)
        assert buttons(view) == []
    cluster.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    message = {"ts": "1", "blocks": approver["blocks"]}
    click = click_payload(bot.fake, message, "DHOME", "habot_home_approve", "UBOB")
    click.pop("channel")
    click.pop("message")
    click["container"] = {"type": "view", "view_id": "VHOMEUBOB"}
    assert await post_click(session, bot, click) == 200
    await wait_card(bot, card, "succeeded", timeout=30)  # the card in its channel follows
    events = [e.event for e in bot.workflow.store.audit_log(50)]
    assert "approved" in events
    after = await bot.fake.wait_for(
        "UBOB's tab without the request",
        lambda: [v for v in home_tabs(bot, "UBOB") if "habot_home_approve" not in text(v)],
    )
    assert request.id not in text(after[-1])


async def test_a_forged_decision_from_the_tab_is_refused_on_the_tab(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    card = await request_card(session, bot, "runbook cleanup resource=WebSite", user="UASK")
    [request] = bot.workflow.store.requests_in(State.REQUESTED)
    view = await open_home(bot, session, "UBOB")
    click = click_payload(
        bot.fake, {"ts": "1", "blocks": view["blocks"]}, "DHOME", "habot_home_approve", "UVIEW"
    )
    before = len(home_tabs(bot, "UVIEW"))
    await post_click(session, bot, click)
    told = await bot.fake.wait_for("a notice", lambda: home_tabs(bot, "UVIEW")[before:])
    assert "you may not approve here" in text(told[-1])
    assert bot.workflow.store.request(request.id).state is State.REQUESTED  # type: ignore[union-attr]
    deny = click_payload(
        bot.fake, {"ts": "1", "blocks": view["blocks"]}, "DHOME", "habot_home_deny", "UBOB"
    )
    await post_click(session, bot, deny)
    await wait_card(bot, card, "denied", timeout=30)


async def test_the_tabs_of_recent_viewers_follow_requests_and_alerts(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await open_home(bot, session, "UVIEW")
    await request_card(session, bot, "runbook cleanup resource=WebSite", user="UASK")
    await bot.fake.wait_for(
        "UVIEW's tab with the request",
        lambda: [v for v in home_tabs(bot, "UVIEW") if "Waiting for approval" in text(v)],
    )
    alert = resource_failed("WebFS", "nodo2")
    bot.workflow.store.save_poll([alert], {})
    await bot.inner.poller.sink.post(alert)  # as a poll delivers it
    await bot.fake.wait_for(
        "UVIEW's tab with the alert",
        lambda: [v for v in home_tabs(bot, "UVIEW") if "WebFS failed on nodo2" in text(v)],
    )


async def test_a_cluster_that_answers_anywhere_is_shown_to_its_viewers_only(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    anywhere = scene(allowed_channels="any", policy={"viewers": ["UVIEW"]})
    bot = await start_http(
        make_bot(anywhere.config, fake_slack, ops=anywhere.ops, clock=anywhere.clock)
    )
    try:
        assert "*mycluster*" in text(await open_home(bot, session, "UVIEW"))
        assert "mycluster" not in text(await open_home(bot, session, "UNOBODY"))
        assert fake_slack.calls_to("conversations.members") == []  # no channel to be in
    finally:
        await bot.stop()


async def test_a_stop_drops_a_refresh_still_settling(bot: Bot) -> None:
    """A change schedules one refresh of every recent viewer's tab after a short settling
    time; a stop in between drops it (tabs are drawn afresh when opened) instead of waiting."""
    tabs = bot.inner.tabs
    await tabs.home.opened("UBOB")
    tabs.changed()
    await bot.jobs.wait_idle()
    assert tabs.published == 1  # the false friend: without a stop, it is published
    tabs.changed()
    tabs.stop()
    await bot.jobs.wait_idle()
    assert tabs.published == 1
