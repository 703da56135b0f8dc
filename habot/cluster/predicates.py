"""Checks on a live ClusterStatus (pure), shared by runbooks (preconditions, waits, `unless`)
and alert rules (`resolved_when`): does it hold, and if not, why, in words."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from habot.cluster.model import ClusterStatus, NodeState, ResourceKind, Role

RUNNING = (Role.STARTED, Role.PROMOTED, Role.UNPROMOTED)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Predicate(_Strict):
    """A check on the live status. Exactly one key is set; values may use {{ parameters }}."""

    fencing_configured: bool | str | None = None
    resource_exists: str | None = None
    resource_running: ResourceOn | None = None
    resource_not_on: ResourceOn | None = Field(
        None, description="the resource does not run on that node (banned, moved away)"
    )
    resource_stopped: str | None = None
    node_online: str | None = None
    all_nodes_online: bool | str | None = None
    no_move_constraint: str | None = None
    maintenance_mode: bool | str | None = None
    clone_on_all_nodes: ResourceOn | None = None
    no_failed_actions: str | None = None
    no_colocation: ResourcePair | None = None
    active_once: str | None = Field(None, description="the resource runs on one node at most")
    no_failed_fencing: str | None = Field(
        None, description="the last fencing of the node did not fail (or was cleaned up)"
    )
    node_empty: str | None = Field(None, description="no resource runs on the node")
    nothing_failed: bool | str | None = Field(
        None, description="no failed action anywhere in the cluster (true), or some (false)"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Predicate:
        chosen = [k for k, v in self if v is not None]
        if len(chosen) != 1:
            raise ValueError(f"a predicate has exactly one key, not {chosen or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self if v is not None)


class ResourceOn(_Strict):
    resource: str
    node: str | None = None
    role: Literal["Started", "Promoted", "Unpromoted"] = "Started"


class ResourcePair(_Strict):
    resource: str
    with_resource: str


Predicate.model_rebuild()


def check(pred: Predicate, status: ClusterStatus) -> str | None:
    """None when the predicate holds; otherwise why it does not, in words."""
    kind = pred.kind
    value = getattr(pred, kind)
    if kind in _BOOLEAN:
        value = truth(value)
    reason: str | None = _CHECKS[kind](value, status)
    return reason


_BOOLEAN = ("fencing_configured", "all_nodes_online", "maintenance_mode", "nothing_failed")


def truth(value: object) -> bool:
    """A boolean predicate value, literal or rendered from a template ("True", "false", ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def describe(pred: Predicate) -> str:
    value = getattr(pred, pred.kind)
    if isinstance(value, ResourceOn):
        where = f" on {value.node}" if value.node else ""
        return f"{pred.kind.replace('_', ' ')}: {value.resource} {value.role}{where}"
    return f"{pred.kind.replace('_', ' ')}: {value}"


def _fencing(expected: bool, st: ClusterStatus) -> str | None:
    running = [r.id for r in st.fencing_resources if r.nodes_in_role(Role.STARTED)]
    configured = bool(st.fencing_resources) and st.summary.stonith_enabled
    if configured == expected:
        return None
    if expected:
        return (
            "no fencing device is configured"
            if not st.fencing_resources
            else "stonith-enabled is false"
            if not st.summary.stonith_enabled
            else "fencing is configured but not running"
        )
    return f"fencing is configured ({', '.join(running) or 'stopped'})"


def _exists(name: str, st: ClusterStatus) -> str | None:
    return None if st.resource(name) else f"resource {name} does not exist"


def _placed(want: ResourceOn, st: ClusterStatus) -> set[str] | None:
    """Nodes where `want.resource` (a top-level resource or one of its primitives) runs in the
    wanted role; None when there is no such resource."""
    res = st.resource(want.resource)
    if res is None:
        return None
    role = Role(want.role)
    roles = (role,) if role is not Role.STARTED else RUNNING
    instances = [i for i in res.instances if want.resource in (res.id, i.id)]
    return {n for i in instances if i.role in roles for n in i.nodes}


def _running(want: ResourceOn, st: ClusterStatus) -> str | None:
    nodes = _placed(want, st)
    if nodes is None:
        return f"resource {want.resource} does not exist"
    if want.node is None:
        return None if nodes else f"{want.resource} is not {want.role.lower()} anywhere"
    if want.node in nodes:
        return None
    where = f"on {', '.join(sorted(nodes))}" if nodes else "nowhere"
    return f"{want.resource} is {want.role.lower()} {where}, not on {want.node}"


def _not_on(want: ResourceOn, st: ClusterStatus) -> str | None:
    nodes = _placed(want, st)
    if nodes is None:
        return f"resource {want.resource} does not exist"
    return None if want.node not in nodes else f"{want.resource} still runs on {want.node}"


def _stopped(name: str, st: ClusterStatus) -> str | None:
    res = st.resource(name)
    if res is None:
        return None
    active = res.nodes_in_role(*RUNNING)
    return None if not active else f"{name} still runs on {', '.join(active)}"


def _node_online(name: str, st: ClusterStatus) -> str | None:
    node = st.node(name)
    if node is None:
        return f"node {name} does not exist"
    return None if node.state is NodeState.ONLINE else f"node {name} is {node.state.value}"


def _all_online(expected: bool, st: ClusterStatus) -> str | None:
    down = [n.name for n in st.nodes if n.state is not NodeState.ONLINE]
    return None if (not down) == expected else f"not online: {', '.join(down) or 'none'}"


def _node_empty(name: str, st: ClusterStatus) -> str | None:
    if st.node(name) is None:
        return f"node {name} does not exist"
    there = sorted(
        {r.id for r in st.resources for i in r.instances if i.role in RUNNING and name in i.nodes}
    )
    return None if not there else f"{', '.join(there)} still run on {name}"


def _nothing_failed(expected: bool, st: ClusterStatus) -> str | None:
    failed = [f"{a.resource} {a.operation} on {a.node}" for a in st.failed_actions]
    if (not failed) == expected:
        return None
    return f"failed actions: {', '.join(failed[:5])}" if failed else "no failed action"


def _no_move(name: str, st: ClusterStatus) -> str | None:
    left = [c.id for c in st.move_leftovers if c.resource in (name, _clone_of(name, st))]
    return None if not left else f"move constraint left: {', '.join(left)}"


def _clone_of(name: str, st: ClusterStatus) -> str:
    res = st.resource(name)
    return res.id if res is not None else name


def _maintenance(expected: bool, st: ClusterStatus) -> str | None:
    actual = st.summary.maintenance_mode
    return None if actual == expected else f"maintenance-mode is {str(actual).lower()}"


def _on_all(want: ResourceOn, st: ClusterStatus) -> str | None:
    nodes = _placed(want, st)
    if nodes is None:
        return f"resource {want.resource} does not exist"
    missing = sorted({n.name for n in st.nodes} - nodes)
    return (
        None
        if not missing
        else f"{want.resource} is not {want.role.lower()} on " + (", ".join(missing))
    )


def _no_colocation(pair: ResourcePair, st: ClusterStatus) -> str | None:
    found = [
        c.id
        for c in st.colocations
        if (c.resource, c.with_resource) == (pair.resource, pair.with_resource)
    ]
    return None if not found else f"colocation {', '.join(found)} exists"


def _no_failures(name: str, st: ClusterStatus) -> str | None:
    res = st.resource(name)
    ids = {name, *(res.primitive_ids if res else ()), *((res.id,) if res else ())}
    failed = [f"{a.operation} on {a.node}" for a in st.failed_actions if a.resource in ids]
    return None if not failed else f"{name} has failed actions: {', '.join(failed)}"


def _active_once(name: str, st: ClusterStatus) -> str | None:
    """A primitive that is not a clone runs on at most one node (not "multiply active")."""
    res = st.resource(name)
    if res is None or (res.kind in (ResourceKind.CLONE, ResourceKind.BUNDLE) and res.id == name):
        return None  # gone (active nowhere), or meant to run on several nodes
    nodes = {n for i in res.instances if name in (i.id, res.id) for n in i.nodes}
    if len(nodes) <= 1:
        return None
    return f"{name} is active on {len(nodes)} nodes: {', '.join(sorted(nodes))}"


def _no_failed_fencing(node: str, st: ClusterStatus) -> str | None:
    """crm_mon lists fence events newest first: the latest one for the node decides."""
    latest = next((e for e in st.fence_events if e.target == node), None)
    if latest is not None and latest.status == "failed":
        return f"the last fencing ({latest.action}) of {node} failed"
    return None


_CHECKS: dict[str, Any] = {
    "active_once": _active_once,
    "no_failed_fencing": _no_failed_fencing,
    "fencing_configured": _fencing,
    "resource_exists": _exists,
    "resource_running": _running,
    "resource_not_on": _not_on,
    "resource_stopped": _stopped,
    "node_online": _node_online,
    "all_nodes_online": _all_online,
    "no_move_constraint": _no_move,
    "node_empty": _node_empty,
    "nothing_failed": _nothing_failed,
    "maintenance_mode": _maintenance,
    "no_failed_actions": _no_failures,
    "no_colocation": _no_colocation,
    "clone_on_all_nodes": _on_all,
}
