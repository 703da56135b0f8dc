"""Plain-words lines for a status, shared by the Slack and console renderings (pure)."""

from __future__ import annotations

from habot.cluster.model import ClusterStatus, Instance, Node, Resource, ResourceKind, Role

ROLE_ORDER = (
    Role.PROMOTED,
    Role.STARTED,
    Role.UNPROMOTED,
    Role.STARTING,
    Role.STOPPING,
    Role.PROMOTING,
    Role.DEMOTING,
    Role.MIGRATING,
    Role.UNKNOWN,
)


def node_line(node: Node) -> str:
    extras = [" (DC)" if node.is_dc else "", " remote" if node.remote else ""]
    return f"{node.name}: {node.state.value}{''.join(extras)}"


def agent_short(agent: str) -> str:
    return agent.rsplit(":", 1)[-1] if agent else "?"


def resource_lines(res: Resource) -> list[str]:
    """One line for a primitive or clone, a head line plus one per member for a group."""
    if res.kind is ResourceKind.GROUP:
        return [f"{res.id} (group){_flags(res)}"] + [
            f"  {_instance_line(i)}" for i in res.instances
        ]
    if res.kind is ResourceKind.PRIMITIVE:
        return [_instance_line(res.instances[0]) if res.instances else res.id]
    if res.kind is ResourceKind.BUNDLE:
        return _bundle_lines(res)
    return [_clone_line(res)]


def _bundle_lines(res: Resource) -> list[str]:
    """As crm_mon shows a bundle: the bundle, then each replica with its IP and host."""
    agent = agent_short(res.instances[0].agent) if res.instances else "?"
    head = f"{res.id} [{res.container}] (bundle){_flags(res)}"
    return [head] + [
        f"  {r.guest or r.id}{f' ({r.ip})' if r.ip else ''} ({agent}): {r.role.value}"
        + (f" on {r.host}" if r.host else "")
        for r in res.replicas
    ]


def _instance_line(inst: Instance) -> str:
    where = f" on {', '.join(inst.nodes)}" if inst.nodes else ""
    state = inst.role.value
    flags = "".join(
        (
            " (disabled)" if inst.disabled else "",
            " FAILED" if inst.failed else "",
            " (unmanaged)" if not inst.managed else "",
            " BLOCKED" if inst.blocked else "",
        )
    )
    return f"{inst.id} ({agent_short(inst.agent)}): {state}{where}{flags}"


def _clone_line(res: Resource) -> str:
    kind = "promotable clone" if res.promotable else "clone"
    members = "/".join(res.primitive_ids)
    parts = []
    for role in ROLE_ORDER:
        nodes = res.nodes_in_role(role)
        if nodes:
            parts.append(f"{role.value}: {', '.join(nodes)}")
    stopped = sum(1 for i in res.instances if not i.nodes)
    if stopped:
        parts.append(f"Stopped: {stopped}")
    return f"{res.id} [{members}] ({kind}){_flags(res)}: {'; '.join(parts) or 'Stopped'}"


def _flags(res: Resource) -> str:
    return "".join(
        (
            " (disabled)" if res.disabled else "",
            " FAILED" if res.failed else "",
            " (unmanaged)" if not res.managed else "",
        )
    )


def headline(status: ClusterStatus) -> str:
    s = status.summary
    dc = f"DC {s.dc}" if s.dc else "no DC"
    quorum = "quorate" if s.with_quorum else "WITHOUT quorum"
    fencing = (
        "fencing: " + ", ".join(r.id for r in status.fencing_resources)
        if status.fencing_resources
        else "fencing: none configured"
    )
    if not s.stonith_enabled:
        fencing = "fencing: DISABLED"
    return f"{dc}, {quorum}, {fencing}"


def not_running(status: ClusterStatus) -> list[str]:
    """Resources not running where they should, one line each: failed or blocked (and where),
    instances stopped that nobody disabled, unmanaged ones. Disabled resources are meant to
    be stopped and are not listed."""
    lines = []
    for res in status.resources:
        if res.disabled:
            continue
        failed = sorted({n for i in res.instances if i.failed or i.blocked for n in i.nodes})
        stopped = [i for i in res.instances if not i.active and not i.disabled]
        if res.failed or failed:
            lines.append(f"{res.id}: failed{' on ' + ', '.join(failed) if failed else ''}")
        elif stopped and len(res.instances) > 1:
            lines.append(f"{res.id}: {len(stopped)} of {len(res.instances)} instances stopped")
        elif stopped:
            lines.append(f"{res.id}: stopped")
        if not res.managed or any(not i.managed for i in res.instances):
            lines.append(f"{res.id}: unmanaged (the cluster does not act on it)")
    return lines
