"""Approvers clicking together on a two-approver request, over three replicas sharing one
database (SQLite file or PostgreSQL): the one click whose compare-and-set made the request
approved runs it; every other click is told why; the cluster lock is never taken from the
run, and nothing runs twice or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from habot.approvals.model import State
from habot.slack.approval_blocks import APPROVE
from habot.store import Store
from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import click, request_card
from tests.slack.harness import Bot, make_bot, start_http

TWO_APPROVERS = {"policy": {"runbooks": {"cleanup": {"approvals": 2}}}}
CLEANUP = ("pcs", "resource", "cleanup", "WebSite")


@pytest.fixture
async def replicas(database: str, fake_slack: FakeSlack) -> AsyncIterator[tuple[Scene, list[Bot]]]:
    s = scene(store=Store(database), **TWO_APPROVERS)
    url = database if database.startswith("postgresql") else None
    db = None if url else Path(database)
    bots = [
        await start_http(
            make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock, database=url, db=db)
        )
        for _ in range(3)
    ]
    yield s, bots
    for bot in bots:
        await bot.stop()
    s.store.close()


@pytest.mark.parametrize("approvers", [2, 3, 8])
async def test_approvers_clicking_together_run_the_request_exactly_once(
    replicas: tuple[Scene, list[Bot]], session: aiohttp.ClientSession, approvers: int
) -> None:
    s, bots = replicas
    s.transport.expect(None, CLEANUP)
    card = await request_card(session, bots[0], "runbook cleanup resource=WebSite")
    statuses = await asyncio.gather(
        *(click(session, bots[i % 3], card, APPROVE, f"UAPPROVER{i:02d}") for i in range(approvers))
    )
    assert statuses == [200] * approvers
    for bot in bots:
        await bot.jobs.wait_idle()
    request_id = str(card["blocks"]).split("request `")[1].split("`")[0]
    final = s.store.request(request_id)
    assert final is not None
    events = [e.event for e in s.store.audit_log(200, request_id=request_id)]
    assert final.state is State.SUCCEEDED, events
    assert len(final.approvals) == 2
    assert events.count("approved") == 2
    assert events.count("run started") == 1
    assert "refused" not in events  # never refused as busy with itself
    assert events.count("approve refused") == approvers - 2
    ran = [c for c in s.transport.calls if c[1] == CLEANUP]
    assert len(ran) == 1
    assert s.store.cluster_lock("mycluster") is None  # released, by the run that took it
    s.transport.assert_done()
