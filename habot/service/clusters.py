"""Use cases: what habot does, independent of Slack or the console."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from habot.cluster.health import Finding, Severity, assess
from habot.cluster.live import LiveStatus, read_status
from habot.config import ClusterConfig
from habot.errors import UsageError
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

    @property
    def health(self) -> Severity | None:
        if any(f.severity is Severity.CRITICAL for f in self.findings):
            return Severity.CRITICAL
        return Severity.WARNING if self.findings else None


@dataclass(frozen=True, slots=True)
class Ops:
    clusters: Mapping[str, ClusterHandle]

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
        handle = self.cluster(cluster)
        live = await self.read(handle)
        return StatusReport(cluster=handle.name, live=live, findings=assess(live.status))

    async def close(self) -> None:
        for handle in self.clusters.values():
            await handle.transport.close()
