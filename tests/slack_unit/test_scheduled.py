"""Scheduled runs on signed Slack requests into the real endpoint (scripted cluster, the
scene's settable clock): asked ahead, approved ahead, run at their time in the card's thread;
missed when no habot ran; cancelled from the list or the card; listed with who asked and who
approved; bad times refused before anything is asked."""

from __future__ import annotations

import json

import aiohttp
import pytest

from habot.approvals.model import State
from habot.slack import scheduled
from tests.fakes.cluster import NOW, Scene, scene
from tests.slack.flows import (
    CHANNEL,
    answer,
    card_updates,
    click,
    open_home,
    request_card,
    thread_posts,
)
from tests.slack.harness import Bot, click_payload, post_click, post_command

CLEANUP = ("pcs", "resource", "cleanup", "WebSite")


@pytest.fixture
def cluster() -> Scene:
    return scene(approvers=["UBOB"], allowed_channels=[CHANNEL])


def changes(cluster: Scene) -> list[tuple[str, ...]]:
    """What ran on the nodes besides reading their status."""
    return [tuple(argv) for _, argv in cluster.transport.calls if argv[0] == "pcs"]


def request_id(card: dict[str, object]) -> str:
    (found,) = {
        e["value"]
        for b in card["blocks"]  # type: ignore[attr-defined]
        for e in b.get("elements", [])
        if e.get("action_id") == "habot_approve"
    }
    return str(found)


