"""One replica, many clusters, measured: 50 / 100 / 200 / 400 / 1,000 two-node clusters at the
default interval (30 s), every node followed (its journal streamed), not only polled.

The nodes are benchmarks.replay_nodes (one process; real SSH on loopback, habot-node's
protocol, recorded outputs), so what is measured is habot's side only: this process's CPU
over two intervals, its peak memory, how long each cluster's poll took and how far apart a
cluster's polls came, the alert latency of `Node … state is now lost` records printed on
followed journals while every cluster is polled, and `/ha status` answers (the live view) in
the middle of it. Each size runs in a fresh process.

`.venv/bin/python -m benchmarks.bench_scale` (any user; loopback only). Bounded: about two
minutes a size."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncssh

from habot.alerts.lifecycle import Alert
from habot.alerts.rules import load_catalogue
from habot.config import HabotConfig
from habot.service.alert_poller import Poller, schedule
from habot.serving import build_ops, stop_polling
from habot.store import Store

SIZES = (50, 100, 200, 400, 1000)
INTERVAL_S = 30.0
WINDOW_S = 2 * INTERVAL_S  # measured after every node is followed
EVENTS = 20  # one each to a different cluster, spread over the window
STATUS_ASKS = 40
SETTLE_LIMIT_S = 240.0  # every node followed by then, or the size fails


class TimedSink:
    """The alerts channel: records when each `node-lost` card was posted."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}
        self.cards = 0

    async def post(self, alert: Alert) -> tuple[str, str]:
        self.cards += 1
        if alert.rule == "node-lost":
            self.posted.setdefault(alert.cluster, time.time())
        return "CALERTS", f"{time.time():.6f}"

    async def update(self, alert: Alert) -> None:
        return None

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        return None


def keys(directory: Path) -> None:
    host = asyncssh.generate_private_key("ssh-ed25519")
    client = asyncssh.generate_private_key("ssh-ed25519")
    host.write_private_key(str(directory / "host_key"))
    host.write_public_key(str(directory / "host_key.pub"))
    client.write_private_key(str(directory / "client_key"))
    client.write_public_key(str(directory / "client_key.pub"))
    (directory / "client_key").chmod(0o600)


