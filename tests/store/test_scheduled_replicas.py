"""A scheduled run is taken by exactly one replica when its time comes, on SQLite and on
PostgreSQL; every replica looking at once still makes one run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from habot.approvals.model import State
from habot.runbooks.loader import load_all
from habot.service.workflow import Workflow
from habot.store import Store
from tests.fakes.cluster import NOW, scene


@pytest.mark.parametrize("replicas", [2, 5])
async def test_a_due_run_is_taken_once_across_replicas(
    stores: Callable[[], Store], replicas: int
) -> None:
    s = scene(store=stores(), approvers=["UBOB"])
    proposal = await s.workflow.propose(None, "cleanup", {"resource": "WebSite"})
    request = await s.workflow.request(proposal, "UALICE", "COPS", run_at=NOW + 600)
    await s.workflow.posted(request.id, "1.1")
    decision = await s.workflow.approve(request.id, "UBOB", channel="COPS", message_ts="1.1")
    assert decision.request.state is State.SCHEDULED
    assert not decision.complete  # nobody runs it now
    others = [
        Workflow(s.ops, stores(), load_all(), s.config, clock=s.clock, replica=f"r{i}")
        for i in range(replicas)
    ]
    assert [await w.due_runs() for w in others] == [([], [])] * replicas  # not yet
    s.clock.now = NOW + 601
    taken = await asyncio.gather(*(w.due_runs() for w in others))
    mine = [r for runs, _ in taken for r in runs]
    assert [r.id for r in mine] == [request.id]
    assert mine[0].state is State.APPROVED  # the taker's to run, heart-beating
    assert all(missed == [] for _, missed in taken)
