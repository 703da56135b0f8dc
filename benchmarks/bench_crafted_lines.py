"""Matching, no lab needed: throughput over every real log line in the fixtures (pacemaker.log,
corosync.log and journal captures from real failures), the cost of crafted lines over the
whole catalogue, and one poll of 10,000 crafted lines through the real poller on the scripted
transport. Bounded: fixed inputs, a few seconds each, no network."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from habot.alerts.logline import LogLine, parse_file_line, parse_journal
from habot.alerts.rules import load_catalogue
from tests.alerts.test_delivery import MemorySink, cluster, feed, poller

CRAFTED = {
    "no spaces, 4,000 characters": "x" * 4000,
    "'cannot run on' between long words": "x" * 4000 + " cannot run on " + "y" * 3000,
    "many short words": "a " * 2000,
    "a repeated prefix": "Result of monitor operation for r on n: " * 100,
}
FLOOD = 10_000


LOGS = Path(__file__).parents[1] / "tests" / "fixtures" / "logs"


def real_lines() -> list[LogLine]:
    found: list[LogLine] = []
    for path in sorted(LOGS.rglob("*")):
        if path.suffix == ".json":
            found += parse_journal(path.parent.name, path.read_bytes()).lines
        elif path.suffix in (".log", ".txt") and path.name != "NOTES.txt":
            found += [ln for r in path.read_bytes().splitlines() if (ln := parse_file_line("n", r))]
    return found


def throughput(lines: list[LogLine], seconds: float = 3.0) -> float:
    catalogue = load_catalogue()
    started, rounds = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        for line in lines:
            catalogue.match(line)
        rounds += 1
    return rounds * len(lines) / (time.perf_counter() - started)


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
    lines = real_lines()
    rules = len(load_catalogue().rules)
    print(
        f"| matching, whole catalogue ({rules} rules), {len(lines):,} real lines "
        f"(pacemaker.log, corosync.log, lab journals) | {throughput(lines):,.0f} lines/s |"
    )
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
