"""A run that waits for a person (a `pause:` step), on signed Slack requests into the real
endpoint (scripted cluster): Continue from the requester goes on; Abort from an approver
fails the step and the rollback runs; nobody answering aborts at the timeout; anyone else's
click is refused and changes nothing; a second answer is told it came too late."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from habot.approvals.model import State
from habot.runbooks.model import Runbook
from tests.fakes.cluster import Scene, scene
from tests.slack.flows import CHANNEL, click, ephemerals_to, request_card, thread_posts
from tests.slack.harness import Bot, click_payload, post_click

DISABLE = ("pcs", "resource", "cleanup", "WebSite")  # not simulated: no preview to script
ENABLE = ("pcs", "resource", "refresh", "WebSite")


def patch_demo(timeout: float) -> Runbook:
    return Runbook.model_validate(
        {
            "name": "patch-demo",
            "summary": "WebSite cleaned up, a person patches, WebSite refreshed",
            "approval": "one",
            "steps": [
                {"name": "off", "run": list(DISABLE)},
                {"name": "patch", "pause": "patch the web servers now", "timeout": timeout},
                {"name": "on", "run": list(ENABLE)},
            ],
            "on_failure": "rollback",
            "rollback": [{"name": "on again", "run": list(ENABLE)}],
        }
    )


@pytest.fixture
def cluster() -> Scene:
    return scene(approvers=["UBOB"], allowed_channels=[CHANNEL])


async def paused(
    bot: Bot, session: aiohttp.ClientSession, timeout: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """patch-demo asked by UALICE, approved by UBOB, now at its pause: (card, the question)."""
    bot.workflow.runbooks["patch-demo"] = patch_demo(timeout)
    card = await request_card(session, bot, "runbook patch-demo")
    assert await click(session, bot, card, "habot_approve", "UBOB") == 200
    (question,) = await bot.fake.wait_for(
        "the pause",
        lambda: [
            c
            for c in bot.fake.calls_to("chat.postMessage")
            if c.params.get("thread_ts") == card["ts"] and "habot_pause" in json.dumps(c.params)
        ],
    )
    message = {"ts": question.answer["ts"], "blocks": question.params["blocks"]}
    assert "patch the web servers now" in json.dumps(message["blocks"])
    return card, message


def state(bot: Bot, card: dict[str, Any]) -> State:
    rid = json.dumps(card["blocks"]).split("request `")[1].split("`")[0]
    request = bot.workflow.store.request(rid)
    assert request is not None
    return request.state


async def test_continue_from_the_requester_goes_on_and_others_are_refused(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    cluster.transport.expect(None, DISABLE)
    cluster.transport.expect(None, ENABLE)
    card, question = await paused(bot, session, timeout=60)
    outsider = click_payload(bot.fake, question, CHANNEL, "habot_pause_continue", "UCAROL")
    assert await post_click(session, bot, outsider) == 200
    await bot.fake.wait_for("UCAROL told", lambda: ephemerals_to(bot, "UCAROL"))
    assert "only the run's requester or an approver" in ephemerals_to(bot, "UCAROL")[0]
    assert state(bot, card) is State.RUNNING  # still waiting
    mine = click_payload(bot.fake, question, CHANNEL, "habot_pause_continue", "UALICE")
    assert await post_click(session, bot, mine) == 200
    await bot.fake.wait_for("the run", lambda: state(bot, card) is State.SUCCEEDED)
    cluster.transport.assert_done()
    assert any(
        "continued by <@UALICE>" in json.dumps(c.params) for c in bot.fake.calls_to("chat.update")
    )
    late = click_payload(bot.fake, question, CHANNEL, "habot_pause_abort", "UBOB")
    assert await post_click(session, bot, late) == 200
    await bot.fake.wait_for("UBOB told", lambda: ephemerals_to(bot, "UBOB"))
    assert "not waiting" in ephemerals_to(bot, "UBOB")[-1]
    events = [r.event for r in bot.workflow.store.audit_log(50)]
    assert "pause continue" in events


async def test_abort_from_an_approver_rolls_back(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    cluster.transport.expect(None, DISABLE)
    cluster.transport.expect(None, ENABLE)  # the rollback
    card, question = await paused(bot, session, timeout=60)
    abort = click_payload(bot.fake, question, CHANNEL, "habot_pause_abort", "UBOB")
    assert await post_click(session, bot, abort) == 200
    await bot.fake.wait_for("the run", lambda: state(bot, card) is State.FAILED)
    cluster.transport.assert_done()
    said = "\n".join(thread_posts(bot, card))
    assert "aborted by UBOB" in said


async def test_nobody_answering_aborts_at_the_timeout(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    cluster.transport.expect(None, DISABLE)
    cluster.transport.expect(None, ENABLE)  # the rollback
    card, question = await paused(bot, session, timeout=0.5)
    await bot.fake.wait_for("the run", lambda: state(bot, card) is State.FAILED)
    cluster.transport.assert_done()
    assert "no answer within 0.5 s: aborted" in "\n".join(thread_posts(bot, card))
    late = click_payload(bot.fake, question, CHANNEL, "habot_pause_continue", "UALICE")
    assert await post_click(session, bot, late) == 200
    await bot.fake.wait_for("UALICE told", lambda: ephemerals_to(bot, "UALICE"))
