"""The incident questions, timed against `ssh nodo1 sudo pcs status` in the same run:
`/ha status`, `/ha why`, `/ha whatif node-fail`, `/ha whatif standby` and `/ha history` through
the service layer as habot runs them (the node user through habot-node, read sessions on; the
history reads both nodes' journals for the window and a store in memory).

Run on the lab, with fencing configured (`habot lab up`, then the seed's fencing step), as root:
`.venv/bin/python -m benchmarks.bench_questions`. Prints a markdown table; every loop is
bounded in count and talks to the lab's loopback sshd only.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from benchmarks.bench_status import _ssh_pcs_status
from habot.config import HabotConfig, load_config
from habot.lab.layout import LabLayout
from habot.runbooks.loader import load_all
from habot.service.clusters import Ops
from habot.service.workflow import Workflow
from habot.serving import build_ops
from habot.store import Store

REPEATS = 7


async def timed(ask: Callable[[], Awaitable[object]]) -> float:
    await ask()  # warm: connections and read sessions open
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await ask()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def questions(ops: Ops, config: HabotConfig) -> dict[str, float]:
    store = Store(":memory:")
    workflow = Workflow(ops, store, load_all(), config)
    try:
        return {
            "`/ha history` (6 h)": await timed(lambda: workflow.history(None, 6 * 3600, None)),
            "`/ha status`": await timed(lambda: ops.status(None)),
            "`/ha why WebSite`": await timed(lambda: ops.why(None, "WebSite")),
            "`/ha whatif node-fail nodo1`": await timed(
                lambda: ops.whatif(None, "node-fail", "nodo1")
            ),
            "`/ha whatif standby nodo1`": await timed(lambda: ops.whatif(None, "standby", "nodo1")),
            "`/ha failover VirtualIP` preview (status, plan, the move simulated)": await timed(
                lambda: failover_preview(ops, workflow)
            ),
        }
    finally:
        await ops.close()
        store.close()


async def failover_preview(ops: Ops, workflow: Workflow) -> None:
    """What the card shows before approval: the move to the node VirtualIP is not on."""
    vip = (await ops.status(None)).live.status.resource("VirtualIP")
    assert vip is not None
    target = "nodo2" if "nodo1" in vip.instances[0].nodes else "nodo1"
    proposal = await workflow.propose(None, "failover", {"resource": "VirtualIP", "node": target})
    assert proposal.preview is not None, proposal.preview_error


def main() -> None:
    config = load_config(LabLayout.default().config_file)
    asked = asyncio.run(questions(build_ops(config), config))
    pcs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        _ssh_pcs_status()
        pcs.append(time.perf_counter() - started)
    baseline = statistics.median(pcs)
    head = "| question (median of 7, as `habot` through habot-node) | time |"
    print(head + " vs `ssh nodo1 sudo pcs status` |")
    print("|---|---|---|")
    for name, seconds in asked.items():
        print(f"| {name} | {seconds * 1000:.0f} ms | {seconds / baseline:.2f}× |")
    print(f"| `ssh nodo1 sudo pcs status` | {baseline * 1000:.0f} ms | 1× |")


if __name__ == "__main__":
    main()
