"""Events as they happen: alert latency (event on the node → card posted in the fake Slack)
with `interval_s: 30`, following each node's journal vs polling only, side by side in one
run; a real failure injected by hand (`crm_resource --fail`) on each path; and loss or
doubles across a habot restart (records logged while it is down).

`.venv/bin/python -m benchmarks.bench_events` (lab up, as root; fencing is configured first).
Bounded: a fixed number of rounds, each waiting at most 45 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from habot.config import HabotConfig, load_config
from habot.lab import processes
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from habot.slack import blocks
from tests.alerts.variants import with_alerts
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import configure_seed_fencing, crm_mon, resource_nodes, wait_for
from tests.slack.harness import Bot, make_bot

INTERVAL_S = 30.0
CPU_WINDOW_S = 120.0
STATUS_ROUNDS = 20  # four polls: the nodes' CPU for habot's work, per mode
TICKS = os.sysconf("SC_CLK_TCK")
FOLLOW_ROUNDS = 20
POLL_ROUNDS = 8
RESTART_LINES = 10


def cards(fake: FakeSlack, key: str) -> list[object]:
    return [
        c
        for method in ("chat.postMessage", "chat.update")
        for c in fake.calls_to(method)
        if f"`{key}`" in json.dumps(c.params)
    ]


async def started(config: HabotConfig, fake: FakeSlack, db: Path) -> Bot:
    bot = make_bot(config, fake, db=db)
    bot.inner.start_background()
    for _ in range(100):  # the first poll, then the streams (when following)
        if bot.inner.poller.polls and (
            not follows(config) or len(bot.inner.poller.followed("mycluster")) == 2
        ):
            break
        await asyncio.sleep(0.1)
    return bot


def follows(config: HabotConfig) -> bool:
    return config.clusters["mycluster"].alerts.follow


def lost_line(lab: Lab, name: str) -> None:
    lab.exec(
        "nodo1", ["logger", "-t", "pacemaker-controld", f"notice: Node {name} state is now lost"]
    )


async def latency(lab: Lab, config: HabotConfig, rounds: int) -> list[float]:
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = await started(config, fake, Path(tmp) / "b.db")
        samples = []
        try:
            for i in range(rounds):
                # polling: land at every phase of the interval (following: 1 s apart)
                await asyncio.sleep(1 + INTERVAL_S * ((i * 0.37) % 1) * (not follows(config)))
                name = f"ev{int(time.time() * 1000) % 10**9}"
                written = time.time()
                lost_line(lab, name)
                await fake.wait_for(
                    "the card",
                    lambda n=name: cards(fake, f"node-lost:{n}"),
                    timeout=45,  # type: ignore[misc]
                )
                samples.append(time.time() - written)
        finally:
            await bot.stop()
            await fake.stop()
    return samples


async def real_failure(lab: Lab, config: HabotConfig) -> float:
    (node,) = resource_nodes(crm_mon(lab, "nodo1"), "WebSite")
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = await started(config, fake, Path(tmp) / "b.db")
        try:
            await asyncio.sleep(2)
            key = f"resource-failed:WebSite:{node}"
            before = len(cards(fake, key))  # the lookback may have found an earlier one
            injected = time.time()
            lab.exec("nodo1", ["crm_resource", "--fail", "--resource", "WebSite", "--node", node])
            await fake.wait_for("the card", lambda: len(cards(fake, key)) > before, timeout=45)
            return time.time() - injected
        finally:
            await bot.stop()
            await fake.stop()
            lab.exec("nodo1", ["pcs", "resource", "cleanup", "WebSite"], check=False, timeout=120)
            wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite"))


async def across_a_restart(lab: Lab, config: HabotConfig) -> tuple[int, int]:
    """(cards posted, doubles) for RESTART_LINES events, half logged while habot is down."""
    fake = await FakeSlack().start()
    names = [f"rs{int(time.time() * 1000) % 10**9}x{i}" for i in range(RESTART_LINES)]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "b.db"
        bot = await started(config, fake, db)
        try:
            for name in names[: RESTART_LINES // 2]:
                lost_line(lab, name)
            await fake.wait_for(
                "the first half",
                lambda: all(cards(fake, f"node-lost:{n}") for n in names[: RESTART_LINES // 2]),
                timeout=45,
            )
        finally:
            await bot.stop()
        for name in names[RESTART_LINES // 2 :]:  # habot is down
            lost_line(lab, name)
        bot = await started(config, fake, db)
        try:
            await fake.wait_for(
                "every card", lambda: all(cards(fake, f"node-lost:{n}") for n in names), timeout=45
            )
        finally:
            await bot.stop()
        posts = [
            c
            for c in fake.calls_to("chat.postMessage")
            if any(f"`node-lost:{n}`" in json.dumps(c.params) for n in names)
        ]
        await fake.stop()
    return len(posts), len(posts) - len(names)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, parent, CPU ticks with the reaped children's)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    f = text.rsplit(")", 1)[1].split()
    return comm, int(f[1]), sum(int(x) for x in f[11:15])  # utime stime cutime cstime


def sshd_ticks(lab: Lab) -> int:
    """CPU of everything habot makes the nodes do: each node's sshd and all it started
    (sessions, sudo, habot-node, journalctl, crm_mon), the exited ones through their parents."""
    total = 0
    for node in lab.nodes():
        anchor = node.anchor()
        ns = processes.namespace_of(anchor, "mnt") if anchor else None
        stats = (
            {pid: st for pid in processes.pids_in_namespace(ns) if (st := _stat(pid))} if ns else {}
        )
        listeners = {
            pid
            for pid, (comm, ppid, _) in stats.items()
            if comm == "sshd" and stats.get(ppid, ("",))[0] != "sshd"
        }
        for pid, (_, _parent, ticks) in stats.items():
            chain, seen = pid, 0
            while chain in stats and chain not in listeners and seen < 64:
                chain, seen = stats[chain][1], seen + 1
            if chain in listeners:
                total += ticks
    return total


async def node_cpu(lab: Lab, config: HabotConfig) -> float:
    """Seconds of node CPU per hour for habot's reads (both nodes), over CPU_WINDOW_S."""
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = await started(config, fake, Path(tmp) / "b.db")
        try:
            await asyncio.sleep(5)  # settled: sessions open, streams up
            before, started_at = sshd_ticks(lab), time.monotonic()
            await asyncio.sleep(CPU_WINDOW_S)
            used = (sshd_ticks(lab) - before) / TICKS
            return used * 3600 / (time.monotonic() - started_at)
        finally:
            await bot.stop()
            await fake.stop()


