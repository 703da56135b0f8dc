"""`/ha status` of a cluster too large for one message (a real crm_mon rendering of 160
resources): the message shows what fits and names the file that holds the whole status,
uploaded to the channel; a status that fits (the false friend) uploads nothing."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import CHANNEL, answer
from tests.slack.harness import make_bot, start_http

MANY = Path(__file__).parents[1] / "fixtures" / "crm_mon_rendered" / "many_resources"


@pytest.mark.parametrize(
    ("capture", "whole"), [(MANY / "crm_mon.xml", True), ("lab_seed_fenced.xml", False)]
)
async def test_a_status_too_large_for_a_message_comes_whole_as_a_file(
    session: aiohttp.ClientSession, fake_slack: FakeSlack, capture: Path | str, whole: bool
) -> None:
    s: Scene = scene(capture=capture, approvers=["UBOB"], allowed_channels=[CHANNEL])
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    try:
        text = await answer(bot, session, "status", "UBOB")
        if not whole:
            assert fake_slack.uploads == {}
            assert "The whole status is in" not in text
            return
        assert "more lines" in text  # the message holds what fits
        assert "The whole status is in `status-mycluster.txt`, here." in text
        (upload,) = fake_slack.uploads.values()
        lines = upload.decode().splitlines()
        assert lines[0].startswith("== mycluster:")
        assert sum(ln.startswith("  svc-") for ln in lines) == 150  # every one of them
        (done,) = fake_slack.calls_to("files.completeUploadExternal")
        assert done.params["channel_id"] == CHANNEL
    finally:
        await bot.stop()
