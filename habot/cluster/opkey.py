"""Operation keys (`WebSite_monitor_20000`) and history ids (`rsc_last_failure_0`) as
Pacemaker reads them: resource, task and interval — resource ids may hold `_`, and so may a
few tasks (`migrate_to`, `migrate_from`, notifications)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOTIFY = re.compile(r"(?P<rsc>.+)_(?:pre|post)_notify_[a-z_]+")
_COMPOUND = ("migrate_to", "migrate_from")
_HISTORY = ("_last_failure", "_last")  # lrm_rsc_op ids that are not operation keys


@dataclass(frozen=True, slots=True)
class OpKey:
    resource: str
    task: str  # "" when the key does not say (a history id)
    interval_ms: int


def parse_op_key(key: str, task: str = "") -> OpKey | None:
    """None when `key` is not `<resource>_<task>_<interval>` (nor a history id)."""
    head, sep, interval = key.rpartition("_")
    if not sep or not head or not re.fullmatch(r"[0-9]{1,12}", interval):
        return None
    ms = int(interval)
    if task and head.endswith(f"_{task}") and len(head) > len(task) + 1:
        return OpKey(head[: -len(task) - 1], task, ms)
    notify = _NOTIFY.fullmatch(head)
    if notify is not None:
        return OpKey(notify.group("rsc"), "notify", ms)
    for compound in _COMPOUND:
        if head.endswith(f"_{compound}") and len(head) > len(compound) + 1:
            return OpKey(head[: -len(compound) - 1], compound, ms)
    for suffix in _HISTORY:
        if head.endswith(suffix) and len(head) > len(suffix):
            return OpKey(head[: -len(suffix)], task, ms)
    resource, sep, found = head.rpartition("_")
    if not sep or not resource:
        return None
    return OpKey(resource, found, ms)
