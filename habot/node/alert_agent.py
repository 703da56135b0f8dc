#!/usr/bin/python3 -I
"""habot-alert: Pacemaker's alert agent for habot (installed beside habot-node; Python's
standard library only).

Pacemaker runs it as hacluster for every node, fencing and resource event, with the event in
its environment (CRM_alert_*). It appends one JSON record per event to the recipient file
(`pcs alert recipient add habot value=/var/log/pacemaker/habot-events.jsonl`), where habot
reads it over SSH like a log file: no network path from the nodes to habot, no secret in the
CIB, and records written while habot is down wait in the file. It reads only its environment,
evaluates nothing, and writes JSON (every field escaped, cut to a bounded length) with one
write under a lock; past MAX_BYTES the file is renamed to `.1` (habot reads a rotated file
to its end) and a new one begun."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys

FIELDS = (
    "kind",
    "node",
    "nodeid",
    "rsc",
    "task",
    "interval",
    "rc",
    "target_rc",
    "status",
    "desc",
    "exec_time",
    "timestamp_epoch",
    "timestamp_usec",
    "node_sequence",
    "version",
)
MAX_FIELD = 512
MAX_BYTES = 16 * 1024 * 1024
DIRECTORY = "/var/log/pacemaker/"  # hacluster:haclient 0770: no other user writes here


def record(env: dict[str, str], host: str) -> bytes:
    """The event as one JSON line (ASCII: anything else escaped). `env` holds valid Unicode
    only (see `environment`): habot's reader refuses nothing the agent writes."""
    found = {f: env.get(f"CRM_alert_{f}", "")[:MAX_FIELD] for f in FIELDS}
    found["host"] = host[:MAX_FIELD]
    return (json.dumps(found, ensure_ascii=True, separators=(",", ":")) + "\n").encode()


def target(env: dict[str, str]) -> str | None:
    """The recipient: a .jsonl file directly in /var/log/pacemaker (or HABOT_ALERT_DIR's,
    for a test), never through a symlink or another directory."""
    path = env.get("CRM_alert_recipient", "")
    directory = env.get("HABOT_ALERT_DIR", DIRECTORY).rstrip("/") + "/"
    name = path[len(directory) :] if path.startswith(directory) else ""
    if not name.endswith(".jsonl") or "/" in name or name.startswith("."):
        return None
    return directory + name


def environment() -> dict[str, str]:
    """The process environment as text: a non-UTF-8 byte in an event's field (a resource's
    description, say) becomes U+FFFD, never a lone surrogate that no JSON reader takes."""
    return {
        k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in os.environb.items()
    }


def append(path: str, line: bytes, max_bytes: int = MAX_BYTES) -> None:
    """One locked write. A file that does not end with a newline (a write cut short: a full
    disk, a kill) gets one first, so the record stands on its line and is not glued to the
    broken one. Past `max_bytes` the file becomes `.1` (and `.1` becomes `.2`): habot reads
    both older generations to their end."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size + len(line) > max_bytes and os.path.samestat(
            os.fstat(fd), os.lstat(path)
        ):
            if os.path.lexists(path + ".1"):
                os.replace(path + ".1", path + ".2")
            os.replace(path, path + ".1")  # writers that opened it before finish into .1
            os.close(fd)
            fd = os.open(path, flags, 0o640)
            fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
    finally:
        os.close(fd)


def main() -> int:
    env = environment()
    path = target(env)
    if path is None:
        print(
            "habot-alert: the recipient must be a .jsonl file in /var/log/pacemaker",
            file=sys.stderr,
        )
        return 2
    append(path, record(env, socket.gethostname()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
