"""A flood of crafted log lines (no lab needed): matching cost per line over the whole
catalogue, and one poll of 10,000 such lines through the real poller on the scripted
transport. Bounded: a fixed number of lines, no network."""

from __future__ import annotations

import asyncio
import statistics
import time

from habot.alerts.logline import LogLine
from habot.alerts.rules import load_catalogue
from tests.alerts.test_delivery import MemorySink, cluster, feed, poller

CRAFTED = {
    "no spaces, 4,000 characters": "x" * 4000,
    "'cannot run on' between long words": "x" * 4000 + " cannot run on " + "y" * 3000,
    "many short words": "a " * 2000,
    "a repeated prefix": "Result of monitor operation for r on n: " * 100,
}
FLOOD = 10_000


def per_line(text: str, rounds: int = 200) -> float:
    catalogue = load_catalogue()
    line = LogLine("nodo1", "pacemaker-schedulerd", "error", text)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        catalogue.match(line)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def flood_poll() -> float:
    s, sink = cluster(), MemorySink()
    feed(s, nodo1=[("pacemaker-schedulerd", CRAFTED["'cannot run on' between long words"])] * FLOOD)
    started = time.perf_counter()
    report = await poller(s, sink).poll("mycluster")
    assert report.lines == FLOOD
    return time.perf_counter() - started


def main() -> None:
    print("| benchmark | result |")
    print("|---|---|")
    for name, text in CRAFTED.items():
        print(
            f"| match one crafted line ({name}), whole catalogue | {per_line(text) * 1e6:.0f} µs |"
        )
    print(
        f"| one poll of {FLOOD:,} crafted 7,000-character lines (scripted transport) | "
        f"{asyncio.run(flood_poll()):.2f} s |"
    )


if __name__ == "__main__":
    main()
