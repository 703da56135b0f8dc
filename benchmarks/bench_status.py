"""`/ha status` benchmarks: ack latency, end to end vs pcs status vs crm_mon, parse time.

Run on the lab (`habot lab up` first, as root): `.venv/bin/python -m benchmarks.bench_status`.
Prints a markdown table; every loop is bounded in count and sends traffic to loopback only.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp

from benchmarks.synthetic import crm_mon_xml
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import CRM_MON
from habot.config import load_config
from habot.lab.layout import LabLayout
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import make_bot, signed_headers, slash_payload, start_http

ACK_REQUESTS = 50
REPEATS = 10


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def ack_latency() -> list[float]:
    config = load_config(LabLayout.default().config_file)
    fake = await FakeSlack().start()
    bot = await start_http(make_bot(config, fake))
    try:
        async with aiohttp.ClientSession() as session:
            await _post(session, bot.url, fake)  # warm-up: auth.test, first SSH connection
            await bot.jobs.wait_idle()
            timings = await asyncio.gather(
                *(_post(session, bot.url, fake) for _ in range(ACK_REQUESTS))
            )
            await bot.jobs.wait_idle()
    finally:
        await bot.stop()
        await fake.stop()
    return list(timings)


async def _post(session: aiohttp.ClientSession, url: str, fake: FakeSlack) -> float:
    body = urlencode(slash_payload(fake, "status"))
    started = time.perf_counter()
    async with session.post(url, data=body, headers=signed_headers(body)) as response:
        await response.read()
        assert response.status == 200
    return time.perf_counter() - started


async def end_to_end() -> dict[str, list[float]]:
    config = load_config(LabLayout.default().config_file)
    fake = await FakeSlack().start()
    bot = await start_http(make_bot(config, fake))
    handle = bot.ops.cluster(None)
    node = handle.config.nodes[0].address()
    results: dict[str, list[float]] = {"habot": [], "pcs": [], "crm_mon": []}
    try:
        async with aiohttp.ClientSession() as session:
            await handle.transport.run(node, CRM_MON, timeout=30)  # open the connection
            for _ in range(REPEATS):
                results["habot"].append(await _status_round_trip(session, bot.url, fake))
                results["pcs"].append(await _timed(lambda: asyncio.to_thread(_ssh_pcs_status)))
                results["crm_mon"].append(
                    await _timed(lambda: handle.transport.run(node, CRM_MON, timeout=30))
                )
    finally:
        await bot.stop()
        await fake.stop()
    return results


async def _status_round_trip(session: aiohttp.ClientSession, url: str, fake: FakeSlack) -> float:
    payload = slash_payload(fake, "status")
    key = payload["response_url"].rsplit("/", 1)[1]
    body = urlencode(payload)
    started = time.perf_counter()
    async with session.post(url, data=body, headers=signed_headers(body)) as response:
        await response.read()
    await fake.wait_for("status", lambda: any(k == key for k, _ in fake.responses))
    return time.perf_counter() - started


def _ssh_pcs_status() -> None:
    config = str(LabLayout.default().ssh_dir / "ssh_config")
    subprocess.run(
        ["ssh", "-F", config, "nodo1", "sudo", "-n", "pcs", "status"],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def _timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


def parse_time() -> list[float]:
    document = crm_mon_xml(nodes=32, resources=1000)
    samples = []
    for _ in range(REPEATS * 3):
        started = time.perf_counter()
        status = parse_crm_mon(document)
        samples.append(time.perf_counter() - started)
        assert len(status.resources) == 1000
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    acks = asyncio.run(ack_latency())
    e2e = asyncio.run(end_to_end())
    parse = parse_time()
    habot, pcs, bare = (statistics.median(e2e[k]) for k in ("habot", "pcs", "crm_mon"))
    print("| benchmark | result | target |")
    print("|---|---|---|")
    print(
        f"| ack latency, {ACK_REQUESTS} concurrent signed `/ha status` | p50 "
        f"{ms(percentile(acks, 50))}, p99 {ms(percentile(acks, 99))} | p99 < 100 ms |"
    )
    print(f"| `/ha status` end to end (median of {REPEATS}) | {ms(habot)} | |")
    print(
        f"| `ssh nodo1 pcs status` (median of {REPEATS}) | {ms(pcs)} | habot ≤ 0.5× of it: "
        f"{habot / pcs:.2f}× |"
    )
    print(
        f"| `crm_mon --output-as=xml` over an open SSH connection (median) | {ms(bare)} | "
        f"habot ≤ 1.3× of it: {habot / bare:.2f}× |"
    )
    print(
        f"| parse crm_mon XML, 32 nodes × 1,000 resources (median of {len(parse)}) | "
        f"{ms(statistics.median(parse))} | < 50 ms |"
    )


if __name__ == "__main__":
    main()
