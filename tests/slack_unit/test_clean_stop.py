"""A clean stop while a background sweep waits in a worker thread (`asyncio.to_thread`, as
each store call does): the stop waits for it, and nothing logs a traceback (APScheduler used
to log the sweep's CancelledError as a job that raised)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime

import pytest

from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import make_bot, start_http


async def test_a_stop_during_a_sweep_in_a_thread_logs_no_traceback(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    s: Scene = scene()
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    inside, done = threading.Event(), threading.Event()

    def slow() -> None:  # a store call that takes a while
        inside.set()
        time.sleep(1.0)
        done.set()

    async def sweep_work() -> None:
        await asyncio.to_thread(slow)

    bot.inner.start_background(alerts=False)
    assert bot.inner.scheduler is not None
    bot.inner.scheduler.add_job(
        bot.inner.sweep, args=[sweep_work], next_run_time=datetime.now(UTC), id="slow-sweep"
    )
    caplog.set_level(logging.INFO)
    for _ in range(100):  # bounded: the job starts at once
        if inside.is_set():
            break
        await asyncio.sleep(0.02)
    assert inside.is_set()
    await bot.stop()  # SIGTERM's path
    assert done.is_set()  # it ended, not cut
    assert not [r for r in caplog.records if r.exc_info or "raised an exception" in r.message]
