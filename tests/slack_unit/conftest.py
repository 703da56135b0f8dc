"""The bot on its real HTTP endpoint over a scripted cluster: each module says which cluster
(its own `cluster` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.cluster import Scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import Bot, make_bot, start_http


@pytest.fixture
async def bot(cluster: Scene, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    the_bot = await start_http(
        make_bot(cluster.config, fake_slack, ops=cluster.ops, clock=cluster.clock)
    )
    yield the_bot
    await the_bot.stop()
