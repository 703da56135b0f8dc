"""Frozen types for a Pacemaker cluster's status, as crm_mon reports it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

INFINITY = 1_000_000  # pacemaker's score and fail-count "INFINITY"


class NodeState(StrEnum):
    ONLINE = "online"
    STANDBY = "standby"
    MAINTENANCE = "maintenance"
    PENDING = "pending"
    OFFLINE = "offline"
    UNCLEAN = "UNCLEAN"


class Role(StrEnum):
    STARTED = "Started"
    STOPPED = "Stopped"
    PROMOTED = "Promoted"
    UNPROMOTED = "Unpromoted"
    STARTING = "Starting"
    STOPPING = "Stopping"
    MIGRATING = "Migrating"
    PROMOTING = "Promoting"
    DEMOTING = "Demoting"
    UNKNOWN = "Unknown"


class ResourceKind(StrEnum):
    PRIMITIVE = "primitive"
    GROUP = "group"
    CLONE = "clone"
    BUNDLE = "bundle"


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    state: NodeState
    is_dc: bool = False
    resources_running: int = 0
    remote: bool = False
    node_id: str = ""  # corosync's node id ("1"), as corosync's own messages name nodes


@dataclass(frozen=True, slots=True)
class Instance:
    """One running (or stopped) copy of a primitive: a clone instance, or the primitive itself."""

    id: str  # without the clone suffix ":N"
    agent: str
    role: Role
    nodes: tuple[str, ...] = ()
    failed: bool = False
    managed: bool = True
    blocked: bool = False
    disabled: bool = False  # target-role=Stopped

    @property
    def active(self) -> bool:
        return bool(self.nodes) and self.role is not Role.STOPPED


@dataclass(frozen=True, slots=True)
class Replica:
    """One replica of a bundle: its container on a host node, its IP, its guest node."""

    id: str
    host: str  # the node the container runs on ("" when stopped)
    container: str  # e.g. httpd-bundle-podman-0
    ip: str  # "" when the bundle has no ip-range
    guest: str  # the replica's guest node, e.g. httpd-bundle-0
    role: Role  # the bundled resource's role inside it


@dataclass(frozen=True, slots=True)
class Resource:
    """A top-level resource: a primitive, a group of primitives, a clone of either, or a
    bundle (its instances are the bundled resource's, one per replica, on the host nodes)."""

    id: str
    kind: ResourceKind
    instances: tuple[Instance, ...]
    promotable: bool = False
    disabled: bool = False
    managed: bool = True
    failed: bool = False
    replicas: tuple[Replica, ...] = ()
    container: str = ""  # a bundle's container technology and image: "podman localhost/httpd"

    @property
    def is_fencing(self) -> bool:
        return any(i.agent.startswith("stonith:") for i in self.instances)

    def nodes_in_role(self, *roles: Role) -> tuple[str, ...]:
        names = {n for i in self.instances if i.role in roles for n in i.nodes}
        return tuple(sorted(names))

    @property
    def primitive_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.id for i in self.instances))


@dataclass(frozen=True, slots=True)
class FailedAction:
    resource: str
    operation: str
    node: str
    exit_status: str  # "error", "not installed", "not running", ...
    exit_code: int
    exit_reason: str
    status: str  # "complete", "Timed Out", ...
    interval_ms: int
    last_change: str


@dataclass(frozen=True, slots=True)
class FenceEvent:
    action: str
    target: str
    status: str  # "pending", "success", "failed"
    origin: str = ""
    completed: str = ""
    delegate: str = ""
    reason: str = ""  # exit-reason, when the fencer gave one


@dataclass(frozen=True, slots=True)
class FailCount:
    resource: str
    node: str
    count: int  # INFINITY for "INFINITY"
    threshold: int = 1_000_000  # migration-threshold: at it, the resource leaves the node


@dataclass(frozen=True, slots=True)
class LocationConstraint:
    id: str
    resource: str
    node: str
    score: int
    role: str = ""
    expires: str = ""  # a ban or move given a lifetime: its rule's end (ISO 8601), else ""

    @property
    def is_move_leftover(self) -> bool:
        """Left by `pcs resource move/ban` or `crm_resource --move/--ban` (cli-prefer-/cli-ban-)."""
        return self.id.startswith(("cli-prefer-", "cli-ban-"))


@dataclass(frozen=True, slots=True)
class Colocation:
    id: str
    resource: str
    with_resource: str
    score: int


@dataclass(frozen=True, slots=True)
class Summary:
    dc: str | None
    with_quorum: bool
    stonith_enabled: bool
    maintenance_mode: bool
    stack: str
    version: str
    last_update: str
    last_change: str
    nodes_configured: int
    resources_configured: int
    resources_disabled: int
    resources_blocked: int


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    summary: Summary
    nodes: tuple[Node, ...]
    resources: tuple[Resource, ...]
    failed_actions: tuple[FailedAction, ...] = ()
    fence_events: tuple[FenceEvent, ...] = ()
    fail_counts: tuple[FailCount, ...] = ()
    constraints: tuple[LocationConstraint, ...] = ()
    cluster_name: str = ""  # the CIB's cluster-name property, when it was read
    colocations: tuple[Colocation, ...] = ()
    # the cluster shells the node that answered has (pcs, crm); None: it did not say (an older
    # habot-node), () it has neither
    shells: tuple[str, ...] | None = None

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def resource(self, name: str) -> Resource | None:
        """A top-level resource by id, or the one that holds the primitive `name`."""
        for res in self.resources:
            if res.id == name or any(i.id == name for i in res.instances):
                return res
        return None

    @property
    def fencing_resources(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.is_fencing)

    @property
    def online_nodes(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes if n.state in (NodeState.ONLINE,))

    @property
    def move_leftovers(self) -> tuple[LocationConstraint, ...]:
        return tuple(c for c in self.constraints if c.is_move_leftover)
