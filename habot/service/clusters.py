"""Use cases: what habot does, independent of Slack or the console."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from habot.cluster.health import Finding, Severity, assess
from habot.cluster.live import LiveStatus, read_status, simulate
from habot.cluster.simulate import PlannedAction, parse_actions
from habot.cluster.why import Why, explain, parse_scores
from habot.config import ClusterConfig
from habot.errors import TransportError, UsageError
from habot.runbooks.shells import chosen
from habot.ssh.transport import Transport


@dataclass(frozen=True, slots=True)
class ClusterHandle:
    name: str
    config: ClusterConfig
    transport: Transport


@dataclass(frozen=True, slots=True)
class StatusReport:
    cluster: str
    live: LiveStatus
    findings: tuple[Finding, ...]
    age_s: float | None = None  # answered from the live view, read this long ago; None: now
    shell: str = ""  # the shell habot's steps speak there, and why ("pcs, found on the nodes")

    @property
    def health(self) -> Severity | None:
        if any(f.severity is Severity.CRITICAL for f in self.findings):
            return Severity.CRITICAL
        return Severity.WARNING if self.findings else None


SCORES = ("crm_simulate", "--live-check", "--show-scores")  # the placement scores


def shell_of(handle: ClusterHandle, live: LiveStatus) -> str:
    """The shell the cluster's steps speak, in words (or why none can)."""
    shell, how = chosen(handle.config.shell, live.status.shells)
    return how if shell is not None else f"none: {how}"


def node_fail(node: str) -> tuple[str, ...]:
    """crm_simulate of the live cluster with `node` failed (nothing changes for real)."""
    return ("crm_simulate", "--live-check", "--simulate", f"--node-fail={node}", "--output-as=xml")


@dataclass(frozen=True, slots=True)
class LiveView:
    """A status kept current by following the cluster: valid until a followed journal says
    something changed (then forgotten), a stream goes down, or `until` passes."""

    live: LiveStatus
    read_at: float  # time.monotonic()
    until: float


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    cluster: str
    event: str
    node: str
    actions: tuple[PlannedAction, ...]

    @property
    def left_stopped(self) -> tuple[str, ...]:
        started = {a.resource for a in self.actions if a.action != "stop"}
        return tuple(sorted({a.resource for a in self.actions if a.action == "stop"} - started))


@dataclass(frozen=True, slots=True)
class WhyReport:
    cluster: str
    why: Why
    answered_by: str


@dataclass(frozen=True, slots=True)
class Ops:
    clusters: Mapping[str, ClusterHandle]
    views: dict[str, LiveView] = field(default_factory=dict)  # kept by the polling leader

    def remember(self, cluster: str, live: LiveStatus, read_at: float, valid_s: float) -> None:
        self.views[cluster] = LiveView(live, read_at, read_at + valid_s)

    def forget(self, cluster: str) -> None:
        self.views.pop(cluster, None)

    def cluster(self, name: str | None) -> ClusterHandle:
        if name is None:
            return next(iter(self.clusters.values()))
        handle = self.clusters.get(name)
        if handle is None:
            known = ", ".join(self.clusters)
            raise UsageError(f"unknown cluster `{name}` (habot knows: {known})")
        return handle

    async def read(self, handle: ClusterHandle) -> LiveStatus:
        nodes = [n.address() for n in handle.config.nodes]
        return await read_status(
            handle.transport,
            handle.name,
            nodes,
            timeout=handle.config.command_timeout_s,
            hedge_s=handle.config.status_hedge_s,
        )

    async def status(self, cluster: str | None = None) -> StatusReport:
        """From the live view while it is valid (saying how old it is), else read now. Only
        this answer uses the view: every plan and every check reads the cluster afresh."""
        handle = self.cluster(cluster)
        view, now = self.views.get(handle.name), time.monotonic()
        if view is not None and now < view.until:
            findings = assess(view.live.status)
            return StatusReport(
                handle.name, view.live, findings, now - view.read_at, shell_of(handle, view.live)
            )
        live = await self.read(handle)
        return StatusReport(handle.name, live, assess(live.status), shell=shell_of(handle, live))

    async def why(self, cluster: str | None, resource: str) -> WhyReport:
        """Where `resource` runs and why not elsewhere: the live status, and the placement
        scores `crm_simulate -Ls` computes on the node that answered."""
        handle = self.cluster(cluster)
        live = await self.read(handle)
        found = live.status.resource(resource)
        if found is None:
            known = ", ".join(r.id for r in live.status.resources[:20])
            raise UsageError(f"no resource `{resource[:40]}` in {handle.name} (there are: {known})")
        node = next(n.address() for n in handle.config.nodes if n.name == live.answered_by)
        scores: dict[str, int] = {}
        try:
            read = await handle.transport.read(
                node, SCORES, timeout=handle.config.command_timeout_s
            )
            if read.ok:
                for name in (found.id, *found.primitive_ids):
                    scores = scores or parse_scores(read.stdout_text, name)
        except TransportError:
            pass  # the reasons stand without the scores
        return WhyReport(handle.name, explain(live.status, found.id, scores), live.answered_by)

    async def whatif(self, cluster: str | None, event: str, node: str) -> WhatIfReport:
        """What the cluster would do if `node` failed, or were put in standby: crm_simulate
        on the live state (a shadow copy for standby); nothing changes for real."""
        handle = self.cluster(cluster)
        live = await self.read(handle)
        if live.status.node(node) is None:
            known = ", ".join(n.name for n in live.status.nodes)
            raise UsageError(f"no node `{node[:40]}` in {handle.name} (nodes: {known})")
        answering = next(n.address() for n in handle.config.nodes if n.name == live.answered_by)
        timeout = handle.config.command_timeout_s
        if event == "standby":
            actions = await simulate(
                handle.transport, answering, [("node", "standby", node)], timeout=timeout
            )
        else:
            result = await handle.transport.read(answering, node_fail(node), timeout=timeout)
            if not result.ok:
                said = (result.stderr_text or result.stdout_text).strip()[-200:]
                raise TransportError(answering.name, f"crm_simulate failed: {said}")
            actions = parse_actions(result.stdout)
        return WhatIfReport(handle.name, event, node, actions)

    async def close(self) -> None:
        for handle in self.clusters.values():
            await handle.transport.close()
