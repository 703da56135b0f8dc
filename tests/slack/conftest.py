from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from habot.config import HabotConfig
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import Bot, make_bot, start_http


@pytest.fixture
def clock() -> SkewedClock:
    return SkewedClock()


@pytest.fixture
async def http_bot(
    lab_config: HabotConfig, fake_slack: FakeSlack, clock: SkewedClock
) -> AsyncIterator[Bot]:
    bot = await start_http(make_bot(lab_config, fake_slack, clock=clock))
    yield bot
    await bot.stop()
