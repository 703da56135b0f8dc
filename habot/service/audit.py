"""The audit log as the runbook engine writes it: one run's entries, stamped with the cluster
and the time; a store that cannot write becomes the engine's AuditError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from habot.errors import AuditError
from habot.service.off_loop import off_loop
from habot.store import Store, StoreError


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
