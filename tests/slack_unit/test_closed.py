"""Closed by default, on signed Slack requests into the real endpoint (scripted transport,
no lab): channels, the card's own message, alert buttons, usage errors instead of crashes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from habot.alerts.sources import JournalSource
from habot.approvals.model import State
from tests.fakes.cluster import NO_STONITH, NOW, Scene, journal, scene
from tests.slack.flows import CHANNEL, ephemerals_to
from tests.slack.harness import Bot, click_payload, post_click, post_command

OTHER = "CRANDOM"


@pytest.fixture
def cluster() -> Scene:
    return scene(
        approvers=["UBOB"], allowed_channels=[CHANNEL, "CALERTS"], capture="lab_seed_no_stonith.xml"
    )


async def test_a_channel_not_allowed_gets_a_refusal_and_nothing_runs(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await post_command(session, bot, "status", channel=OTHER)
    assert status == 200
    assert "not enabled in this channel (CRANDOM)" in body
    assert cluster.transport.calls == []


async def test_audit_with_a_strange_number_is_a_usage_error(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    for text in ("audit ²", "audit ٣", "audit 99999999999999999999", "audit -1"):
        status, body, _ = await post_command(session, bot, text)
        assert status == 200, text
        assert "usage: `/ha audit [N]`" in body


async def card(bot: Bot, session: aiohttp.ClientSession, text: str) -> dict[str, Any]:
    before = len(bot.fake.calls_to("chat.postMessage"))
    await post_command(session, bot, text)
    posts = await bot.fake.wait_for(
        "the card", lambda: bot.fake.calls_to("chat.postMessage")[before:]
    )
    return {"ts": posts[0].answer["ts"], "blocks": posts[0].params["blocks"], "text": ""}


async def approved_and_run(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession, card: dict[str, Any], request: str
) -> None:
    """UBOB approves `/ha runbook cleanup resource=WebSite` on `card`; it runs, and succeeds."""
    cluster.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    payload = click_payload(bot.fake, card, CHANNEL, "habot_approve", "UBOB")
    assert await post_click(session, bot, payload) == 200
    await bot.fake.wait_for(
        "the run",
        lambda: bot.workflow.store.request(request).state is State.SUCCEEDED,  # type: ignore[union-attr]
    )
    cluster.transport.assert_done()


def expect_no_stonith_logged(cluster: Scene) -> None:
    """The next poll reads the missing-STONITH error in nodo1's journal, nothing in nodo2's."""
    since = NOW - cluster.config.clusters["mycluster"].alerts.lookback_s
    for node in ("nodo1", "nodo2"):
        messages = NO_STONITH if node == "nodo1" else []
        cluster.transport.expect(
            node, JournalSource().argv(None, since), stdout=journal(node, messages)
        )


async def test_an_approval_counts_only_on_the_cards_own_message(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    request_card = await card(bot, session, "runbook cleanup resource=WebSite")
    request = bot.workflow.store.requests_in(State.REQUESTED)[0]
    elsewhere = {**request_card, "ts": "1700000999.000100"}  # a copy of its buttons, elsewhere
    payload = click_payload(bot.fake, elsewhere, CHANNEL, "habot_approve", "UBOB")
    assert await post_click(session, bot, payload) == 200
    refused = await bot.fake.wait_for(
        "the refusal", lambda: [t for t in ephemerals_to(bot, "UBOB") if "own card" in t]
    )
    assert "a decision counts only when clicked on the request's own card" in refused[0]
    other_channel = click_payload(bot.fake, request_card, OTHER, "habot_approve", "UBOB")
    assert await post_click(session, bot, other_channel) == 200
    await bot.fake.wait_for(
        "the channel refusal",
        lambda: [t for t in ephemerals_to(bot, "UBOB") if "not enabled in this channel" in t],
    )
    assert bot.workflow.store.request(request.id).state is State.REQUESTED  # type: ignore[union-attr]
    await approved_and_run(bot, cluster, session, request_card, request.id)
    events = [e.event for e in bot.workflow.store.audit_log(50, request_id=request.id)]
    assert events.count("approve refused") == 2


async def test_a_click_before_habot_heard_back_from_posting_the_card_counts(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    """Slack shows the card at once; its poster stores where it went only when Slack answers.
    A click in between waits for that, and counts."""
    bot.fake.hold("chat.postMessage", 1.0)
    request_card = await card(bot, session, "runbook cleanup resource=WebSite")
    request = bot.workflow.store.requests_in(State.REQUESTED)[0]
    assert request.message_ts == ""  # habot has not heard back yet
    await approved_and_run(bot, cluster, session, request_card, request.id)
    assert ephemerals_to(bot, "UBOB") == []
    events = [e.event for e in bot.workflow.store.audit_log(50, request_id=request.id)]
    assert "approved" in events
    assert "approve refused" not in events


async def test_a_deny_before_habot_heard_back_from_posting_the_card_counts(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    bot.fake.hold("chat.postMessage", 1.0)
    request_card = await card(bot, session, "runbook cleanup resource=WebSite")
    request = bot.workflow.store.requests_in(State.REQUESTED)[0]
    payload = click_payload(bot.fake, request_card, CHANNEL, "habot_deny", "UBOB")
    assert await post_click(session, bot, payload) == 200
    await bot.fake.wait_for(
        "the denial",
        lambda: bot.workflow.store.request(request.id).state is State.DENIED,  # type: ignore[union-attr]
    )
    assert all("cleanup" not in argv for _, argv in cluster.transport.calls)
    assert ephemerals_to(bot, "UBOB") == []
    events = [e.event for e in bot.workflow.store.audit_log(50, request_id=request.id)]
    assert "denied" in events


async def test_alert_buttons_act_only_from_an_allowed_channel_on_their_card(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    expect_no_stonith_logged(cluster)
    report = await bot.inner.poller.poll("mycluster")
    assert report.posted == ("no-stonith",)
    posted = bot.fake.calls_to("chat.postMessage")[-1]
    alert_card = {"ts": posted.answer["ts"], "blocks": posted.params["blocks"], "text": ""}
    values = [
        e["value"] for b in posted.params["blocks"] for e in b.get("elements", []) if "value" in e
    ]
    assert values
    assert all(len(v) <= 40 for v in values)
    for channel, ts in ((OTHER, alert_card["ts"]), ("CALERTS", "1700000999.000100")):
        payload = click_payload(
            bot.fake, {**alert_card, "ts": ts}, channel, "habot_alert_ack", "UCAROL"
        )
        assert await post_click(session, bot, payload) == 200
    await bot.fake.wait_for("two refusals", lambda: len(ephemerals_to(bot, "UCAROL")) == 2 or None)
    assert bot.workflow.store.alert("mycluster", "no-stonith").state.value == "open"  # type: ignore[union-attr]
    payload = click_payload(bot.fake, alert_card, "CALERTS", "habot_alert_ack", "UCAROL")
    assert await post_click(session, bot, payload) == 200
    updates = await bot.fake.wait_for(
        "the acknowledged card",
        lambda: [
            c
            for c in bot.fake.calls_to("chat.update")
            if "Acknowledged by <@UCAROL>" in json.dumps(c.params.get("blocks"))
        ],
    )
    assert updates[0].params["ts"] == alert_card["ts"]


async def test_a_card_slack_will_not_post_withdraws_the_request_and_says_so(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    """habot is not in the channel (or the blocks were refused): the requester is told, and
    the request is withdrawn and audited — never left waiting with no card to approve."""
    bot.fake.fail("chat.postMessage", "not_in_channel")
    status, _, payload = await post_command(session, bot, "runbook cleanup resource=WebSite")
    assert status == 200
    key = payload["response_url"].rsplit("/", 1)[1]
    said = await bot.fake.wait_for(
        "the answer", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    assert "could not be posted here (Slack: not_in_channel)" in str(said[0])
    assert "nothing was requested" in str(said[0])
    store = bot.workflow.store
    assert store.requests_in(State.REQUESTED) == []
    (withdrawn,) = store.requests_in(State.REFUSED)
    events = [e.event for e in store.audit_log(10, request_id=withdrawn.id)]
    assert events == ["requested", "refused"]


async def test_an_alert_click_before_habot_heard_back_from_posting_its_card_counts(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    expect_no_stonith_logged(cluster)
    bot.fake.hold("chat.postMessage", 1.0)
    polling = asyncio.create_task(bot.inner.poller.poll("mycluster"))
    posts = await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    alert_card = {"ts": posts[0].answer["ts"], "blocks": posts[0].params["blocks"], "text": ""}
    assert bot.workflow.store.alert("mycluster", "no-stonith").message_ts == ""  # type: ignore[union-attr]
    payload = click_payload(bot.fake, alert_card, "CALERTS", "habot_alert_ack", "UCAROL")
    assert await post_click(session, bot, payload) == 200
    assert (await polling).posted == ("no-stonith",)
    await bot.fake.wait_for(
        "the acknowledged card",
        lambda: [
            c
            for c in bot.fake.calls_to("chat.update")
            if "Acknowledged by <@UCAROL>" in json.dumps(c.params.get("blocks"))
        ],
    )
    assert ephemerals_to(bot, "UCAROL") == []
    assert bot.workflow.store.alert("mycluster", "no-stonith").state.value == "acknowledged"  # type: ignore[union-attr]
