"""Why a resource runs where it runs, and not elsewhere, in plain words (pure): what
`crm_resource --why` says and what it leaves out — target-role, unmanaged, fail counts against
migration-threshold, move and ban constraints with their lifetime, colocations with resources
that do not run, node states, missing fencing, and the placement scores. Each reason ends with
the habot command that removes it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from habot.cluster.model import INFINITY, ClusterStatus, NodeState, Resource
from habot.cluster.predicates import RUNNING

SCORE_LINE = re.compile(
    r"^\S+: (?P<resource>[^\s:]+)(?::\d+)? allocation score on (?P<node>\S+): (?P<score>-?\S+)$"
)


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    fix: str = ""  # the habot command that removes it


@dataclass(frozen=True, slots=True)
class Why:
    resource: str
    running_on: tuple[str, ...]
    reasons: tuple[Reason, ...]  # the main reason first
    scores: tuple[tuple[str, int], ...] = ()  # (node, placement score), best first


def explain(status: ClusterStatus, name: str, scores: dict[str, int] | None = None) -> Why:
    res = status.resource(name)
    if res is None:
        raise LookupError(name)
    running = tuple(sorted(res.nodes_in_role(*RUNNING)))
    reasons = [
        *_fencing(status),
        *_disabled(res),
        *_unmanaged(res),
        *_bans(status, res),
        *_fail_counts(status, res),
        *_colocations(status, res),
        *_nodes(status),
    ]
    ranked = tuple(sorted((scores or {}).items(), key=lambda item: -item[1]))
    return Why(res.id, running, tuple(reasons), ranked)


def parse_scores(output: str, resource: str) -> dict[str, int]:
    """`crm_simulate -Ls`'s allocation scores for one resource (its primitive or clone), by
    node; -INFINITY as -1000000."""
    found: dict[str, int] = {}
    for line in output.splitlines():
        match = SCORE_LINE.match(line.strip())
        if match is None or match.group("resource") != resource:
            continue
        text = match.group("score").lstrip("+")
        value = INFINITY if text.upper() == "INFINITY" else None
        if text.upper() == "-INFINITY":
            value = -INFINITY
        if value is None and re.fullmatch(r"-?[0-9]{1,9}", text):
            value = int(text)
        if value is not None:
            found[match.group("node")] = min(found.get(match.group("node"), value), value)
    return found


def _fencing(st: ClusterStatus) -> list[Reason]:
    devices = [
        r for r in st.resources if r.instances and r.instances[0].agent.startswith("stonith:")
    ]
    if st.summary.stonith_enabled and not devices:
        return [
            Reason(
                "no fencing device is configured while stonith-enabled is true: nothing starts",
                "/ha runbook stonith-libvirt",
            )
        ]
    return []


def _disabled(res: Resource) -> list[Reason]:
    if res.disabled or any(i.disabled for i in res.instances):
        return [
            Reason(
                f"{res.id} is disabled (target-role=Stopped)",
                f"/ha runbook enable resource={res.id}",
            )
        ]
    return []


def _unmanaged(res: Resource) -> list[Reason]:
    if not res.managed or any(not i.managed for i in res.instances):
        return [
            Reason(
                f"{res.id} is unmanaged: the cluster neither starts, stops nor recovers it",
                f"/ha runbook manage resource={res.id}",
            )
        ]
    return []


def _bans(st: ClusterStatus, res: Resource) -> list[Reason]:
    found = []
    for c in st.constraints:
        if c.resource not in (res.id, *(i.id for i in res.instances)):
            continue
        if c.id.startswith("cli-ban") or c.score <= -INFINITY:
            found.append(
                Reason(
                    f"banned from {c.node} by {c.id} (a ban or move left behind)",
                    f"/ha clear {res.id} {c.node}",
                )
            )
        elif c.id.startswith("cli-prefer"):
            found.append(
                Reason(
                    f"pinned to {c.node} by {c.id} (a move left behind: it never fails back)",
                    f"/ha clear {res.id}",
                )
            )
    return found


def _fail_counts(st: ClusterStatus, res: Resource) -> list[Reason]:
    found = []
    for f in st.fail_counts:
        if f.resource not in (res.id, *(i.id for i in res.instances)):
            continue
        count = "INFINITY" if f.count >= INFINITY else str(f.count)
        if f.count >= f.threshold:
            text = (
                f"{count} failures on {f.node}, at its migration-threshold ({_score(f.threshold)}):"
                f" it may not run on {f.node} until cleaned up"
            )
        else:
            text = f"{count} failures on {f.node} (migration-threshold {_score(f.threshold)})"
        found.append(Reason(text, f"/ha cleanup {res.id} {f.node}"))
    return found


def _colocations(st: ClusterStatus, res: Resource) -> list[Reason]:
    found = []
    for c in st.colocations:
        if c.resource != res.id or c.score < INFINITY:
            continue
        other = st.resource(c.with_resource)
        if other is not None and not other.nodes_in_role(*RUNNING):
            found.append(
                Reason(
                    f"colocated with {other.id}, which runs nowhere: it must run where "
                    f"{other.id} runs",
                    f"/ha why {other.id}",
                )
            )
    return found


def _nodes(st: ClusterStatus) -> list[Reason]:
    fixes = {
        NodeState.STANDBY: "/ha runbook unstandby node={node}",
        NodeState.MAINTENANCE: "/ha runbook node-maintenance node={node} mode=off",
    }
    return [
        Reason(f"node {n.name} is {n.state.value}", fixes.get(n.state, "").format(node=n.name))
        for n in st.nodes
        if n.state is not NodeState.ONLINE
    ]


def _score(value: int) -> str:
    return "INFINITY" if value >= INFINITY else str(value)
