"""Replicas and scale, measured:

- one replica's poll cost for 1, 10 and 50 clusters of 2 nodes (the nodes share one real sshd
  on loopback that answers with recorded outputs): CPU per node-poll, the share of a core at a
  30 s interval, resident memory — each size in a fresh process;
- approvals per second on PostgreSQL, 1 replica vs 3 (signed clicks round-robin over the
  replicas' HTTP endpoints, each recorded compare-and-set);
- the poller takeover after SIGKILL of the leader: 3 `habot serve` processes, 2 s interval.

`.venv/bin/python -m benchmarks.bench_replicas` (as root, PostgreSQL installed). Bounded.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml

from benchmarks import replay_sshd
from habot.alerts.lifecycle import Alert
from habot.alerts.rules import load_catalogue
from habot.config import HabotConfig
from habot.service.alert_poller import Poller
from habot.serving import build_ops
from habot.slack.approval_blocks import APPROVE
from habot.store import Store
from tests.fakes.cluster import scene
from tests.fakes.slack_server import FakeSlack
from tests.packaging.serving import environment, serve
from tests.slack.harness import click_payload, make_bot, signed_headers, slash_payload, start_http
from tests.ssh.server import Sshd
from tests.store import postgres_server
from tests.store.postgres_server import fresh_database

SIZES = (1, 10, 50)
POLL_ROUNDS = 5
APPROVALS = 90
TAKEOVERS = 3
INTERVAL_S = 2.0


class NullSink:
    async def post(self, alert: Alert) -> tuple[str, str]:
        return "CALERTS", f"{time.time():.6f}"

    async def update(self, alert: Alert) -> None:
        return None

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        return None


def clusters_config(sshd: Sshd, count: int) -> HabotConfig:
    def node(name: str) -> dict[str, Any]:
        return {"name": name, "host": "127.0.0.1", "port": sshd.port, "user": sshd.user}

    return HabotConfig.model_validate(
        {
            "approvers": "anyone",
            "allowed_channels": "any",
            "clusters": {
                f"c{i:02d}": {
                    "ssh_key": str(sshd.client_key),
                    "known_hosts": str(sshd.known_hosts),
                    "alerts_channel": "CALERTS",
                    "nodes": [node(f"c{i:02d}a"), node(f"c{i:02d}b")],
                }
                for i in range(count)
            },
        }
    )


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def poll_cost(count: int) -> dict[str, float]:
    """In this process: a warm-up poll of every cluster, then POLL_ROUNDS rounds."""
    with replay_sshd.running() as sshd, tempfile.TemporaryDirectory() as tmp:
        config = clusters_config(sshd, count)
        ops = build_ops(config)
        store = Store(Path(tmp) / "habot.sqlite3")
        poller = Poller(ops, store, load_catalogue(), NullSink())
        try:
            await asyncio.gather(*(poller.poll(c) for c in config.clusters))
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(POLL_ROUNDS):
                await asyncio.gather(*(poller.poll(c) for c in config.clusters))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            await ops.close()
            store.close()
    node_polls = POLL_ROUNDS * count * 2
    return {
        "clusters": count,
        "cpu_ms_per_node_poll": cpu / node_polls * 1000,
        "core_share_at_30s": cpu / POLL_ROUNDS / 30,
        "round_s": wall / POLL_ROUNDS,
        "rss_mib": rss_mib(),
    }


async def approvals_per_second(database: str, replicas: int) -> float:
    """APPROVALS requests that each need two approvers; the first approval of each, clicked
    round-robin over the replicas' endpoints, all at once; until all are recorded."""
    fake = await FakeSlack().start()
    s = scene(store=Store(database), policy={"runbooks": {"cleanup": {"approvals": 2}}})
    bots = [
        await start_http(make_bot(s.config, fake, ops=s.ops, clock=s.clock, database=database))
        for _ in range(replicas)
    ]
    try:
        async with aiohttp.ClientSession() as session:
            cards = []
            for i in range(APPROVALS):
                before = len(fake.calls_to("chat.postMessage"))
                body = urlencode(
                    slash_payload(fake, "runbook cleanup resource=WebSite", channel="COPS")
                )
                async with session.post(
                    bots[i % replicas].url, data=body, headers=signed_headers(body)
                ) as r:
                    await r.read()
                posted = await fake.wait_for(
                    "card", lambda b=before: fake.calls_to("chat.postMessage")[b:]
                )
                cards.append({"ts": posted[0].answer["ts"], "blocks": posted[0].params["blocks"]})
            ids = [json.dumps(c["blocks"]).split("request `")[1].split("`")[0] for c in cards]

            async def approve(i: int) -> None:
                payload = click_payload(fake, cards[i], "COPS", APPROVE, f"UAPPROVER{i:03d}")
                body = urlencode({"payload": json.dumps(payload)})
                async with session.post(
                    bots[i % replicas].url, data=body, headers=signed_headers(body)
                ) as r:
                    await r.read()

            started = time.perf_counter()
            await asyncio.gather(*(approve(i) for i in range(APPROVALS)))
            deadline = time.monotonic() + 120
            while True:
                done = sum(1 for i in ids if (r := s.store.request(i)) is not None and r.approvals)
                if done == APPROVALS:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} approvals recorded")
                await asyncio.sleep(0.01)
            return APPROVALS / (time.perf_counter() - started)
    finally:
        for bot in bots:
            await bot.stop()
        s.store.close()
        await fake.stop()


