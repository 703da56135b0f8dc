"""A restart in the middle of a run: the run is marked interrupted, said so, never re-run."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from habot.approvals.model import State
from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.serving import announce_interrupted
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import (
    configure_seed_fencing,
    seed_running,
)
from tests.slack.flows import click, request_card, thread_posts
from tests.slack.harness import make_bot, start_http

pytestmark = pytest.mark.lab


async def test_restart_marks_the_run_interrupted_and_runs_nothing(
    lab: Lab,
    lab_config: HabotConfig,
    fake_slack: FakeSlack,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    seed_running(lab)
    db = tmp_path / "habot.sqlite3"
    bot = await start_http(make_bot(lab_config, fake_slack, db=db))
    card = await request_card(session, bot, "runbook failover-test")
    await click(session, bot, card, "habot_approve", "UBOB")
    await fake_slack.wait_for("the first step", lambda: len(thread_posts(bot, card)) >= 2)
    await bot.jobs.shutdown(grace_s=0)  # habot stops mid-run
    await bot.stop()
    request_id = str(card["blocks"]).split("request `")[1].split("`")[0]
    commands_before = _commands(db, request_id)

    again = make_bot(lab_config, fake_slack, db=db)
    try:
        await announce_interrupted(again.inner)
        posts = thread_posts(again, card)
        assert any("marked interrupted and nothing was re-run" in p for p in posts)
        request = again.workflow.store.request(request_id)
        assert request is not None
        assert request.state is State.INTERRUPTED
        assert await again.workflow.busy_with("mycluster") is None
        await again.jobs.wait_idle()
        assert _commands(db, request_id) == commands_before
    finally:
        await again.stop()
    lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)


def _commands(db: Path, request_id: str) -> int:
    from habot.store import Store

    store = Store(db)
    try:
        return sum(1 for e in store.audit_log(500, request_id=request_id) if e.event == "command")
    finally:
        store.close()
