"""`/ha why` on signed Slack requests into the real endpoint (scripted transport, fake Slack):
an answer for a viewer, a refusal for someone else, a usage message for an unknown name."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from habot.service.clusters import node_fail
from tests.fakes.cluster import Scene, scene, scored
from tests.slack.flows import CHANNEL, answer
from tests.slack.harness import Bot, post_command


@pytest.fixture
def cluster() -> Scene:
    return scored(
        scene(
            approvers=["UBOB"],
            allowed_channels=[CHANNEL],
            capture="lab_nodo1_stopped.xml",
            policy={"viewers": ["UVIEW"]},
        )
    )


async def test_why_answers_a_viewer_with_reasons_fixes_and_scores(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    said = await answer(bot, session, "why WebSite", "UVIEW")
    assert "WebSite runs on nodo2" in said
    assert "node nodo1 is offline" in said
    assert "Placement scores: nodo1 0, nodo2 -INFINITY" in said


async def test_why_refuses_who_may_not_view_and_says_so_for_unknown_names(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    assert "you may not view here" in await answer(bot, session, "why WebSite", "UNOBODY")
    assert "no resource `NoSuchThing`" in await answer(bot, session, "why NoSuchThing", "UVIEW")
    status, body, _ = await post_command(session, bot, "why", user="UVIEW")
    assert status == 200
    assert "usage: `/ha why RESOURCE [CLUSTER]`" in body


NODE_FAIL = (
    Path(__file__).parents[1] / "fixtures" / "crm_simulate" / "crm_simulate_node_fail_nodo1_lab.xml"
).read_bytes()


async def test_whatif_node_fail_says_what_would_move_and_changes_nothing(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    cluster.transport.answer(None, node_fail("nodo1"), stdout=NODE_FAIL)
    said = await answer(bot, session, "whatif node-fail nodo1", "UVIEW")
    assert "If nodo1 failed (mycluster):" in said
    assert "VirtualIP: move nodo1 → nodo2" in said
    assert "WebFS: move nodo1 → nodo2" in said
    assert "nowhere to run" not in said  # WebData is promoted on nodo2 instead
    assert not [argv for _, argv in cluster.transport.calls if argv[0] == "pcs"]  # read-only
    assert "no node `nodo9`" in await answer(bot, session, "whatif node-fail nodo9", "UVIEW")
