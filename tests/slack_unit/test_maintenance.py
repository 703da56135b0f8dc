"""Maintenance windows on signed Slack requests into the real endpoint (scripted cluster, the
scene's clock): alerts about the window's node go to its thread, others still post cards; a
reminder before it lifts itself; its end broadcasts a summary; every start and end audited."""

from __future__ import annotations

import json

import aiohttp
import pytest

from habot.slack import maintenance
from tests.alerts.test_delivery import LOST, NO_STONITH, feed
from tests.fakes.cluster import Scene, scene
from tests.slack.flows import CHANNEL, answer, open_home
from tests.slack.harness import Bot, post_command


@pytest.fixture
def cluster() -> Scene:
    return scene(
        approvers=["UBOB"], allowed_channels=[CHANNEL, "CALERTS"], capture="lab_seed_no_stonith.xml"
    )


async def test_a_window_on_a_node_takes_its_alerts_into_its_thread(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    status, _, _ = await post_command(
        session, bot, "maintenance start node=nodo2 for 2h kernel patches", channel=CHANNEL
    )
    assert status == 200
    (opened,) = await bot.fake.wait_for(
        "the window's message",
        lambda: [
            c for c in bot.fake.calls_to("chat.postMessage") if "Maintenance" in str(c.params)
        ],
    )
    assert "(node nodo2) until 2027-01-15 10:00 UTC, by <@UALICE>: kernel patches" in str(
        opened.params["text"]
    )
    window_ts = opened.answer["ts"]
    listed = await answer(bot, session, "maintenance", "UBOB")
    assert "mycluster (node nodo2) until 2027-01-15 10:00 UTC" in listed
    bot.fake.groups[CHANNEL] = ["UBOB"]
    tab = json.dumps(await open_home(bot, session, "UBOB"))
    assert "maintenance (node nodo2) until 2027-01-15 10:00 UTC, by <@UALICE>: kernel" in tab

    # nodo1 logs that nodo2 was lost (the window's node), and the missing STONITH (not)
    feed(cluster, nodo1=LOST + NO_STONITH)
    await bot.inner.poller.poll("mycluster")
    posts = bot.fake.calls_to("chat.postMessage")
    in_thread = [c for c in posts if c.params.get("thread_ts") == window_ts]
    in_channel = [c for c in posts if c.params.get("channel") == "CALERTS"]
    assert len(in_thread) == 1
    assert "nodo2" in str(in_thread[0].params["text"])
    assert [c for c in in_channel if "STONITH" in str(c.params["text"])]
    assert not [c for c in in_channel if "nodo2" in str(c.params["text"])]

    deps, client = bot.inner.deps, bot.inner.app.client
    cluster.clock.now += 2 * 3600 - 300  # five minutes left: reminded, once
    assert len(await maintenance.tick(deps, client)) == 1
    assert await maintenance.tick(deps, client) == []
    reminder = bot.fake.calls_to("chat.postMessage")[-1].params
    assert reminder["thread_ts"] == window_ts
    assert str(reminder["text"]).startswith("<@UALICE> this window lifts itself at")
    cluster.clock.now += 300  # its time is up: ended, with its summary broadcast
    assert len(await maintenance.tick(deps, client)) == 1
    end = bot.fake.calls_to("chat.postMessage")[-1].params
    assert (end["thread_ts"], end["reply_broadcast"]) == (window_ts, True)
    assert "ended at 2027-01-15 10:00 UTC (its time was up)" in str(end["text"])
    assert "1 alert(s) during the window" in str(end["text"])
    assert "Still wrong now" in str(end["text"])  # the missing STONITH
    assert [c for c in bot.fake.calls_to("chat.update") if c.params.get("ts") == window_ts]
    events = [r.event for r in bot.workflow.store.audit_log(20)]
    assert "maintenance started" in events
    assert "maintenance ended" in events
    assert "No maintenance window is open" in await answer(bot, session, "maintenance", "UBOB")


async def test_a_window_ended_by_hand_and_what_is_refused(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    said = await answer(bot, session, "maintenance stop", "UALICE")
    assert "no maintenance window is open on mycluster" in said
    said = await answer(bot, session, "maintenance start node=nodo9", "UALICE")
    assert "no node `nodo9` in the cluster (nodes: nodo1, nodo2)" in said
    said = await answer(bot, session, "maintenance start resource=NoSuch", "UALICE")
    assert "no resource `NoSuch` in the cluster" in said
    status, body, _ = await post_command(session, bot, "maintenance start for 30d", channel=CHANNEL)
    assert status == 200
    if not body:
        body = await answer(bot, session, "maintenance start for 30d", "UALICE")
    assert "lasts from a minute to 7 days" in body
    await post_command(session, bot, "maintenance start resource=WebSite for 1h", channel=CHANNEL)
    await bot.fake.wait_for("the window", lambda: bot.workflow.store.windows("mycluster"))
    said = await answer(bot, session, "maintenance stop", "UBOB")
    assert "its summary is in its thread" in said
    assert bot.workflow.store.windows("mycluster") == []
    (end,) = await bot.fake.wait_for(  # told in its thread, whichever came first: stop or post
        "the summary",
        lambda: [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")],
    )
    assert "(by <@UBOB>)" in str(end.params["text"])


async def test_a_window_stopped_before_its_message_was_posted_still_tells_its_end(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    """Slack answers the window's post late; the stop comes in between (the window has no
    thread yet): once the post is answered, its end is told in its thread, its message updated."""
    bot.fake.hold("chat.postMessage", 1.0, CHANNEL)
    await post_command(session, bot, "maintenance start node=nodo2 for 1h", channel=CHANNEL)
    await bot.fake.wait_for("the window", lambda: bot.workflow.store.windows("mycluster"))
    said = await answer(bot, session, "maintenance stop", "UBOB")
    assert "its summary is in its thread" in said
    posts = await bot.fake.wait_for(
        "the window's message and its end in its thread",
        lambda: [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")],
        timeout=10,
    )
    opened = next(
        c for c in bot.fake.calls_to("chat.postMessage") if "Maintenance" in str(c.params)
    )
    assert posts[0].params["thread_ts"] == opened.answer["ts"]
    assert "(by <@UBOB>)" in str(posts[0].params["text"])
    updates = await bot.fake.wait_for(
        "its message updated", lambda: bot.fake.calls_to("chat.update"), timeout=10
    )
    assert updates[-1].params["ts"] == opened.answer["ts"]
    assert "ended" in str(updates[-1].params["text"])
