"""What is wrong with a cluster, in words, each with the fix: pure, over a ClusterStatus. A
fix that names a command names it in the cluster's shell: crmsh's where the node that answered
has crmsh and no pcs, pcs's otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from habot.cluster.model import ClusterStatus, FailedAction, FenceEvent, NodeState, Role


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    fix: str


def assess(status: ClusterStatus) -> tuple[Finding, ...]:
    checks = (
        _fencing,
        _quorum,
        _nodes,
        _failed_fencing,
        _failed_actions,
        _move_leftovers,
        _maintenance,
        _unmanaged,
    )
    return tuple(f for check in checks for f in check(status))


def speaks_crmsh(status: ClusterStatus) -> bool:
    """Whether the node that answered has crmsh and no pcs (its commands are crm's)."""
    return status.shells is not None and "crm" in status.shells and "pcs" not in status.shells


def _say(status: ClusterStatus, pcs: str, crm: str) -> str:
    return crm if speaks_crmsh(status) else pcs


def overall(status: ClusterStatus) -> Severity | None:
    """The worst severity of the cluster's findings, or None when it is healthy."""
    findings = assess(status)
    if any(f.severity is Severity.CRITICAL for f in findings):
        return Severity.CRITICAL
    return Severity.WARNING if findings else None


def _fencing(status: ClusterStatus) -> list[Finding]:
    if not status.summary.stonith_enabled:
        return [
            Finding(
                "stonith-disabled",
                Severity.WARNING,
                "Fencing is disabled (stonith-enabled=false): a node that stops "
                "answering cannot be fenced, and shared data can be corrupted.",
                "Configure a fencing device (`/ha runbook stonith-libvirt`), then "
                + _say(
                    status,
                    "`pcs property set stonith-enabled=true`.",
                    "`crm configure property stonith-enabled=true`.",
                ),
            )
        ]
    if status.fencing_resources:
        return []
    found = [
        Finding(
            "no-stonith-device",
            Severity.CRITICAL,
            "stonith-enabled is true but no fencing device is configured.",
            "Run `/ha runbook stonith-libvirt` (or "
            + _say(
                status,
                "`pcs stonith create ...` and `pcs property set stonith-enabled=true`).",
                "`crm configure primitive ... stonith:...` and "
                "`crm configure property stonith-enabled=true`).",
            ),
        )
    ]
    stopped = [r.id for r in status.resources if not r.nodes_in_role(*_RUNNING)]
    if stopped:
        found.append(
            Finding(
                "resources-blocked-by-stonith",
                Severity.CRITICAL,
                f"Resource start-up disabled since no STONITH resources have been defined: "
                f"{', '.join(stopped)} stopped.",
                "Configure fencing; the resources start once a fencing device runs.",
            )
        )
    return found


_RUNNING = (Role.STARTED, Role.PROMOTED, Role.UNPROMOTED, Role.STARTING, Role.PROMOTING)


def _quorum(status: ClusterStatus) -> list[Finding]:
    if status.summary.dc is None:
        return [
            Finding(
                "no-dc",
                Severity.CRITICAL,
                "The cluster has no DC (designated controller): no decision can be made.",
                "Check that corosync and pacemaker run on the nodes "
                f"(`{_say(status, 'pcs status --full', 'crm status')}`, "
                "`corosync-quorumtool -s`).",
            )
        ]
    if status.summary.with_quorum:
        return []
    return [
        Finding(
            "no-quorum",
            Severity.CRITICAL,
            f"Partition WITHOUT quorum (DC {status.summary.dc}): resource management "
            "and fencing are disabled.",
            "Check the cluster links (`corosync-cfgtool -s`, "
            f"`{_say(status, 'pcs quorum status', 'corosync-quorumtool -s')}`); "
            "bring the other nodes back. Do not unblock quorum blindly.",
        )
    ]


def _nodes(status: ClusterStatus) -> list[Finding]:
    found = []
    for node in status.nodes:
        if node.state is NodeState.UNCLEAN:
            found.append(
                Finding(
                    "node-unclean",
                    Severity.CRITICAL,
                    f"Node {node.name} is UNCLEAN: it will be fenced.",
                    f"Check fencing (`stonith_admin --history {node.name}`); "
                    "never clear it by hand unless it is powered off.",
                )
            )
        elif node.state is NodeState.OFFLINE:
            found.append(
                Finding(
                    "node-offline",
                    Severity.WARNING,
                    f"Node {node.name} is offline.",
                    "Start the cluster on it ("
                    + _say(
                        status,
                        f"`pcs cluster start {node.name}`",
                        f"`crm cluster start` on {node.name}",
                    )
                    + ") or find why it left.",
                )
            )
    pending = [e for e in status.fence_events if e.status == "pending"]
    found.extend(
        Finding(
            "fencing-pending",
            Severity.CRITICAL,
            f"Fencing ({e.action}) of {e.target} is in progress.",
            "Wait for it; if it hangs, check the fence device.",
        )
        for e in pending
    )
    return found


def _failed_actions(status: ClusterStatus) -> list[Finding]:
    return [_failed_action(a, speaks_crmsh(status)) for a in status.failed_actions]


def _failed_action(a: FailedAction, crmsh: bool = False) -> Finding:
    """No name, no command: `pcs resource cleanup` without a resource cleans up every one."""
    what = " ".join(w for w in (a.resource, a.operation) if w) or "An operation"
    where = f" on {a.node}" if a.node else ""
    reason = f" ({a.exit_reason})" if a.exit_reason else ""
    message = f"{what}{where} failed: {a.exit_status or f'exit {a.exit_code}'}{reason}"
    if not a.resource:
        look = "crm status" if crmsh else "pcs status --full"
        fix = f"Find the resource in `{look}`, fix the cause, then clean that resource up."
        return Finding("failed-action", Severity.WARNING, message, fix)
    fix = (
        f"Fix the cause, then `/ha runbook cleanup resource={a.resource}` "
        f"(`{'crm' if crmsh else 'pcs'} resource cleanup {a.resource}`)."
    )
    return Finding("failed-action", Severity.WARNING, message, fix)


def _failed_fencing(status: ClusterStatus) -> list[Finding]:
    """Failed fencing actions (crm_mon keeps the last ones): name target, device and reason."""
    devices = ", ".join(r.id for r in status.fencing_resources) or "no device is configured"
    return [
        Finding(
            "fencing-failed",
            Severity.CRITICAL,
            f"Fencing ({e.action}) of {e.target} failed"
            + (f" (asked by {e.delegate or e.origin})" if e.delegate or e.origin else "")
            + (f": {e.reason}" if e.reason else "")
            + f". Fence devices: {devices}.",
            _say(
                status,
                f"Check the device (`pcs stonith status`, `stonith_admin --history {e.target}`), "
                f"fix it, then `pcs stonith history cleanup {e.target}`.",
                f"Check the device (`crm status`, `stonith_admin --history {e.target}`), fix it, "
                f"then `stonith_admin --history {e.target} --cleanup`.",
            ),
        )
        for e in _latest_per_target(status.fence_events)
        if e.status == "failed"
    ]


def _latest_per_target(events: tuple[FenceEvent, ...]) -> list[FenceEvent]:
    """crm_mon lists fence events newest first: a later success supersedes a failure."""
    seen: dict[tuple[str, str], FenceEvent] = {}
    for e in events:
        seen.setdefault((e.target, e.action), e)
    return list(seen.values())


def _move_leftovers(status: ClusterStatus) -> list[Finding]:
    return [
        Finding(
            "move-constraint-left",
            Severity.WARNING,
            f"Constraint {c.id} left by a move or ban pins {c.resource} "
            f"{'away from' if c.score < 0 else 'to'} {c.node}.",
            f"`{_say(status, 'pcs', 'crm')} resource clear {c.resource}` once the move is done.",
        )
        for c in status.move_leftovers
    ]


def _maintenance(status: ClusterStatus) -> list[Finding]:
    if not status.summary.maintenance_mode:
        return []
    return [
        Finding(
            "maintenance-mode",
            Severity.WARNING,
            "The cluster is in maintenance mode: resources are not managed.",
            "`/ha runbook maintenance mode=off` when the work is done.",
        )
    ]


def _unmanaged(status: ClusterStatus) -> list[Finding]:
    blocked = [i.id for r in status.resources for i in r.instances if i.blocked]
    if not blocked:
        return []
    return [
        Finding(
            "resource-blocked",
            Severity.CRITICAL,
            f"Blocked resources (a stop failed and fencing could not recover it): "
            f"{', '.join(sorted(set(blocked)))}.",
            "Check the node and the fence device, then clean the resource up.",
        )
    ]