async def status_times(lab: Lab, config: HabotConfig) -> tuple[float, float]:
    """Median ms of `/ha status` (the answer and its blocks) from the live view, and read
    afresh, in the same run."""
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = await started(config, fake, Path(tmp) / "b.db")
        ops = bot.inner.deps.ops
        try:
            for _ in range(100):
                if "mycluster" in ops.views:
                    break
                await asyncio.sleep(0.1)
            live, fresh = [], []
            for _ in range(STATUS_ROUNDS):
                began = time.perf_counter()
                report = await ops.status("mycluster")
                blocks.status(report)
                live.append(time.perf_counter() - began)
                assert report.age_s is not None, "no live view"
            for _ in range(STATUS_ROUNDS):
                ops.forget("mycluster")  # as if the cluster had just spoken
                began = time.perf_counter()
                report = await ops.status("mycluster")
                blocks.status(report)
                fresh.append(time.perf_counter() - began)
            return statistics.median(live) * 1e3, statistics.median(fresh) * 1e3
        finally:
            await bot.stop()
            await fake.stop()


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    layout = LabLayout.default()
    lab = Lab(layout)
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite"))
    base = load_config(layout.config_file)
    following = with_alerts(base, interval_s=INTERVAL_S, follow=True)
    polling = with_alerts(base, interval_s=INTERVAL_S, follow=False)
    fast = await latency(lab, following, FOLLOW_ROUNDS)
    slow = await latency(lab, polling, POLL_ROUNDS)
    print("| path (`interval_s: 30`) | rounds | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for name, s in (("following the journal", fast), ("polling only", slow)):
        print(
            f"| {name} | {len(s)} | {statistics.median(s):.2f} s | {p(s, 0.99):.2f} s "
            f"| {max(s):.2f} s |"
        )
    for name, config in (("following", following), ("polling only", polling)):
        took = await real_failure(lab, config)
        print(f"| `crm_resource --fail`, {name} | 1 | {took:.2f} s | | |")
    for name, config in (("following", following), ("polling only", polling)):
        print(
            f"| nodes' CPU for habot's reads, {name} | {CPU_WINDOW_S:g} s | "
            f"{await node_cpu(lab, config):.1f} s/h | | |"
        )
    view, read = await status_times(lab, following)
    print(
        f"| `/ha status` from the live view / read afresh | {STATUS_ROUNDS} "
        f"| {view:.2f} ms / {read:.1f} ms | | |"
    )
    posted, doubles = await across_a_restart(lab, following)
    print(
        f"\n{RESTART_LINES} events, half while habot was down: {posted} cards posted, "
        f"{doubles} doubles"
    )


if __name__ == "__main__":
    asyncio.run(main())
