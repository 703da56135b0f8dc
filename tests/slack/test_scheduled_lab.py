"""Scheduled runs on the lab through signed Slack requests, `habot serve`'s own background
jobs running (the clock moved forward instead of waiting): a failover approved ahead runs at
its time; one whose preview changed meanwhile (a ban added) does not run, and says why to
its requester in the card's thread."""

from __future__ import annotations

import aiohttp
import pytest

from habot.approvals.model import State
from habot.lab.lab import Lab
from tests.fakes.clock import SkewedClock
from tests.lab.cluster import crm_mon, resource_nodes, ssh
from tests.slack.flows import click, request_card, thread_posts, wait_card
from tests.slack.harness import Bot
from tests.slack.test_runbooks import APPROVE, fenced_lab, request_id_of

pytestmark = pytest.mark.lab


async def test_a_failover_approved_ahead_runs_at_its_time_and_a_changed_one_does_not(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession, clock: SkewedClock
) -> None:
    fenced_lab(lab)
    http_bot.inner.start_background(alerts=False)
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    card = await request_card(session, http_bot, f"schedule failover VirtualIP {target} in 1h")
    text = str(card["blocks"])
    assert "Scheduled for" in text
    assert f"VirtualIP: move {source} → {target}" in text
    assert await click(session, http_bot, card, APPROVE, "UBOB") == 200
    await wait_card(http_bot, card, "runs at")
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [source]  # not yet
    clock.advance(3600)
    final = await wait_card(http_bot, card, "succeeded", timeout=120)
    assert "Approved by <@UBOB>" in final
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
    assert any("as scheduled (approved by <@UBOB>)" in p for p in thread_posts(http_bot, card))
    # a maintenance window on what it named while it ran, its summary ending the thread
    await http_bot.fake.wait_for(
        "the window's summary",
        lambda: [p for p in thread_posts(http_bot, card) if "during the window" in p],
    )
    assert any(
        f"alerts about node {target} and resource VirtualIP are told in this thread" in p
        for p in thread_posts(http_bot, card)
    )
    events = [
        e.event for e in http_bot.workflow.store.audit_log(50, request_id=request_id_of(card))
    ]
    assert events[:4] == ["requested", "approved", "due", "run started"]

    # back to the source, approved; then a colleague bans WebSite there: VirtualIP would go,
    # WebSite (colocated with it) would stop — not what was approved
    back = await request_card(session, http_bot, f"schedule failover VirtualIP {source} in 1h")
    assert await click(session, http_bot, back, APPROVE, "UBOB") == 200
    await wait_card(http_bot, back, "runs at")
    ssh(lab, "nodo1", f"pcs resource ban WebSite {source}")
    try:
        clock.advance(3600)
        await wait_card(http_bot, back, "Refused", timeout=120)
        request = http_bot.workflow.store.request(request_id_of(back))
        assert request is not None
        assert request.state is State.REFUSED
        said = "\n".join(thread_posts(http_bot, back))
        # VirtualIP cannot go where WebSite (colocated with it) may not run: nothing moves
        assert "<@UALICE> :no_entry: the preview changed since it was approved: no longer" in said
        assert f"VirtualIP: move {target} → {source}" in said
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]  # nothing ran
    finally:
        ssh(lab, "nodo1", "pcs resource clear WebSite")
