"""Asking a live cluster: argv builders, and the first node that answers wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from habot.cluster.crm_mon import RC_NOT_CONNECTED, parse_crm_mon, with_constraints
from habot.cluster.model import ClusterStatus
from habot.cluster.simulate import PlannedAction, parse_actions
from habot.errors import ClusterUnreachable, StatusParseError, TransportError
from habot.ssh.transport import EXIT_NOT_FOUND, NodeAddress, Transport

CRM_MON = ("crm_mon", "--one-shot", "--inactive", "--output-as=xml")
CONSTRAINTS = ("cibadmin", "--query", "--scope", "constraints")
CLUSTER_NAME = (
    "crm_attribute",
    "--type",
    "crm_config",
    "--name",
    "cluster-name",
    "--query",
    "--quiet",
)
SEPARATOR = b"--habot-section--"
# All three over one SSH channel (a channel costs a round trip or two): crm_mon's XML, the
# constraints section and the cluster name, a separator line between them. A fixed script;
# its exit code is crm_mon's.
_SCRIPT = (
    f'{" ".join(CRM_MON)}; rc=$?; printf "\\n%s\\n" "$1"; '
    f'{" ".join(CONSTRAINTS)} 2>/dev/null; printf "\\n%s\\n" "$1"; '
    f"{' '.join(CLUSTER_NAME)} 2>/dev/null; exit $rc"
)
STATUS = ("sh", "-c", _SCRIPT, "habot-status", SEPARATOR.decode())


@dataclass(frozen=True, slots=True)
class LiveStatus:
    status: ClusterStatus
    answered_by: str
    unreachable: dict[str, str]  # nodes tried before, and why they did not answer


async def read_status(
    transport: Transport, cluster: str, nodes: Sequence[NodeAddress], *, timeout: float
) -> LiveStatus:
    """crm_mon from the first node that answers, plus its location constraints."""
    reasons: dict[str, str] = {}
    for node in nodes:
        try:
            status = await _status_from(transport, node, timeout)
        except (TransportError, StatusParseError) as e:
            reasons[node.name] = getattr(e, "reason", str(e))
            continue
        return LiveStatus(status=status, answered_by=node.name, unreachable=reasons)
    raise ClusterUnreachable(cluster, reasons)


async def _status_from(transport: Transport, node: NodeAddress, timeout: float) -> ClusterStatus:
    result = await transport.run(node, STATUS, timeout=timeout)
    if result.exit_status == RC_NOT_CONNECTED:
        raise TransportError(node.name, "pacemaker is not running there (crm_mon rc 102)")
    if result.exit_status == EXIT_NOT_FOUND:
        raise TransportError(node.name, "crm_mon is not installed there")
    if not result.ok:
        detail = result.stderr_text.strip().splitlines()[-1:] or [""]
        raise TransportError(node.name, f"crm_mon failed (rc {result.exit_status}) {detail[0]}")
    sections = [*result.stdout.split(b"\n" + SEPARATOR + b"\n", 2), b"", b""]
    crm_mon, constraints, name = sections[:3]
    status = parse_crm_mon(crm_mon)
    if constraints.strip():
        status = with_constraints(status, constraints)
    return replace(status, cluster_name=name.decode(errors="replace").strip())


async def simulate(
    transport: Transport,
    node: NodeAddress,
    edits: Sequence[Sequence[str]],
    *,
    tag: str,
    timeout: float,
) -> tuple[PlannedAction, ...]:
    """Apply pcs edits to a shadow copy of the live CIB and ask crm_simulate what would happen.

    Nothing reaches the live cluster: every edit is `pcs -f SHADOW ...` on a copy.
    """
    shadow = f"/tmp/habot-preview-{tag}.xml"
    commands = [("pcs", "cluster", "cib", shadow), *(("pcs", "-f", shadow, *e) for e in edits)]
    try:
        for argv in commands:
            result = await transport.run(node, argv, timeout=timeout)
            if not result.ok:
                detail = (result.stderr_text or result.stdout_text).strip()[-300:]
                raise TransportError(node.name, f"preview: {' '.join(argv[3:])}: {detail}")
        result = await transport.run(
            node,
            ("crm_simulate", "--simulate", "--xml-file", shadow, "--output-as=xml"),
            timeout=timeout,
        )
        return parse_actions(result.stdout)
    finally:
        await transport.run(node, ("rm", "-f", shadow), timeout=timeout)