async def test_a_run_approved_ahead_runs_at_its_time_and_not_before(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    card = await request_card(session, bot, "schedule runbook cleanup resource=WebSite in 2h")
    text = json.dumps(card["blocks"])
    assert "Scheduled for 2027-01-15 10:00 UTC" in text  # NOW + 2 h
    assert "approve before 2027-01-15 10:00 UTC" in text
    rid = request_id(card)
    request = bot.workflow.store.request(rid)
    assert request is not None
    assert (request.run_at, request.expires, request.state) == (
        NOW + 7200,
        NOW + 7200,
        State.REQUESTED,
    )
    assert await click(session, bot, card, "habot_approve", "UBOB") == 200
    await bot.fake.wait_for(
        "the card to say when", lambda: [u for u in card_updates(bot, card) if "runs at" in u]
    )
    assert bot.workflow.store.request(rid).state is State.SCHEDULED  # type: ignore[union-attr]
    assert changes(cluster) == []  # approved: nothing ran
    bot.fake.groups[CHANNEL] = ["UBOB"]
    tab = json.dumps(await open_home(bot, session, "UBOB"))
    assert f"2027-01-15 10:00 UTC: cleanup resource=WebSite (request `{rid}`" in tab
    assert "approved by <@UBOB>" in tab
    deps, client = bot.inner.deps, bot.inner.app.client
    cluster.clock.now = NOW + 7199
    assert await scheduled.run_due(deps, client) == []
    cluster.transport.expect(None, CLEANUP)
    cluster.clock.now = NOW + 7201
    assert await scheduled.run_due(deps, client) == [rid]
    assert await scheduled.run_due(deps, client) == []  # taken once
    await bot.fake.wait_for(
        "the run",
        lambda: bot.workflow.store.request(rid).state is State.SUCCEEDED,  # type: ignore[union-attr]
    )
    cluster.transport.assert_done()
    said = thread_posts(bot, card)
    assert any("as scheduled (approved by <@UBOB>)" in s for s in said), said
    events = [r.event for r in bot.workflow.store.audit_log(50) if r.request_id == rid]
    assert {"requested", "approved", "due", "run started", "run succeeded"} <= set(events)
    # while it ran, a maintenance window on what it names, told in the card's thread
    assert any("alerts about resource WebSite are told in this thread" in s for s in said)
    await bot.fake.wait_for(
        "the window's summary",
        lambda: [
            s for s in thread_posts(bot, card) if "ended at" in s and "during the window" in s
        ],
    )
    assert bot.workflow.store.windows("mycluster") == []
    windows = [r for r in bot.workflow.store.audit_log(50) if r.event.startswith("maintenance")]
    assert sorted(r.event for r in windows) == ["maintenance ended", "maintenance started"]
    assert all(f"resource WebSite: scheduled cleanup [{rid}]" in r.detail for r in windows)


async def test_a_run_nobody_was_there_to_start_is_missed_and_said(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    card = await request_card(session, bot, "schedule runbook cleanup resource=WebSite in 30m")
    rid = request_id(card)
    await click(session, bot, card, "habot_approve", "UBOB")
    await bot.fake.wait_for(
        "approved",
        lambda: bot.workflow.store.request(rid).state is State.SCHEDULED,  # type: ignore[union-attr]
    )
    grace = bot.workflow.config.schedule_grace_s
    cluster.clock.now = NOW + 1800 + grace + 1  # every habot was down at its time
    assert await scheduled.run_due(bot.inner.deps, bot.inner.app.client) == [rid]
    assert bot.workflow.store.request(rid).state is State.MISSED  # type: ignore[union-attr]
    assert changes(cluster) == []
    (told,) = thread_posts(bot, card)
    assert told.startswith("<@UALICE> :warning: cleanup was scheduled for 2027-01-15 08:30 UTC")
    assert "it did not run, and will not" in told
    assert any("Missed: no habot was running" in u for u in card_updates(bot, card))


async def test_the_list_says_who_asked_and_who_approved_and_cancels(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    first = await request_card(session, bot, "schedule cleanup WebSite in 1h")
    second = await request_card(session, bot, "schedule runbook refresh resource=WebSite in 3h")
    await click(session, bot, first, "habot_approve", "UBOB")
    await bot.fake.wait_for(
        "approved",
        lambda: bot.workflow.store.request(request_id(first)).state is State.SCHEDULED,  # type: ignore[union-attr]
    )
    _, _, asked = await post_command(session, bot, "schedule", channel=CHANNEL)
    key = asked["response_url"].rsplit("/", 1)[1]
    (shown,) = await bot.fake.wait_for(
        "the list", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    listed = json.dumps(shown["blocks"])
    assert listed.index("cleanup") < listed.index("refresh")  # soonest first
    assert "asked by <@UALICE>, approved by <@UBOB>" in listed
    assert "waiting for approval (0/1)" in listed
    # cancelled from the list, by an approver: the card says so; nothing will run
    message = {"blocks": shown["blocks"], "ts": "1.0"}
    payload = click_payload(
        bot.fake, message, CHANNEL, "habot_cancel_scheduled", "UBOB", request_id(first)
    )
    assert await post_click(session, bot, payload) == 200
    await bot.fake.wait_for(
        "cancelled",
        lambda: bot.workflow.store.request(request_id(first)).state is State.CANCELLED,  # type: ignore[union-attr]
    )
    assert any("Cancelled by <@UBOB>" in u for u in card_updates(bot, first))
    # someone else may not; the requester may, by typing it
    refused = await answer(bot, session, f"schedule cancel {request_id(second)}", "UCAROL")
    assert "only its requester or an approver can cancel" in refused
    done = await answer(bot, session, f"schedule cancel {request_id(second)}", "UALICE")
    assert "is cancelled" in done
    again = await answer(bot, session, f"schedule cancel {request_id(second)}", "UALICE")
    assert "this scheduled run is cancelled already" in again
    assert "Nothing is scheduled" in await answer(bot, session, "schedule", "UALICE")
    assert changes(cluster) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("schedule runbook cleanup resource=WebSite at 2026-01-01T00:00Z", "has passed"),
        ("schedule runbook cleanup resource=WebSite at 2027-01-15T10:00", "has no time zone"),
        ("schedule runbook cleanup resource=WebSite in 45d", "more than 30 days ahead"),
        ("schedule runbook cleanup resource=WebSite in soon", "is not a delay"),
        ("schedule runbook cleanup resource=WebSite", "usage: `/ha schedule"),
        ("schedule runbook cleanup resource=NoSuch in 1h", "NoSuch"),
    ],
)
async def test_a_bad_time_or_plan_is_refused_before_anything_is_asked(
    bot: Bot, session: aiohttp.ClientSession, text: str, said: str
) -> None:
    status, body, _ = await post_command(session, bot, text, channel=CHANNEL)
    assert status == 200
    if not body:  # not a usage error: answered after the ack
        body = await answer(bot, session, text, "UALICE")
    assert said in body
    assert bot.fake.calls_to("chat.postMessage") == []
