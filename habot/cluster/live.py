"""Asking a live cluster: argv builders, and the first node that answers wins."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from habot.cluster.constraints import with_constraints
from habot.cluster.crm_mon import RC_NOT_CONNECTED, parse_crm_mon
from habot.cluster.model import ClusterStatus
from habot.cluster.scratch import (
    helper_cib,
    is_crmsh,
    scratch_dir,
    shadow_edit,
    shadow_pull,
    shadow_simulate,
)
from habot.cluster.simulate import PlannedAction, parse_actions
from habot.errors import ClusterUnreachable, StatusParseError, TransportError
from habot.node import HELPER
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
SHELLS = ("pcs", "crm")  # the programs of the cluster shells, said after the cluster name
PARSED_KEPT = 2048  # statuses kept parsed (one a cluster is enough); their documents as keys
HEDGE_S = 0.5  # how long one node may stay silent before the next one is asked too
# All four over one SSH channel (a channel costs a round trip or two): crm_mon's XML, the
# constraints section, the cluster name and the shells found (pcs, crm), a separator line
# between them. A fixed script;
# its exit code is crm_mon's.
_SCRIPT = (
    f'{" ".join(CRM_MON)}; rc=$?; printf "\\n%s\\n" "$1"; '
    f'{" ".join(CONSTRAINTS)} 2>/dev/null; printf "\\n%s\\n" "$1"; '
    f'{" ".join(CLUSTER_NAME)} 2>/dev/null; printf "\\n%s\\n" "$1"; '
    'for s in pcs crm; do command -v "$s" >/dev/null && printf "%s " "$s"; done; echo; exit $rc'
)
STATUS = ("sh", "-c", _SCRIPT, "habot-status", SEPARATOR.decode())
# Through sudo, the same read is one of habot-node's own steps: no argument, no shell.
HELPER_STATUS = (HELPER, "status")


def status_argv(node: NodeAddress) -> tuple[str, ...]:
    return HELPER_STATUS if node.sudo else STATUS


@dataclass(frozen=True, slots=True)
class LiveStatus:
    status: ClusterStatus
    answered_by: str
    unreachable: dict[str, str]  # nodes tried before, and why they did not answer


async def read_status(
    transport: Transport,
    cluster: str,
    nodes: Sequence[NodeAddress],
    *,
    timeout: float,
    hedge_s: float = HEDGE_S,
) -> LiveStatus:
    """crm_mon from the first node that answers well, plus its location constraints.

    Hedged: the next node is asked as soon as one fails, or when no answer came within
    `hedge_s` — so a frozen node delays the answer by `hedge_s`, never by its full timeout.
    """
    reasons: dict[str, str] = {}
    waiting = list(nodes)
    asking: dict[asyncio.Task[ClusterStatus], NodeAddress] = {}

    def ask_next() -> None:
        if waiting:
            node = waiting.pop(0)
            asking[asyncio.create_task(_status_from(transport, node, timeout))] = node

    ask_next()
    try:
        while asking:
            patience = hedge_s if waiting else None
            done, _ = await asyncio.wait(
                asking, timeout=patience, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                ask_next()
            for task in done:
                node = asking.pop(task)
                try:
                    status = task.result()
                except (TransportError, StatusParseError) as e:
                    reasons[node.name] = getattr(e, "reason", str(e))
                    ask_next()
                    continue
                return LiveStatus(status, node.name, _in_order(reasons, nodes))
    finally:
        await _abandon(asking)
    raise ClusterUnreachable(cluster, _in_order(reasons, nodes))


async def _abandon(tasks: Iterable[asyncio.Task[ClusterStatus]]) -> None:
    """Slower nodes' reads are not needed any more."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _in_order(reasons: dict[str, str], nodes: Sequence[NodeAddress]) -> dict[str, str]:
    return {n.name: reasons[n.name] for n in nodes if n.name in reasons}


async def _status_from(transport: Transport, node: NodeAddress, timeout: float) -> ClusterStatus:
    result = await transport.read(node, status_argv(node), timeout=timeout)
    if result.exit_status == RC_NOT_CONNECTED:
        raise TransportError(node.name, "pacemaker is not running there (crm_mon rc 102)")
    if result.exit_status == EXIT_NOT_FOUND:
        raise TransportError(node.name, "crm_mon is not installed there")
    if not result.ok:
        detail = result.stderr_text.strip().splitlines()[-1:] or [""]
        raise TransportError(node.name, f"crm_mon failed (rc {result.exit_status}) {detail[0]}")
    parts = result.stdout.split(b"\n" + SEPARATOR + b"\n", 3)
    crm_mon, constraints, name, shells = [*parts, b"", b"", b""][:4]
    try:
        status = parsed(crm_mon, constraints)
    except (ValueError, LookupError, TypeError) as e:  # whatever this node's answer held:
        raise StatusParseError(f"{node.name}: unreadable status ({e})") from e  # ask the next
    found = (
        tuple(w for w in shells.decode(errors="replace").split() if w in SHELLS)
        if len(parts) == 4
        else None  # a habot-node from before the shells were said
    )
    return replace(status, cluster_name=name.decode(errors="replace").strip(), shells=found)


# crm_mon's one element that changes on every read (when it was read); all else changes only
# when the cluster does.
_LAST_UPDATE = re.compile(rb'<last_update time="([^"]*)"[^>]*/>')


def parsed(crm_mon: bytes, constraints: bytes) -> ClusterStatus:
    """The status in crm_mon's XML and the constraints section; a document seen before but
    for its read time is not parsed again (a poll of an unchanged cluster costs no parse)."""
    update = _LAST_UPDATE.search(crm_mon)
    if update is None:
        return _parsed(crm_mon, constraints)
    status = _parsed(crm_mon[: update.start()] + crm_mon[update.end() :], constraints)
    when = update.group(1).decode(errors="replace")
    return replace(status, summary=replace(status.summary, last_update=when))


@functools.lru_cache(maxsize=PARSED_KEPT)
def _parsed(crm_mon: bytes, constraints: bytes) -> ClusterStatus:
    status = parse_crm_mon(crm_mon)
    return with_constraints(status, constraints) if constraints.strip() else status


async def simulate(
    transport: Transport,
    node: NodeAddress,
    edits: Sequence[Sequence[str]],
    *,
    timeout: float,
) -> tuple[PlannedAction, ...]:
    """Apply pcs edits to a shadow copy of the live CIB and ask crm_simulate what would happen.

    Nothing reaches the live cluster: every edit is `pcs -f SHADOW ...` on a copy. Through
    sudo, all of it is habot-node's one `cib simulate` step — a read, so over the node's
    read session — which makes a standby, a move or a ban with Pacemaker's own C tools
    instead of pcs.
    """
    if node.sudo:
        result = await transport.read(node, helper_cib("simulate", edits), timeout=timeout)
        if not result.ok:
            detail = (result.stderr_text or result.stdout_text).strip()[-300:]
            raise TransportError(node.name, f"preview: {detail}")
        return parse_actions(result.stdout)
    async with scratch_dir(transport, node, timeout=timeout) as private:
        shadow = f"{private}/cib.xml"
        commands = [shadow_pull(shadow, is_crmsh(edits)), *(shadow_edit(shadow, e) for e in edits)]
        for argv in commands:
            result = await transport.run(node, argv, timeout=timeout)
            if not result.ok:
                detail = (result.stderr_text or result.stdout_text).strip()[-300:]
                raise TransportError(node.name, f"preview: {' '.join(argv[3:])}: {detail}")
        result = await transport.run(node, shadow_simulate(shadow), timeout=timeout)
        return parse_actions(result.stdout)
