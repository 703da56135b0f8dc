"""Reads at the node's own speed, on the lab: `/ha status` end to end and a steady poll, with
the long-lived read sessions and without them (every command on its own exec channel), next to
`ssh nodo1 pcs status` and crm_mon run inside the node itself; sshd's CPU on the node.

Run as root with the lab up: `.venv/bin/python -m benchmarks.bench_reads`. Bounded loops,
loopback only."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from pathlib import Path

import aiohttp

from benchmarks.bench_status import _ssh_pcs_status, _status_round_trip
from habot.cluster.live import STATUS
from habot.config import HabotConfig, load_config
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from habot.serving import build_ops
from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import make_bot, start_http

REPEATS = 15
POLLS = 10
TICK = os.sysconf("SC_CLK_TCK")


def with_sessions(config: HabotConfig, sessions: int) -> HabotConfig:
    cluster = config.clusters["mycluster"]
    changed = cluster.model_copy(update={"read_sessions": sessions})
    return config.model_copy(update={"clusters": {"mycluster": changed}})


async def status_round_trips(config: HabotConfig) -> list[float]:
    fake = await FakeSlack().start()
    bot = await start_http(make_bot(config, fake))
    try:
        async with aiohttp.ClientSession() as session:
            await _status_round_trip(session, bot.url, fake)  # warm-up: connection, session
            return [await _status_round_trip(session, bot.url, fake) for _ in range(REPEATS)]
    finally:
        await bot.stop()
        await fake.stop()


def sshd_cpu_s(namespace: str) -> float:
    """CPU seconds of the node's sshd processes (the listener with its reaped children, and
    the sessions alive now)."""
    pids = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    ).stdout.split()
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        if name == "sshd":
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / TICK


async def steady_polls(config: HabotConfig) -> tuple[list[float], float]:
    fake = await FakeSlack().start()
    bot = make_bot(config, fake)
    try:
        await bot.inner.poller.poll("mycluster")  # the first poll reads the lookback
        cpu_before = sshd_cpu_s("habot-nodo1") + sshd_cpu_s("habot-nodo2")
        samples = []
        for _ in range(POLLS):
            started = time.perf_counter()
            await bot.inner.poller.poll("mycluster")
            samples.append(time.perf_counter() - started)
        cpu = sshd_cpu_s("habot-nodo1") + sshd_cpu_s("habot-nodo2") - cpu_before
        return samples, cpu / POLLS
    finally:
        await bot.stop()
        await fake.stop()


def node_crm_mon(lab: Lab) -> list[float]:
    """crm_mon run inside nodo1 itself, timed there (no SSH at all)."""
    loop = (
        f"for i in $(seq {REPEATS}); do s=$(date +%s%N); "
        "crm_mon --one-shot --inactive --output-as=xml >/dev/null; "
        "e=$(date +%s%N); echo $(((e - s) / 1000)); done"
    )
    out = lab.exec("nodo1", ["sh", "-c", loop]).stdout
    return [int(x) / 1e6 for x in out.split()]


def node_three_reads(lab: Lab) -> list[float]:
    """The three reads of a fresh `/ha status` (crm_mon, the constraints, the cluster name:
    habot's own status script) run as root inside nodo1 itself, timed there."""
    loop = (
        f'for i in $(seq {REPEATS}); do s=$(date +%s%N); "$@" >/dev/null; '
        "e=$(date +%s%N); echo $(((e - s) / 1000)); done"
    )
    out = lab.exec("nodo1", ["sh", "-c", loop, "bench", *STATUS]).stdout
    return [int(x) / 1e6 for x in out.split()]


async def service_status(config: HabotConfig) -> list[float]:
    """A fresh `/ha status` through the service (no live view): the node user's habot-node
    over the read session, parsed and judged."""
    ops = build_ops(config)
    try:
        await ops.status(None)  # warm: connection and read session open
        samples = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            await ops.status(None)
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        await ops.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    layout = LabLayout.default()
    config = load_config(layout.config_file)
    lab = Lab(layout)
    fresh = statistics.median(asyncio.run(service_status(with_sessions(config, 2))))
    inside = statistics.median(node_three_reads(lab))
    fast = statistics.median(asyncio.run(status_round_trips(with_sessions(config, 2))))
    slow = statistics.median(asyncio.run(status_round_trips(with_sessions(config, 0))))
    pcs = statistics.median([t for t in (_timed_pcs() for _ in range(REPEATS))])
    own = statistics.median(node_crm_mon(lab))
    poll_fast, cpu_fast = asyncio.run(steady_polls(with_sessions(config, 2)))
    poll_slow, cpu_slow = asyncio.run(steady_polls(with_sessions(config, 0)))
    print("| benchmark | result | target |")
    print("|---|---|---|")
    print(
        f"| fresh `/ha status` through the service, as the node user through habot-node "
        f"(median of {REPEATS}) | {ms(fresh)} | |"
    )
    print(
        f"| the same three reads as root inside nodo1 itself | {ms(inside)} | "
        f"habot ≤ 1.2×: **{fresh / inside:.2f}×** |"
    )
    print(f"| `/ha status` end to end, read sessions (median of {REPEATS}) | {ms(fast)} | |")
    print(f"| `/ha status` end to end, an exec channel per read | {ms(slow)} | |")
    print(f"| `ssh nodo1 pcs status` | {ms(pcs)} | habot ≤ 0.05×: **{fast / pcs:.3f}×** |")
    print(f"| crm_mon inside nodo1 itself | {ms(own)} | habot ≤ 2×: **{fast / own:.2f}×** |")
    print(
        f"| steady poll (2 nodes, journal, status), read sessions (median of {POLLS}) | "
        f"{ms(statistics.median(poll_fast))}, sshd CPU {ms(cpu_fast)} per poll | |"
    )
    print(
        f"| steady poll, an exec channel per read | {ms(statistics.median(poll_slow))}, "
        f"sshd CPU {ms(cpu_slow)} per poll | |"
    )


def _timed_pcs() -> float:
    started = time.perf_counter()
    _ssh_pcs_status()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
