"""Alert benchmarks: latency (line written → card posted) vs the poll interval, poll cost on
a 1 M-line log vs a 1 k-line log, and pattern matching throughput over the whole catalogue.

`.venv/bin/python -m benchmarks.bench_alerts` (lab up, as root). Bounded: a few polls.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from habot.alerts.logline import parse_file_line
from habot.alerts.rules import load_catalogue
from habot.config import HabotConfig, load_config
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from tests.alerts.variants import with_alerts
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import make_bot

INTERVAL_S = 2.0
LATENCY_ROUNDS = 5
POLL_ROUNDS = 5
LOG = (
    Path(__file__).parents[1]
    / "tests"
    / "fixtures"
    / "logs"
    / "pacemaker_log_nodo1_2node_session.log"
)


async def latency(lab: Lab, config: HabotConfig) -> list[float]:
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = make_bot(
            with_alerts(config, nodes=1, interval_s=INTERVAL_S), fake, db=Path(tmp) / "b.db"
        )
        await bot.inner.poller.poll("mycluster")  # the first poll reads the lookback
        bot.inner.start_background()
        samples = []
        try:
            for i in range(LATENCY_ROUNDS):
                await asyncio.sleep(INTERVAL_S * (i % 3) / 3)  # land at several phases
                name = f"bench{int(time.time() * 1000) % 10**9}"  # never seen before
                key = f"`node-lost:{name}`"
                written = time.time()
                lab.exec(
                    "nodo1",
                    [
                        "logger",
                        "-t",
                        "pacemaker-controld",
                        f"notice: Node {name} state is now lost",
                    ],
                )
                await fake.wait_for(
                    "the card",
                    lambda key=key: [  # type: ignore[misc]
                        c for c in fake.calls_to("chat.postMessage") if key in json.dumps(c.params)
                    ],
                    timeout=30,
                )
                samples.append(time.time() - written)
        finally:
            await bot.stop()
            await fake.stop()
    return samples


async def poll_cost(lab: Lab, config: HabotConfig, lines: int) -> list[float]:
    path = f"/var/log/pacemaker/habot-bench-{lines}.log"
    line = "Nov 25 08:32:57.477 nodo1 pacemaker-controld  [61] (do_state_transition) \tinfo: idle"
    lab.exec("nodo1", ["sh", "-c", f'yes "$1" | head -n {lines} > {path}', "_", line])
    fake = await FakeSlack().start()
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        bot = make_bot(
            with_alerts(config, nodes=1, sources=("file",), log_file=path),
            fake,
            db=Path(tmp) / "b.db",
        )
        try:
            await bot.inner.poller.poll("mycluster")  # first poll: the file's last 1 MiB
            for _ in range(POLL_ROUNDS):
                lab.exec("nodo1", ["sh", "-c", f'yes "$1" | head -n 10 >> {path}', "_", line])
                started = time.perf_counter()
                report = await bot.inner.poller.poll("mycluster")
                samples.append(time.perf_counter() - started)
                assert report.lines == 10
        finally:
            await bot.stop()
            await fake.stop()
            lab.exec("nodo1", ["rm", "-f", path])
    return samples


def throughput() -> float:
    catalogue = load_catalogue()
    raw = LOG.read_bytes().splitlines()
    lines = [ln for r in raw if (ln := parse_file_line("nodo1", r))]
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < 3.0:
        for ln in lines:
            catalogue.match(ln)
        rounds += 1
    return rounds * len(lines) / (time.perf_counter() - started)


def main() -> None:
    lab = Lab(LabLayout.default())
    config = load_config(lab.layout.config_file)
    lat = asyncio.run(latency(lab, config))
    small = asyncio.run(poll_cost(lab, config, 1_000))
    big = asyncio.run(poll_cost(lab, config, 1_000_000))
    rate = throughput()
    print("| benchmark | result | target |")
    print("|---|---|---|")
    print(
        f"| alert latency, line written → card posted, poll every {INTERVAL_S:g} s "
        f"(median of {LATENCY_ROUNDS}) | {statistics.median(lat):.2f} s (max {max(lat):.2f} s)"
        f" | ≤ interval + one poll |"
    )
    print(
        f"| steady poll, file source, 1 k-line log (median of {POLL_ROUNDS}) | "
        f"{statistics.median(small) * 1000:.0f} ms | |"
    )
    print(
        f"| steady poll, file source, 1 M-line log (median of {POLL_ROUNDS}) | "
        f"{statistics.median(big) * 1000:.0f} ms | ≤ 1.5× the 1 k-line log: "
        f"{statistics.median(big) / statistics.median(small):.2f}× |"
    )
    print(
        f"| pattern matching, whole catalogue ({len(load_catalogue().rules)} rules), real "
        f"pacemaker.log lines | {rate:,.0f} lines/s | |"
    )


if __name__ == "__main__":
    main()
