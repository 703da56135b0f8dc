from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from habot.config import HabotConfig
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import Bot, make_bot, start_http


@pytest.fixture
async def http_bot(lab_config: HabotConfig, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    bot = await start_http(make_bot(lab_config, fake_slack))
    yield bot
    await bot.stop()
