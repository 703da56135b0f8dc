"""Runbook benchmarks on the lab: Approve click → first step started, and a whole failover
through habot vs the same pcs commands typed over SSH; the same failover with the cluster's
shell set to crmsh, vs crmsh typed by hand (its move waits for nothing: the typist watches
crm_mon, then clears the constraint it leaves). Leaves the lab at the seed.

`.venv/bin/python -m benchmarks.bench_runbooks` (lab up, as root). Bounded: a few runs.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from habot.config import load_config
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import configure_seed_fencing, crm_mon, resource_nodes, wait_for
from tests.slack.flows import click, request_card, wait_card
from tests.slack.harness import make_bot, start_http

ROUNDS = 4


async def habot_failovers(lab: Lab, shell: str = "auto") -> tuple[list[float], list[float]]:
    """(click → first step started, click → run done) for ROUNDS failovers back and forth."""
    config = load_config(lab.layout.config_file)
    cluster = config.clusters["mycluster"].model_copy(update={"shell": shell})
    config = config.model_copy(update={"clusters": {"mycluster": cluster}})
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = await start_http(make_bot(config, fake, db=Path(tmp) / "bench.sqlite3"))
        first_step, whole = [], []
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(ROUNDS):
                    target = _other(lab)
                    card = await request_card(session, bot, f"failover VirtualIP {target}")
                    clicked = time.time()
                    await click(session, bot, card, "habot_approve", "UBOB")
                    await wait_card(bot, card, "succeeded")
                    done = time.time()
                    request_id = str(card["blocks"]).split("request `")[1].split("`")[0]
                    started = next(
                        e.at
                        for e in bot.workflow.store.audit_log(50, request_id=request_id)
                        if e.event == "command"
                    )
                    move_duration = next(
                        e.duration or 0.0
                        for e in bot.workflow.store.audit_log(50, request_id=request_id)
                        if e.event == "command"
                    )
                    first_step.append(started - move_duration - clicked)
                    whole.append(done - clicked)
        finally:
            await bot.stop()
            await fake.stop()
    return first_step, whole


def typed_failovers(lab: Lab, shell: str) -> list[float]:
    """The same failover typed over SSH, ROUNDS times: pcs's move (it waits for the move) then
    its clear; or crmsh's move, crm_mon watched until it runs there (bounded), then its clear."""
    config = str(lab.layout.ssh_dir / "ssh_config")
    program = "pcs" if shell == "pcs" else "crm --no"
    times = []
    for _ in range(ROUNDS):
        target = _other(lab)
        started = time.time()
        typed(config, f"sudo -n {program} resource move VirtualIP {target}")
        while shell != "pcs" and resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") != [target]:
            assert time.time() < started + 120, "VirtualIP did not move"
            time.sleep(0.2)
        typed(config, f"sudo -n {program} resource clear VirtualIP")
        times.append(time.time() - started)
    return times


def typed(config: str, command: str) -> None:
    subprocess.run(
        ["ssh", "-F", config, "nodo1", command], check=True, capture_output=True, timeout=120
    )


def _other(lab: Lab) -> str:
    where = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")
    return "nodo2" if where == ["nodo1"] else "nodo1"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    lab = Lab(LabLayout.default())
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("VirtualIP", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") != [])
    first_step, whole = asyncio.run(habot_failovers(lab))
    by_hand = typed_failovers(lab, "pcs")
    _, crmsh_whole = asyncio.run(habot_failovers(lab, "crmsh"))
    crmsh_by_hand = typed_failovers(lab, "crmsh")
    lab.reset()
    print("| benchmark | result | target |")
    print("|---|---|---|")
    print(
        f"| Approve click → first step started (median of {ROUNDS}) | "
        f"{ms(statistics.median(first_step))} (max {ms(max(first_step))}) | < 200 ms |"
    )
    print(
        f"| `/ha failover` run: click → card says succeeded (median of {ROUNDS}) | "
        f"{statistics.median(whole):.2f} s | |"
    )
    print(
        f"| the same pcs commands typed over SSH (median of {ROUNDS}) | "
        f"{statistics.median(by_hand):.2f} s | habot ≤ 1.2×: "
        f"{statistics.median(whole) / statistics.median(by_hand):.2f}× |"
    )
    print(
        f"| the same `/ha failover` on the cluster as crmsh (median of {ROUNDS}) | "
        f"{statistics.median(crmsh_whole):.2f} s | |"
    )
    print(
        f"| crmsh typed over SSH: move, watch crm_mon, clear (median of {ROUNDS}) | "
        f"{statistics.median(crmsh_by_hand):.2f} s | habot ≤ 1.2×: "
        f"{statistics.median(crmsh_whole) / statistics.median(crmsh_by_hand):.2f}× |"
    )


if __name__ == "__main__":
    main()
