"""Matching, no lab needed: throughput over every real log line in the fixtures (pacemaker.log,
corosync.log and journal captures from real failures), the cost of crafted lines over the
whole catalogue, and one poll of 10,000 crafted lines through the real poller on the scripted
transport. Bounded: fixed inputs, a few seconds each, no network."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from habot.alerts.logline import LogLine, parse_file_line, parse_journal
from habot.alerts.patterns import linear
from habot.alerts.rules import load_catalogue
from tests.alerts.test_delivery import MemorySink, cluster, feed, poller

CRAFTED = {
    "no spaces, 4,000 characters": "x" * 4000,
    "'cannot run on' between long words": "x" * 4000 + " cannot run on " + "y" * 3000,
    "many short words": "a " * 2000,
    "a repeated prefix": "Result of monitor operation for r on n: " * 100,
}
FLOOD = 10_000
# The worst patterns the bounded-repetition check admits, each on the line that makes a
# backtracking matcher explode (the same as tests/alerts/test_patterns.py).
WORST = [
    (r"^(?:a|aa){0,1000}c", "a" * 1000 + "bc"),
    (r"^\S{0,1000}\S{0,1000}\S{0,1000}\S{0,1000}x!", "y" * 1000 + " x!"),
    (r"^(?:a|aa){0,40}c", "a" * 40 + "bc"),
]
BACKTRACKING_BUDGET_S = 10.0  # Python's `re` is stopped here (a child process, killed)


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


def backtracking_throughput(lines: list[LogLine], seconds: float = 3.0) -> float:
    """The same patterns through Python's `re` (what habot used before RE2), for comparison."""
    patterns = [re.compile(p) for r in load_catalogue().rules for p in r.patterns]
    started, rounds = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        for line in lines:
            head = line.head[:1024]
            for pattern in patterns:
                if pattern.search(head):
                    break
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


def worst(pattern: str, text: str) -> tuple[float, str]:
    """(RE2's median time, what Python's backtracking `re` took or "> budget")."""
    compiled = linear(pattern)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        compiled.search(text)
        times.append(time.perf_counter() - started)
    child = f"import re, time; t = time.perf_counter(); re.search({pattern!r}, {text!r}); "
    child += "print(time.perf_counter() - t)"
    try:
        done = subprocess.run(
            [sys.executable, "-c", child],
            capture_output=True,
            text=True,
            timeout=BACKTRACKING_BUDGET_S,
            check=True,
        )
        backtracking = f"{float(done.stdout) * 1e3:,.1f} ms"
    except subprocess.TimeoutExpired:
        backtracking = f"> {BACKTRACKING_BUDGET_S:.0f} s (stopped)"
    re.purge()
    return statistics.median(times), backtracking


def main() -> None:
    print("| benchmark | result |")
    print("|---|---|")
    lines = real_lines()
    rules = len(load_catalogue().rules)
    print(
        f"| matching, whole catalogue ({rules} rules), {len(lines):,} real lines "
        f"(pacemaker.log, corosync.log, lab journals) | {throughput(lines):,.0f} lines/s |"
    )
    print(
        f"| the same lines, the same patterns through Python's backtracking `re` "
        f"| {backtracking_throughput(lines):,.0f} lines/s |"
    )
    for name, text in CRAFTED.items():
        print(
            f"| match one crafted line ({name}), whole catalogue | {per_line(text) * 1e6:.0f} µs |"
        )
    for pattern, text in WORST:
        fast, slow = worst(pattern, text)
        print(
            f"| worst admitted pattern `{pattern}` on {len(text):,} characters: RE2 "
            f"(Python's backtracking `re`: {slow}) | {fast * 1e6:.0f} µs |"
        )
    print(
        f"| one poll of {FLOOD:,} crafted 7,000-character lines (scripted transport) | "
        f"{asyncio.run(flood_poll()):.2f} s |"
    )


if __name__ == "__main__":
    main()
