"""/healthz, /readyz and /metrics on the bot's real HTTP port (no Slack signature needed),
the ack timer on signed requests, and logs for machines."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import aiohttp
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from habot import log_format
from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Bot,
    make_bot,
    post_command,
    start_http,
)


@pytest.fixture
def cluster() -> Scene:
    return scene()


def base(bot: Bot) -> str:
    return bot.probes_url


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def test_health_needs_nothing_but_the_process(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    assert await get(session, base(bot) + "/healthz") == (200, "ok\n")


async def test_ready_when_the_database_and_slack_answer(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    assert await get(session, base(bot) + "/readyz") == (200, "ready\n")
    assert [c for c in bot.fake.calls if c.method == "auth.test"]


async def test_not_ready_says_what_without_a_secret(
    cluster: Scene, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    bot = await start_http(make_bot(cluster.config, fake_slack, ops=cluster.ops))
    try:
        fake_slack.fail("auth.test", "invalid_auth")
        status, text = await get(session, base(bot) + "/readyz")
        assert (status, text) == (503, "not ready: slack: invalid_auth\n")
        bot.inner.store.close()  # the database goes away
        status, text = await get(session, base(bot) + "/readyz")
        assert status == 503
        assert text.startswith("not ready: database: not answering")
        assert BOT_TOKEN not in text
    finally:
        await bot.stop()  # a closed database is reported, not raised, at stop


async def test_readyz_asks_slack_at_most_once_a_minute_even_when_refused(
    cluster: Scene, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """An unauthenticated caller hitting /readyz cannot make habot hammer Slack's auth.test."""
    bot = await start_http(make_bot(cluster.config, fake_slack, ops=cluster.ops))
    try:
        fake_slack.fail("auth.test", "invalid_auth")
        before = len([c for c in fake_slack.calls if c.method == "auth.test"])
        answers = [await get(session, base(bot) + "/readyz") for _ in range(5)]
        assert set(answers) == {(503, "not ready: slack: invalid_auth\n")}
        asked = len([c for c in fake_slack.calls if c.method == "auth.test"]) - before
        assert asked == 1
    finally:
        await bot.stop()


async def test_the_slack_port_serves_no_probe_and_no_metrics(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    """In HTTP mode the Slack port is public: metrics and readiness live elsewhere."""
    slack_port = bot.url.rsplit("/slack/events", 1)[0]
    for path in ("/metrics", "/readyz", "/healthz"):
        status, _ = await get(session, slack_port + path)
        assert status == 404, path
    assert slack_port != base(bot)


async def test_metrics_count_requests_and_reveal_no_secret(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    status, _, _ = await post_command(session, bot, "help")
    assert status == 200
    status, text = await get(session, base(bot) + "/metrics")
    assert status == 200
    assert 'habot_slack_requests_total{kind="command"}' in text
    assert "habot_slack_ack_seconds_count" in text
    assert BOT_TOKEN not in text
    assert SIGNING_SECRET not in text


async def test_a_run_counts_by_runbook_and_outcome(
    bot: Bot, cluster: Scene, session: aiohttp.ClientSession
) -> None:
    status, text = await get(session, base(bot) + "/metrics")
    assert status == 200
    assert "# TYPE habot_runs_total counter" in text
    assert "# TYPE habot_ssh_command_seconds histogram" in text
    assert "# TYPE habot_poll_leader gauge" in text


def test_json_logs_carry_the_context() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(log_format.ContextFilter())
    handler.setFormatter(log_format.JsonFormatter())
    logger = logging.getLogger("habot.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        token = log_format.CLUSTER.set("mycluster")
        run = log_format.RUN_ID.set("r1")
        logger.info("step %d of %s", 2, "failover")
        log_format.CLUSTER.reset(token)
        log_format.RUN_ID.reset(run)
        logger.warning("no context")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "step 2 of failover"
    assert (first["cluster"], first["run_id"], first["level"]) == ("mycluster", "r1", "INFO")
    assert "cluster" not in second
    assert second["time"].endswith("Z")


@pytest.mark.parametrize(("level", "chatty"), [("INFO", False), ("DEBUG", True)])
async def test_library_chatter_only_when_debugging(
    level: str, chatty: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real APScheduler job run twice: its "Running job" / "executed successfully" lines
    (two per poll and per sweep) reach the log only at DEBUG; asyncssh's likewise."""
    root = logging.getLogger()
    names = ("asyncssh", "apscheduler")
    saved = (list(root.handlers), root.level, [logging.getLogger(n).level for n in names])
    ran = asyncio.Event()
    runs: list[int] = []

    async def job() -> None:
        runs.append(1)
        if len(runs) == 2:
            ran.set()

    try:
        log_format.configure(level, "text")
        scheduler = AsyncIOScheduler()
        scheduler.add_job(job, "interval", seconds=0.05)
        scheduler.start()
        await asyncio.wait_for(ran.wait(), 10)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
        logging.getLogger("asyncssh").info("[conn=0] Connected")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, old in zip(names, saved[2], strict=True):
            logging.getLogger(name).setLevel(old)
    err = capsys.readouterr().err
    assert ("Running job" in err) is chatty
    assert ("executed successfully" in err) is chatty
    assert ("[conn=0] Connected" in err) is chatty