def config(directory: Path, port: int, count: int) -> HabotConfig:
    host_key = (directory / "host_key.pub").read_text().split()
    (directory / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")

    def node(cluster: str, name: str) -> dict[str, Any]:
        return {"name": name, "host": "127.0.0.1", "port": port, "user": f"{cluster}-{name}"}

    return HabotConfig.model_validate(
        {
            "approvers": "anyone",
            "allowed_channels": "any",
            "clusters": {
                f"c{i:04d}": {
                    "ssh_key": str(directory / "client_key"),
                    "known_hosts": str(directory / "known_hosts"),
                    "alerts_channel": "CALERTS",
                    "alerts": {"interval_s": INTERVAL_S, "follow": True},
                    "nodes": [node(f"c{i:04d}", "nodo1"), node(f"c{i:04d}", "nodo2")],
                }
                for i in range(count)
            },
        }
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_size(count: int) -> dict[str, Any]:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="habot-scale-") as tmp:
        directory = Path(tmp)
        keys(directory)
        nodes = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.replay_nodes", tmp],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert nodes.stdin is not None
        assert nodes.stdout is not None
        try:
            port = int(nodes.stdout.readline().split()[1])
            return asyncio.run(measure(directory, port, count, nodes.stdin))
        finally:
            nodes.stdin.close()
            nodes.wait(timeout=30)


async def measure(directory: Path, port: int, count: int, control: Any) -> dict[str, Any]:
    cfg = config(directory, port, count)
    ops = build_ops(cfg)
    store = Store(directory / "habot.sqlite3")
    sink = TimedSink()
    poller = Poller(ops, store, load_catalogue(), sink, follow=True)
    polls: list[tuple[str, float, float]] = []  # (cluster, started, seconds)
    timed = poller._timed_poll

    async def observed(cluster: str) -> Any:
        started = time.monotonic()
        try:
            return await timed(cluster)
        finally:
            polls.append((cluster, started, time.monotonic() - started))

    poller._timed_poll = observed  # type: ignore[method-assign]
    began = time.monotonic()
    scheduler = schedule(poller, list(ops.clusters.values()))

    def followed() -> int:
        return sum(len(poller.followed(name)) for name in ops.clusters)

    try:
        while followed() < 2 * count:
            if time.monotonic() - began > SETTLE_LIMIT_S:
                raise RuntimeError(f"{followed()} of {2 * count} nodes followed")
            await asyncio.sleep(0.5)
        settled = time.monotonic() - began
        await asyncio.sleep(2)  # the first polls' cards are out
        cpu, start = time.process_time(), time.monotonic()
        polls.clear()
        sent: dict[str, float] = {}
        answers: list[float] = []
        targets = random.Random(count).sample(sorted(ops.clusters), min(EVENTS, count))
        asks = 0
        step = WINDOW_S / (EVENTS + STATUS_ASKS)
        tick = 0
        while time.monotonic() - start < WINDOW_S:
            tick += 1
            if tick % 3 == 0 and targets:
                cluster = targets.pop()
                sent[cluster] = time.time()
                control.write(f"emit {cluster}-nodo1\n")
                control.flush()
            elif asks < STATUS_ASKS:
                asks += 1
                cluster = random.choice(sorted(ops.clusters))
                t = time.perf_counter()
                report = await ops.status(cluster)
                answers.append(time.perf_counter() - t)
                assert report.age_s is not None, "the live view answered"
            await asyncio.sleep(step)
        window = time.monotonic() - start
        cpu = time.process_time() - cpu
        await asyncio.sleep(3)  # the last event's card
    finally:
        await stop_polling(scheduler, poller)
        await poller.resign()
        await ops.close()
        store.close()
    latencies = [sink.posted[c] - t for c, t in sent.items() if c in sink.posted]
    starts: dict[str, list[float]] = {}
    for cluster, started, _ in polls:
        starts.setdefault(cluster, []).append(started)
    gaps = [b - a for s in starts.values() for a, b in itertools.pairwise(s)]
    unpolled = count - len(starts)
    return {
        "clusters": count,
        "settled_s": settled,
        "window_s": window,
        "cpu_share": cpu / window,
        "cpu_ms_per_node_poll": cpu / max(1, 2 * len(polls)) * 1000,
        "polls": len(polls),
        "poll_p50_ms": statistics.median(p[2] for p in polls) * 1000 if polls else 0,
        "poll_max_s": max((p[2] for p in polls), default=0.0),
        "gap_max_s": max(gaps, default=0.0),
        "unpolled": unpolled,
        "latency_p50_s": statistics.median(latencies) if latencies else None,
        "latency_max_s": max(latencies, default=None),
        "events": len(sent),
        "cards_for_events": len(latencies),
        "status_p50_ms": statistics.median(answers) * 1000,
        "status_max_ms": max(answers) * 1000,
        "peak_rss_mib": peak_rss_mib(),
    }


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| clusters | CPU (share of a core) | CPU per node-poll | peak memory | poll p50 / max | "
        "longest gap between a cluster's polls | alert latency p50 / max (cards/events) | "
        "`/ha status` p50 / max | all followed after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        latency = (
            f"{r['latency_p50_s']:.2f} / {r['latency_max_s']:.2f} s"
            if r["latency_p50_s"] is not None
            else "none"
        )
        rows.append(
            f"| {r['clusters']:,} | {r['cpu_share'] * 100:.1f} % | "
            f"{r['cpu_ms_per_node_poll']:.2f} ms | {r['peak_rss_mib']:.0f} MiB | "
            f"{r['poll_p50_ms']:.0f} ms / {r['poll_max_s']:.2f} s | {r['gap_max_s']:.1f} s"
            f"{' (' + str(r['unpolled']) + ' unpolled)' if r['unpolled'] else ''} | "
            f"{latency} ({r['cards_for_events']}/{r['events']}) | "
            f"{r['status_p50_ms']:.2f} / {r['status_max_ms']:.2f} ms | {r['settled_s']:.0f} s |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(one_size(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or list(SIZES)
    results = []
    for count in sizes:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_scale", "--one", str(count)],
            capture_output=True,
            text=True,
            check=False,
            timeout=SETTLE_LIMIT_S + WINDOW_S + 120,
        )
        if done.returncode != 0:
            print(f"{count} clusters failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            break
        results.append(json.loads(done.stdout.splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
    print(table(results))


if __name__ == "__main__":
    main(sys.argv[1:])
