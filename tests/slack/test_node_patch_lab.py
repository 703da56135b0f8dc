"""Rolling node maintenance on the lab through signed Slack requests: node-patch on nodo2,
its pause answered Continue by the requester once nodo2 runs nothing (standby, everything
moved away), then nodo2 back; node-patch on nodo1 aborted at its pause by an approver: the
rollback puts nodo1 back, and nothing is left in standby."""

from __future__ import annotations

import json

import aiohttp
import pytest

from habot.approvals.model import State
from habot.lab.lab import Lab
from tests.lab.cluster import crm_mon, wait_for
from tests.slack.flows import CHANNEL, click, request_card
from tests.slack.harness import Bot, click_payload, post_click
from tests.slack.test_runbooks import APPROVE, fenced_lab, request_id_of

pytestmark = pytest.mark.lab


def node_attrs(lab: Lab, node: str) -> dict[str, str]:
    nodes = crm_mon(lab, "nodo1").find("nodes")
    assert nodes is not None
    return next(dict(n.attrib) for n in nodes if n.get("name") == node)


def running_on(lab: Lab, node: str) -> list[str]:
    resources = crm_mon(lab, "nodo1").iter("resource")
    return sorted(
        {
            r.get("id", "")
            for r in resources
            if r.get("active") == "true" and any(n.get("name") == node for n in r.iter("node"))
        }
    )


async def patched(
    lab: Lab, bot: Bot, session: aiohttp.ClientSession, node: str, answer: str, user: str
) -> State:
    card = await request_card(session, bot, f"runbook node-patch node={node}")
    assert f"pause: {node} runs nothing now: patch it" in json.dumps(card["blocks"])
    assert await click(session, bot, card, APPROVE, "UBOB") == 200
    (question,) = await bot.fake.wait_for(
        "the pause",
        lambda: [
            c
            for c in bot.fake.calls_to("chat.postMessage")
            if c.params.get("thread_ts") == card["ts"] and "habot_pause" in json.dumps(c.params)
        ],
        timeout=360,
    )
    assert node_attrs(lab, node)["standby"] == "true"
    assert running_on(lab, node) == []  # the person may patch it now
    message = {"ts": question.answer["ts"], "blocks": question.params["blocks"]}
    payload = click_payload(bot.fake, message, CHANNEL, answer, user)
    assert await post_click(session, bot, payload) == 200
    rid = request_id_of(card)

    def ended() -> State | None:
        request = bot.workflow.store.request(rid)
        assert request is not None
        return request.state if request.state in (State.SUCCEEDED, State.FAILED) else None

    return await bot.fake.wait_for("the run's end", ended, timeout=660)


async def test_each_node_patched_in_turn_with_a_pause_and_one_aborted(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    done = await patched(lab, http_bot, session, "nodo2", "habot_pause_continue", "UALICE")
    assert done is State.SUCCEEDED
    assert node_attrs(lab, "nodo2")["standby"] == "false"
    assert node_attrs(lab, "nodo2")["online"] == "true"
    aborted = await patched(lab, http_bot, session, "nodo1", "habot_pause_abort", "UBOB")
    assert aborted is State.FAILED
    wait_for("nodo1 back", lambda: node_attrs(lab, "nodo1")["standby"] == "false")
    events = [e.event for e in http_bot.workflow.store.audit_log(200)]
    assert "pause continue" in events
    assert "pause abort" in events
