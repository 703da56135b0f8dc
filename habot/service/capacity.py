"""What one replica was measured to hold (benchmarks/bench_scale.py: two-node clusters polled
every 30 s with every journal followed), and what a configuration asks of one: `habot config
check` warns past it, and `habot serve` raises its open-file limit to what its nodes need."""

from __future__ import annotations

import math
import resource
from collections.abc import Iterable
from dataclasses import dataclass

from habot.config import ClusterConfig

# The largest size measured where every bound held (CPU, memory, rounds within the interval,
# alert latency, status answers); in node-polls a second, which is what costs.
MEASURED_NODES = 2000
MEASURED_INTERVAL_S = 30.0
MEASURED_RATE = MEASURED_NODES / MEASURED_INTERVAL_S
FILES_PER_NODE = 1  # one SSH connection a node: read sessions and the journal stream are channels
FILES_BASE = 256  # the store, Slack, the probes, logs, a margin


@dataclass(frozen=True, slots=True)
class Demand:
    clusters: int
    nodes: int
    rate: float  # node-polls a second

    @property
    def files(self) -> int:
        return FILES_BASE + FILES_PER_NODE * self.nodes


def demand(clusters: Iterable[ClusterConfig], max_clusters: int = 0) -> Demand:
    """What one replica takes on: every cluster, or (HABOT_MAX_CLUSTERS) the costliest
    max_clusters of them."""
    rates = sorted(
        ((len(c.nodes) / c.alerts.interval_s, len(c.nodes)) for c in clusters), reverse=True
    )
    if max_clusters:
        rates = rates[:max_clusters]
    return Demand(len(rates), sum(n for _, n in rates), sum(r for r, _ in rates))


def warnings(
    clusters: Iterable[ClusterConfig], max_clusters: int, hard_files: int | None
) -> list[str]:
    """What one replica would be asked beyond what was measured, and the open files it
    could not get (hard_files: the hard RLIMIT_NOFILE; None: unlimited)."""
    everything = list(clusters)
    mine = demand(everything, max_clusters)
    said = []
    if mine.rate > MEASURED_RATE + 1e-6:  # a sum of fractions: not past it by rounding
        total = demand(everything)
        replicas = math.ceil(total.rate / MEASURED_RATE - 1e-6)
        per = math.ceil(total.clusters / replicas)
        said.append(
            f"capacity: {mine.clusters} clusters ({mine.nodes} nodes) at their intervals ask "
            f"one replica for {mine.rate:.1f} node-polls a second; one replica was measured "
            f"to hold {MEASURED_RATE:.1f} ({MEASURED_NODES} nodes every "
            f"{MEASURED_INTERVAL_S:g} s, every journal followed): run {replicas} replicas "
            f"with HABOT_MAX_CLUSTERS={per}"
        )
    if hard_files is not None and mine.files > hard_files:
        said.append(
            f"capacity: {mine.nodes} nodes need about {mine.files} open files, and the hard "
            f"limit (ulimit -Hn) is {hard_files}: raise it (LimitNOFILE=, --ulimit nofile=) "
            "or set HABOT_MAX_CLUSTERS"
        )
    return said


def hard_open_files() -> int | None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return None if hard == resource.RLIM_INFINITY else hard


def raise_open_files(needed: int) -> int:
    """The soft RLIMIT_NOFILE raised to `needed` (as far as the hard limit allows; never
    lowered); returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target
