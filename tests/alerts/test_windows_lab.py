"""A maintenance window on the lab through signed Slack requests: a monitor failure on the
window's node is told in its thread, the same failure on the other node still posts its
card in the alerts channel, and the window's end broadcasts what came during it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from habot.config import HabotConfig
from habot.lab.lab import Lab
from tests.alerts.test_alerts_lab import ALERTS
from tests.alerts.variants import with_alerts
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import configure_seed_fencing, crm_mon, resource_nodes, ssh, wait_for
from tests.slack.flows import answer
from tests.slack.harness import Bot, make_bot, post_command, start_http

pytestmark = pytest.mark.lab


@pytest.fixture
async def alert_bot(
    lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Bot]:
    bot = await start_http(make_bot(with_alerts(lab_config), fake_slack, db=tmp_path / "db"))
    yield bot
    await bot.stop()


def failed_on(lab: Lab) -> set[str]:
    return {
        f.get("node", "")
        for f in crm_mon(lab, "nodo1").iter("failure")
        if "canary" in str(f.attrib)
    }


async def test_a_windows_node_is_told_in_its_thread_and_the_other_still_posts(
    lab: Lab,
    alert_bot: Bot,
    session: aiohttp.ClientSession,
) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    ssh(lab, "nodo1", "pcs resource create canary ocf:pacemaker:Dummy op monitor interval=3s clone")
    try:
        wait_for(
            "canary on both nodes",
            lambda: sorted(resource_nodes(crm_mon(lab, "nodo1"), "canary")) == ["nodo1", "nodo2"],
        )
        await alert_bot.inner.poller.poll("mycluster")  # what earlier tests left: seen now
        status, _, _ = await post_command(
            session, alert_bot, "maintenance start node=nodo2 for 1h kernel", user="UALICE"
        )
        assert status == 200
        (opened,) = await alert_bot.fake.wait_for(
            "the window's message",
            lambda: [
                c
                for c in alert_bot.fake.calls_to("chat.postMessage")
                if "Maintenance on mycluster" in str(c.params.get("text"))
            ],
        )
        window = opened.answer["ts"]
        before = len(alert_bot.fake.calls_to("chat.postMessage"))
        for node in ("nodo2", "nodo1"):
            ssh(lab, node, "rm -f /run/Dummy-canary.state")  # the service "dies" on both
        wait_for("both failures", lambda: failed_on(lab) == {"nodo1", "nodo2"}, timeout=30)
        await alert_bot.inner.poller.poll("mycluster")
        posts = alert_bot.fake.calls_to("chat.postMessage")[before:]
        in_thread = [json.dumps(c.params) for c in posts if c.params.get("thread_ts") == window]
        in_channel = [json.dumps(c.params) for c in posts if c.params.get("channel") == ALERTS]
        assert any("canary-clone monitor failed on nodo2" in p for p in in_thread), in_thread
        assert any("canary-clone monitor failed on nodo1" in p for p in in_channel), in_channel
        assert not any("failed on nodo2" in p for p in in_channel)
        assert "its summary is in its thread" in await answer(
            alert_bot, session, "maintenance stop", "UALICE"
        )
        end = alert_bot.fake.calls_to("chat.postMessage")[-1].params
        assert (end["thread_ts"], end["reply_broadcast"]) == (window, True)
        assert "during the window" in str(end["text"])
        assert "canary" in str(end["text"])
    finally:
        ssh(lab, "nodo1", "pcs resource delete canary --force")
