"""Every incident told, on the lab through the fake Slack: `habot serve` polling every 30 s and
following both journals; nodo2 crashed, fenced and back, again and again. Each loss is a new
card (which notifies) within a second of the cluster logging it, its times are that outage's
own, it resolves within `resolve_after_s` of nodo2's return (or when the next loss begins);
a node that keeps failing becomes one flapping card, notifying once."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from habot.alerts.lifecycle import Alert
from habot.config import HabotConfig
from habot.lab.lab import Lab
from tests.alerts.test_alerts_lab import ALERTS
from tests.alerts.variants import with_alerts
from tests.fakes.slack_server import Call, FakeSlack
from tests.lab.cluster import configure_seed_fencing
from tests.slack.harness import Bot, make_bot

pytestmark = pytest.mark.lab
KEY = "node-lost:nodo2"
APART_S = 27.0  # one crash every 25 to 30 s
RESOLVE_AFTER_S = 30.0  # node-lost's resolve_after_s


@dataclass
class Cycle:
    crashed: float  # wall clock
    card: Call | None  # the new card (None: the loss was counted on a flapping card)
    loss: float  # the loss line's own time (the cluster's clock: the same host here)
    back: float  # nodo2's return ("state is now member"), as nodo1 logged it

    @property
    def posted(self) -> float:
        assert self.card is not None
        return wall(self.card)


def posts(bot: Bot, key: str) -> list[Call]:
    return [
        c
        for c in bot.fake.calls_to("chat.postMessage")
        if c.params.get("channel") == ALERTS and f"`{key}`" in str(c.params.get("blocks"))
    ]


def wall(call: Call) -> float:
    """A fake Slack call's monotonic time as wall-clock time."""
    return time.time() - (time.monotonic() - call.at)


def returned_at(lab: Lab, since: float) -> float:
    """When nodo1 logged nodo2 back (the first "state is now member" after `since`)."""
    out = lab.exec(
        "nodo1",
        [
            "journalctl",
            "-o",
            "short-unix",
            f"--since=@{since:.0f}",
            "--grep",
            "nodo2 state is now member",
        ],
        check=False,
    ).stdout
    stamps = [float(line.split()[0]) for line in out.splitlines() if line[:1].isdigit()]
    return min((t for t in stamps if t >= since), default=0.0)


async def crash_cycle(lab: Lab, bot: Bot, *, notified: bool = True) -> Cycle:
    before = len(posts(bot, KEY))
    crashed = time.time()
    lab.crash("nodo2")

    def this_loss() -> list[Alert]:
        alert = bot.workflow.store.alert("mycluster", KEY)
        return [alert] if alert is not None and alert.line_last >= crashed else []

    card = None
    if notified:
        card = (await bot.fake.wait_for("a new card", lambda: posts(bot, KEY)[before:], 30))[0]
    (alert,) = await bot.fake.wait_for("the loss", this_loss, timeout=30)
    for _ in range(80):  # bounded: fenced, rebooted, back (about 15 s)
        back = returned_at(lab, crashed)
        if back:
            break
        await asyncio.sleep(0.5)
    assert back, "nodo2 did not come back"
    loss = alert.episode_at or alert.line_first
    return Cycle(crashed, card, loss, back)


async def until_apart(cycle: Cycle) -> None:
    await asyncio.sleep(max(0.0, cycle.crashed + APART_S - time.time()))


def stored(bot: Bot, predicate: object) -> list[Alert]:
    return [
        a
        for a in bot.workflow.store.alerts("mycluster", active_only=False)
        if a.rule == "node-lost" and predicate(a)  # type: ignore[operator]
    ]


async def test_a_node_that_fails_again_and_again_is_told_each_time(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    lab.wait_online(60)
    # from now on (lookback 0): the crashes of earlier tests are not this node's episodes
    config = with_alerts(lab_config, interval_s=30, lookback_s=0)
    bot = make_bot(config, fake_slack, db=tmp_path / "h.db")
    bot.inner.start_background()
    poller = bot.inner.poller
    try:
        for _ in range(150):  # bounded: both journals followed within 15 s
            if poller.polls and poller.followed("mycluster") == {"nodo1", "nodo2"}:
                break
            await asyncio.sleep(0.1)
        assert poller.followed("mycluster") == {"nodo1", "nodo2"}
        cycles: list[Cycle] = []
        for _ in range(3):
            cycles.append(await crash_cycle(lab, bot))
            await until_apart(cycles[-1])
        # each loss notified: a card of its own, within a second of the loss (p50)
        delays = [c.posted - c.loss for c in cycles]
        assert statistics.median(delays) < 1.0, delays
        said = [str(c.card.params.get("text", "")) for c in cycles if c.card is not None]
        assert ["time in" in text for text in said] == [False, True, True]
        # each card's times are its outage's own; each resolves within resolve_after_s + 5 s
        # of the return (the earlier ones as the next loss began: they ended at the return)
        last = cycles[-1]
        await bot.fake.wait_for(
            "the last card resolved",
            lambda: [
                a
                for a in stored(bot, lambda a: a.state.value == "resolved")
                if abs(a.line_first - last.loss) < 1
            ],
            timeout=max(5.0, last.back + RESOLVE_AFTER_S + 5 - time.time()),
        )
        for cycle in cycles:
            (alert,) = stored(bot, lambda a, c=cycle: abs(a.line_first - c.loss) < 1)
            assert alert.state.value == "resolved", alert.key
            assert abs(alert.ended_at - cycle.back) <= 2, (alert.ended_at, cycle.back)
            assert alert.last_seen <= cycle.back + RESOLVE_AFTER_S + 5
        # two more: the fourth loss in 10 min is one flapping card, the fifth only counted
        for notified in (True, False):
            cycles.append(await crash_cycle(lab, bot, notified=notified))
            await until_apart(cycles[-1])
        assert len(posts(bot, KEY)) == 4  # notified four times for five losses
        flapping = bot.workflow.store.alert("mycluster", KEY)
        assert flapping is not None
        assert flapping.flapping
        assert "FLAPPING" in str(posts(bot, KEY)[-1].params.get("text"))
    finally:
        await bot.stop()
        lab.wait_online(120)
