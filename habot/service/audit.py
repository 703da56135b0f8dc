"""The audit log as the runbook engine writes it: one run's entries, stamped with the cluster
and the time; a store that cannot write becomes the engine's AuditError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from habot.errors import AuditError
from habot.service.off_loop import off_loop
from habot.store import AuditEntry, Store, StoreError


@dataclass(frozen=True)
class RunAudit:
    store: Store
    cluster: str
    clock: Callable[[], float]

    async def record(self, event: str, **entry: Any) -> None:
        try:
            await off_loop(
                self.store.audit, at=self.clock(), cluster=self.cluster, event=event, **entry
            )
        except StoreError as e:
            raise AuditError(f"the audit log could not be written ({e})") from e


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit log as the frontends see it (they never import the store)."""

    at: float
    cluster: str
    event: str
    request_id: str
    user: str
    node: str
    argv: tuple[str, ...]
    rc: int | None
    duration: float | None
    detail: str
    node_user: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRecord:
        return cls(
            at=entry.at,
            cluster=entry.cluster,
            event=entry.event,
            request_id=entry.request_id,
            user=entry.user,
            node=entry.node,
            argv=entry.argv,
            rc=entry.rc,
            duration=entry.duration,
            detail=entry.detail,
            node_user=entry.node_user,
        )
