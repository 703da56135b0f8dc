"""Rolling node maintenance on the lab through signed Slack requests: node-patch on nodo2,
its pause answered Continue by the requester once nodo2 runs nothing (standby, everything
moved away), then nodo2 back; node-patch on nodo1 aborted at its pause by an approver: the
rollback puts nodo1 back, and nothing is left in standby. rolling-maintenance across both
nodes, each pause answered once its node runs nothing, then everything back where it ran;
and once aborted at its first pause."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from habot.approvals.model import State
from habot.lab.lab import Lab
from tests.lab.cluster import crm_mon, resource_nodes, wait_for
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


async def answered(
    lab: Lab,
    bot: Bot,
    session: aiohttp.ClientSession,
    card: dict[str, Any],
    answers: list[tuple[str, str, str]],
    during: Callable[[str], Awaitable[None]] | None = None,
) -> State:
    """Approve the card, then answer its pauses in turn — (node the pause is about, the
    button, who clicks) — each once its node is in standby and runs nothing (and `during`
    has run for that node); the run's end."""
    assert await click(session, bot, card, APPROVE, "UBOB") == 200
    for count, (node, answer, user) in enumerate(answers, 1):
        questions = await bot.fake.wait_for(
            f"pause {count}",
            lambda count=count: [
                c
                for c in bot.fake.calls_to("chat.postMessage")
                if c.params.get("thread_ts") == card["ts"] and "habot_pause" in json.dumps(c.params)
            ][count - 1 : count],
            timeout=360,
        )
        question = questions[0]
        assert f"{node} runs nothing now" in json.dumps(question.params["blocks"])
        assert node_attrs(lab, node)["standby"] == "true"
        assert running_on(lab, node) == []  # the person may patch it now
        if during is not None:
            await during(node)
        message = {"ts": question.answer["ts"], "blocks": question.params["blocks"]}
        payload = click_payload(bot.fake, message, CHANNEL, answer, user)
        assert await post_click(session, bot, payload) == 200
    rid = request_id_of(card)

    def ended() -> State | None:
        request = bot.workflow.store.request(rid)
        assert request is not None
        return request.state if request.state in (State.SUCCEEDED, State.FAILED) else None

    return await bot.fake.wait_for("the run's end", ended, timeout=660 * len(answers))


async def patched(
    lab: Lab, bot: Bot, session: aiohttp.ClientSession, node: str, answer: str, user: str
) -> State:
    card = await request_card(session, bot, f"runbook node-patch node={node}")
    assert f"pause: {node} runs nothing now: patch it" in json.dumps(card["blocks"])
    return await answered(lab, bot, session, card, [(node, answer, user)])


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


def thread(bot: Bot, card: dict[str, Any]) -> str:
    """What the run said in the card's thread (a failed test's message)."""
    return "\n".join(
        str(c.params.get("text", ""))
        for c in bot.fake.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == card["ts"]
    )


def placement(lab: Lab) -> dict[str, list[str]]:
    status = crm_mon(lab, "nodo1")
    return {r: resource_nodes(status, r) for r in ("VirtualIP", "WebSite", "WebFS")}


def constraints(lab: Lab) -> str:
    return lab.exec("nodo1", ["pcs", "constraint", "location", "config"]).stdout


async def test_rolling_maintenance_patches_each_node_and_fails_back_and_once_aborts(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    wait_for("the seed running", lambda: all(placement(lab).values()), timeout=120)
    before = placement(lab)
    card = await request_card(session, http_bot, "runbook rolling-maintenance")
    shown = json.dumps(card["blocks"])
    for name in ("nodo1: standby", "nodo2: patch it", "VirtualIP: move back"):
        assert name in shown

    async def rebooted(node: str) -> None:
        """What a patched node's reboot logs, and something else failing meanwhile."""
        lost = f"notice: Node {node} state is now lost | nodeid=1 previous=member source=x"
        # a resource no other test names: a later test on this lab reads this journal too
        other = "Result of monitor operation for Bystander on nodo2: not running"
        for text in (lost, f"notice: {other}"):
            lab.exec("nodo2", ["logger", "-t", "pacemaker-controld", text])
        await http_bot.inner.poller.poll("mycluster")

    done = await answered(
        lab,
        http_bot,
        session,
        card,
        [("nodo1", "habot_pause_continue", "UALICE"), ("nodo2", "habot_pause_continue", "UBOB")],
        during=lambda node: rebooted(node) if node == "nodo1" else asyncio.sleep(0),
    )
    assert done is State.SUCCEEDED, thread(http_bot, card)
    posts = http_bot.fake.calls_to("chat.postMessage")
    in_thread = [json.dumps(c.params) for c in posts if c.params.get("thread_ts") == card["ts"]]
    in_channel = [json.dumps(c.params) for c in posts if c.params.get("channel") == "C0HAALERTS"]
    assert any("Expected by this run: nodo1 left the cluster" in t for t in in_thread), in_thread
    assert not any("nodo1 left the cluster" in t for t in in_channel)  # the patch woke nobody
    assert any("Bystander monitor failed on nodo2" in t for t in in_channel)  # still alerts
    for node in ("nodo1", "nodo2"):
        assert node_attrs(lab, node)["standby"] == "false"
    # Both nodes were emptied in turn, so everything moved twice: it is back where it ran.
    assert placement(lab) == before
    assert "cli-" not in constraints(lab)  # no move constraint left behind

    card = await request_card(session, http_bot, "runbook rolling-maintenance")
    aborted = await answered(
        lab, http_bot, session, card, [("nodo1", "habot_pause_abort", "UALICE")]
    )
    assert aborted is State.FAILED
    wait_for(
        "no node in standby",
        lambda: all(node_attrs(lab, n)["standby"] == "false" for n in ("nodo1", "nodo2")),
    )
    assert "cli-" not in constraints(lab)
    events = [e.event for e in http_bot.workflow.store.audit_log(400)]
    assert events.count("pause continue") == 2
    assert events.count("pause abort") == 1
