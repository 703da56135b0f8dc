"""The audit log as the runbook engine writes it: one run's entries, stamped with the cluster
and the time; a store that cannot write becomes the engine's AuditError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from habot.errors import AuditError, RunLost
from habot.service.off_loop import off_loop
from habot.store import AuditEntry, Store, StoreError

FENCED = "command started"  # the entry every command waits for: it proves the run is ours


@dataclass(frozen=True)
class RunAudit:
    store: Store
    cluster: str
    clock: Callable[[], float]
    owner: str = ""  # the replica running it: with one, each command is fenced by ownership

    async def record(self, event: str, **entry: Any) -> None:
        fields = {"at": self.clock(), "cluster": self.cluster, "event": event, **entry}
        try:
            if event == FENCED and self.owner:
                ours = await off_loop(self.store.audit_as_owner, self.owner, **fields)
            else:
                await off_loop(self.store.audit, **fields)
                ours = True
        except StoreError as e:
            raise AuditError(f"the audit log could not be written ({e})") from e
        if not ours:
            raise RunLost(
                f"this replica ({self.owner}) no longer owns the run: it was marked "
                "interrupted while this replica was paused, and another run may hold the "
                "cluster; no further command starts, rollback included"
            )


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
