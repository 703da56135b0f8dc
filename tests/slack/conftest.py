from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from habot.config import HabotConfig, load_config
from habot.lab.lab import Lab
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import Bot, make_bot, start_http


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
def lab_config(lab: Lab) -> HabotConfig:
    return load_config(lab.layout.config_file)


@pytest.fixture
async def http_bot(lab_config: HabotConfig, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    bot = await start_http(make_bot(lab_config, fake_slack))
    yield bot
    await bot.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s
