"""Forms and the home tab against Slack's 3 s: the bot on its real HTTP endpoint, the lab
cluster behind it, the fake Slack recording. Timed: the slash command's ack, `/ha ban` until
the form is filled (views.update), a submission's ack (the values checked against the live
cluster), a typed filter's ack on the lab, opening the home tab until it is published; and a
typed filter's ack over 160 resources (a real crm_mon capture, scripted transport).

Run on the lab (`habot lab up`), as root: `.venv/bin/python -m benchmarks.bench_forms`.
Prints a markdown table; every loop is bounded in count and talks to loopback only.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from habot.config import HabotConfig, load_config
from habot.lab.layout import LabLayout
from tests.fakes.cluster import scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import form
from tests.slack.harness import (
    Bot,
    make_bot,
    post_command,
    post_event,
    post_payload,
    start_http,
    submission,
    suggestion,
)

ROUNDS = 10
MANY = Path(__file__).parents[1] / "tests/fixtures/crm_mon_rendered/many_resources/crm_mon.xml"
Sample = dict[str, list[float]]


async def timed(samples: Sample, name: str, work: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await work()
    samples.setdefault(name, []).append(time.perf_counter() - started)
    return result


async def one_round(bot: Bot, session: aiohttp.ClientSession, samples: Sample, i: int) -> None:
    before = len(bot.fake.calls_to("views.open"))
    started = time.perf_counter()
    await timed(
        samples, "`/ha ban`: the slash command's ack", lambda: post_command(session, bot, "ban")
    )
    view = await form(bot, before=before)
    samples.setdefault("`/ha ban` → the form filled from the cluster", []).append(
        time.perf_counter() - started
    )
    await timed(
        samples,
        "a typed filter's ack (lab, `web`)",
        lambda: post_payload(session, bot, suggestion(view, "resource", "web", "UALICE")),
    )
    bad = {"resource": "VirtualIP", "node": "nodo9"}
    await timed(
        samples,
        "a submission's ack, a field refused (checked on the lab)",
        lambda: post_payload(session, bot, submission(view, "UALICE", bad)),
    )
    published = len(bot.fake.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": f"U{i}", "channel": "D1", "tab": "home"}
    started = time.perf_counter()
    await post_event(session, bot, event)
    await bot.fake.wait_for("the tab", lambda: bot.fake.calls_to("views.publish")[published:])
    samples.setdefault("home tab opened → published", []).append(time.perf_counter() - started)


async def measure(config: HabotConfig) -> Sample:
    samples: Sample = {}
    fake = await FakeSlack().start()
    bot = await start_http(make_bot(config, fake))
    try:
        async with aiohttp.ClientSession() as session:
            await one_round(bot, session, {}, -1)  # warm: connections and read sessions open
            for i in range(ROUNDS):
                await one_round(bot, session, samples, i)
    finally:
        await bot.stop()
        await fake.stop()
    samples.update(await many_resources())
    return samples


async def many_resources() -> Sample:
    samples: Sample = {}
    s = scene(capture=MANY)
    fake = await FakeSlack().start()
    bot = await start_http(make_bot(s.config, fake, ops=s.ops, clock=s.clock))
    try:
        async with aiohttp.ClientSession() as session:
            await post_command(session, bot, "ban")
            view = await form(bot)
            for typed in ["", "svc", "svc-1", "svc-14", "Web", "x"] * 2:
                await timed(
                    samples,
                    "a typed filter's ack, 160 resources (scripted)",
                    lambda typed=typed: post_payload(
                        session, bot, suggestion(view, "resource", typed, "UALICE")
                    ),
                )
    finally:
        await bot.stop()
        await fake.stop()
    return samples


def main() -> None:
    config = load_config(LabLayout.default().config_file)
    samples = asyncio.run(measure(config))
    print("| path | rounds | p50 | max | Slack's limit |")
    print("|---|---|---|---|---|")
    for name, values in samples.items():
        p50 = statistics.median(values) * 1000
        print(f"| {name} | {len(values)} | {p50:.0f} ms | {max(values) * 1000:.0f} ms | 3 s |")


if __name__ == "__main__":
    main()
