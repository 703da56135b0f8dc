"""Records of habot's alert agent (habot/node/alert_agent.py) as log lines (pure).

Each record is one event Pacemaker handed the agent. It becomes the line Pacemaker itself logs
for that event (`Node nodo2 state is now lost`, `Peer nodo2 was terminated (reboot) by nodo1 on
behalf of …: OK`, `Result of monitor operation for WebSite on nodo1: not running`), so the same
catalogue, keys and cards apply whether an event is read from the logs or pushed by the agent.
Successful results are not events. Node and fencing events arrive once per node: `once` keeps
the first of each within a few seconds."""

from __future__ import annotations

from collections.abc import Sequence

from habot.alerts.logline import LogLine, json_object, valid_text
from habot.alerts.patterns import bounded_field, linear

AGENT = "habot-alert"  # the identifier of the lines made from records
SAME_EVENT_S = 10.0  # one node or fencing event, reported by every node within this
_FENCING = linear(
    r"^Operation (?P<action>\w{1,32}) of (?P<target>\S{1,255}) by (?P<by>\S{1,255}) "
    r"for (?P<client>\S{1,255}): (?P<result>[^(]{1,200}?)\s{0,4}(?:\(|$)"
)
CANCELLED = "1"  # CRM_alert_status: the operation was cancelled, not a result
FIELDS = ("kind", "node", "rsc", "task", "interval", "rc", "target_rc", "status", "desc")


MAX_RECORD = 64 * 1024  # the agent writes at most ~50 KiB: 16 fields of 512 characters, escaped


class RecordError(ValueError):
    """A line of the agent's file that is not a record the agent writes."""


def parse_record(node: str, raw: bytes) -> LogLine | None:
    """One line of the agent's file as the line Pacemaker logs for that event; None for what
    is not an event (a success, a cancellation, an attribute change). RecordError for a line
    that is not one of the agent's records: JSON, one object, at most MAX_RECORD bytes, every
    field a string — each line on its own, so one bad line never costs the others."""
    data = json_object(raw, MAX_RECORD)
    if data is None:
        raise RecordError(f"not one JSON object of at most {MAX_RECORD} bytes: {raw[:40]!r}")
    if not all(isinstance(v, str) for v in data.values()):
        raise RecordError("a field that is not a string (the agent writes strings only)")
    f = {k: bounded_field(valid_text(data.get(k, ""))) for k in FIELDS}
    said = _text(f, valid_text(data.get("host", ""))[:255] or node)
    if said is None:
        return None
    return LogLine(node=node, identifier=AGENT, level="notice", text=said, at=_at(data))


def _text(f: dict[str, str], host: str) -> str | None:
    if f["kind"] == "node" and f["desc"] in ("member", "lost"):
        return f"Node {f['node']} state is now {f['desc']}"
    if f["kind"] == "fencing":
        found = _FENCING.search(f["desc"])
        if found is None:
            return None
        g = {k: v or "" for k, v in found.groupdict().items()}
        ok = g["result"].strip() == "OK"
        said = "was terminated" if ok else "was not terminated"
        return (
            f"Peer {g['target']} {said} ({g['action']}) by {g['by']} on behalf of "
            f"{g['client']}: {g['result'].strip()}"
        )
    if f["kind"] == "resource" and f["rsc"] and f["task"]:
        if f["status"] == CANCELLED or (f["status"] == "0" and f["rc"] == f["target_rc"]):
            return None  # a cancellation, or the result that was expected
        task = "probe" if f["task"] == "monitor" and f["interval"] in ("", "0") else f["task"]
        said = f["desc"] or f"rc={f['rc']}"
        return f"Result of {task} operation for {f['rsc']} on {host}: {said}"
    return None


def _at(data: dict[str, object]) -> float:
    try:
        seconds = float(str(data.get("timestamp_epoch", "0")))
        micro = float(str(data.get("timestamp_usec", "0") or "0"))
    except ValueError:
        return 0.0
    return seconds + micro / 1e6 if seconds > 0 else 0.0


def once(lines: Sequence[LogLine]) -> list[LogLine]:
    """The agent's node and fencing events once, though every node reported them (other
    lines, and resource events — each from the one node that ran the operation — untouched,
    in their order)."""
    kept: list[LogLine] = []
    seen: dict[str, list[float]] = {}
    for line in lines:
        if line.identifier == AGENT and not line.text.startswith("Result of"):
            times = seen.setdefault(line.text, [])
            if any(abs(line.at - t) <= SAME_EVENT_S for t in times):
                continue
            times.append(line.at)
        kept.append(line)
    return kept