async def takeovers(database: str) -> list[float]:
    """Seconds from SIGKILL of the polling leader to another replica taking the polls."""
    fake = await FakeSlack().start()
    habot = shutil.which("habot", path=str(Path(sys.executable).parent))
    assert habot is not None
    times = []
    with replay_sshd.running() as sshd, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "habot.yaml"
        cluster = clusters_config(sshd, 1).model_dump(mode="json")["clusters"]["c00"]
        cluster["alerts"] = {"interval_s": INTERVAL_S, "lookback_s": 60}
        config.write_text(
            yaml.safe_dump(
                {"approvers": "anyone", "allowed_channels": "any", "clusters": {"c00": cluster}}
            )
        )
        served = []
        logs: list[list[str]] = []
        readers: list[asyncio.Task[None]] = []

        async def start() -> None:
            env = environment(fake, config, Path(tmp) / "unused.sqlite3", 0)
            env["HABOT_DATABASE_URL"] = database
            process = await serve([habot, "serve"], env)
            log: list[str] = []
            served.append(process)
            logs.append(log)

            async def drain() -> None:
                assert process.process.stderr is not None
                while raw := await process.process.stderr.readline():
                    log.append(raw.decode(errors="replace"))

            readers.append(asyncio.create_task(drain()))

        for _ in range(3):
            await start()
        try:
            for _ in range(TAKEOVERS):
                leader = await _wait_leader(served, logs, exclude=set())
                alive = {i for i, p in enumerate(served) if p.process.returncode is None}
                served[leader].process.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                await served[leader].process.wait()
                marks = {i: len(logs[i]) for i in alive}
                new = await _wait_leader(served, logs, exclude={leader}, since=marks)
                times.append(time.monotonic() - killed)
                assert new != leader
                await start()  # a replacement, as an orchestrator would start
        finally:
            for p in served:
                if p.process.returncode is None:
                    p.process.send_signal(signal.SIGTERM)
            for p in served:
                try:
                    await asyncio.wait_for(p.process.wait(), 30)
                except TimeoutError:
                    p.process.kill()
            await asyncio.gather(*readers, return_exceptions=True)
            await fake.stop()
    return times


async def _wait_leader(
    served: list[Any],
    logs: list[list[str]],
    *,
    exclude: set[int],
    since: dict[int, int] | None = None,
) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for i, log in enumerate(logs):
            if i in exclude or served[i].process.returncode is not None:
                continue
            start = (since or {}).get(i, 0)
            if any("polls it now" in line for line in log[start:]):
                return i
        await asyncio.sleep(0.02)
    raise RuntimeError("no leader")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--poll-cost":
        print(json.dumps(asyncio.run(poll_cost(int(sys.argv[2])))))
        return
    costs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_replicas", "--poll-cost", str(n)],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            ).stdout
        )
        for n in SIZES
    ]
    with postgres_server.running() as server:
        rates = {n: asyncio.run(approvals_per_second(fresh_database(server), n)) for n in (1, 3)}
        kills = asyncio.run(takeovers(fresh_database(server)))
    print("| one replica polling | CPU per node-poll | share of a core at 30 s | RSS |")
    print("|---|---|---|---|")
    for c in costs:
        print(
            f"| {c['clusters']} cluster(s), {c['clusters'] * 2} nodes | "
            f"{c['cpu_ms_per_node_poll']:.1f} ms | {c['core_share_at_30s'] * 100:.2f} % | "
            f"{c['rss_mib']:.0f} MiB |"
        )
    print()
    print(f"| approvals per second (PostgreSQL, {APPROVALS} clicks at once) | |")
    print("|---|---|")
    for n, rate in rates.items():
        print(f"| {n} replica(s) | {rate:.0f}/s |")
    print()
    print(
        f"poller takeover after SIGKILL of the leader ({INTERVAL_S:g} s interval, "
        f"{len(kills)} kills): median {statistics.median(kills):.2f} s, "
        f"max {max(kills):.2f} s = {max(kills) / INTERVAL_S:.2f} intervals (bound: 2)"
    )


if __name__ == "__main__":
    main()
