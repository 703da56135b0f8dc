"""Replicas on one PostgreSQL database, in one process (each with its own connection, HTTP
endpoint and scheduler-free service): approvals decided once across replicas, one poller per
cluster with takeover from the stored cursor, and runs of a silent replica interrupted once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from habot.approvals.model import State
from habot.service.alert_poller import Poller
from habot.service.workflow import STALE_AFTER_S
from habot.serving import announce_interrupted
from habot.slack.approval_blocks import APPROVE
from habot.store import Store
from tests.alerts.test_delivery import CATALOGUE, FAILED_MONITOR, MemorySink, feed
from tests.fakes.cluster import NO_STONITH, Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import click, request_card, thread_posts
from tests.slack.harness import Bot, make_bot, start_http
from tests.store import postgres_server
from tests.store.postgres_server import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def url(postgres: postgres_server.Server) -> str:
    return fresh_database(postgres)


@pytest.fixture
async def replicas(url: str, fake_slack: FakeSlack) -> AsyncIterator[tuple[Scene, list[Bot]]]:
    s = scene(store=Store(url))
    bots = [
        await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock, database=url))
        for _ in range(3)
    ]
    yield s, bots
    for bot in bots:
        await bot.stop()
    s.store.close()


async def test_twenty_clicks_over_three_replicas_run_once(
    replicas: tuple[Scene, list[Bot]], session: aiohttp.ClientSession
) -> None:
    s, bots = replicas
    s.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    card = await request_card(session, bots[0], "runbook cleanup resource=WebSite")
    statuses = await asyncio.gather(
        *(click(session, bots[i % 3], card, APPROVE, f"UAPPROVER{i:02d}") for i in range(20))
    )
    assert statuses == [200] * 20  # every click acked
    for bot in bots:
        await bot.jobs.wait_idle()
    request_id = str(card["blocks"]).split("request `")[1].split("`")[0]
    final = s.store.request(request_id)
    assert final is not None
    assert final.state is State.SUCCEEDED
    assert len(final.approvals) == 1
    events = [e.event for e in s.store.audit_log(200, request_id=request_id)]
    assert events.count("run started") == 1
    assert events.count("approved") == 1
    assert events.count("approve refused") == 19  # each said why, none lost
    assert (
        s.transport.calls.count(("nodo1", ("pcs", "resource", "cleanup", "WebSite")))
        + (s.transport.calls.count(("nodo2", ("pcs", "resource", "cleanup", "WebSite"))))
        == 1
    )
    s.transport.assert_done()


async def test_a_replica_takes_polling_over_from_the_stored_cursor(url: str) -> None:
    s = scene(store=Store(url), capture="lab_seed_no_stonith.xml")
    sink = MemorySink()
    leader = Poller(s.ops, s.store, CATALOGUE, sink, clock=s.clock, replica="a")
    other_store = Store(url)
    other = Poller(s.ops, other_store, CATALOGUE, sink, clock=s.clock, replica="b")
    interval = s.config.clusters["mycluster"].alerts.interval_s
    try:
        quiet = [("pacemaker-controld", "notice: State transition S_POLICY_ENGINE -> S_IDLE")]
        feed(s, nodo1=NO_STONITH, nodo2=quiet)  # both nodes get a cursor
        assert await leader.lead("mycluster") is not None
        assert await other.lead("mycluster") is None  # a leads: b does not poll
        assert [a.key for a in sink.posts] == ["no-stonith"]
        # a dies here (no more renewals); b checks twice per interval
        waited = 0.0
        report = None
        feed(s, nodo1=NO_STONITH + FAILED_MONITOR)  # what happened meanwhile
        while report is None:
            s.clock.now += interval / 2
            waited += interval / 2
            report = await other.lead("mycluster")
            assert waited <= 2 * interval, "no takeover within two intervals"
        assert other.leads("mycluster")
        assert report.posted == ("resource-failed:WebSite:nodo1",)  # only the new one
        assert [a.key for a in sink.posts] == ["no-stonith", "resource-failed:WebSite:nodo1"]
        assert other_store.get("cursor|mycluster|nodo1|journal") == "s=1;i=5"
        assert await leader.lead("mycluster") is None  # a comes back: b keeps it
        s.transport.assert_done()
    finally:
        other_store.close()
        s.store.close()


async def test_a_silent_replicas_run_is_reported_interrupted_once(
    url: str, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    s = scene(store=Store(url))
    owner, survivor = [
        await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock, database=url))
        for _ in range(2)
    ]
    try:
        s.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"), delay=30)
        card = await request_card(session, owner, "runbook cleanup resource=WebSite")
        assert await click(session, owner, card, APPROVE, "UBOB") == 200
        for _ in range(500):  # the transport is not Slack: poll it, bounded (10 s)
            if any(argv[:2] == ("pcs", "resource") for _, argv in s.transport.calls):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"the command never started: {thread_posts(owner, card)}")
        await announce_interrupted(survivor.inner)  # the owner beats: nothing to do
        assert not [p for p in thread_posts(survivor, card) if "interrupted" in p]
        await owner.jobs.shutdown(grace_s=0)  # the owner dies: its run and heartbeat stop
        s.clock.now += STALE_AFTER_S + 1
        await announce_interrupted(survivor.inner)
        await announce_interrupted(survivor.inner)  # again: said once
        said = [p for p in thread_posts(survivor, card) if "marked interrupted" in p]
        assert len(said) == 1
        request_id = str(card["blocks"]).split("request `")[1].split("`")[0]
        final = s.store.request(request_id)
        assert final is not None
        assert final.state is State.INTERRUPTED
        assert await survivor.workflow.busy_with("mycluster") is None
    finally:
        await survivor.stop()
        await owner.stop()
        s.store.close()
