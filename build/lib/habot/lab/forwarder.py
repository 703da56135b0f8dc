"""ssh from the host to a node: socat on 127.0.0.N:PORT, into the node's own sshd."""

from __future__ import annotations

from habot.lab import processes
from habot.lab.layout import LabLayout
from habot.lab.node import CLEAN_ENV, LabNode


def start(layout: LabLayout, node: LabNode) -> None:
    anchor = node.require_anchor()
    # nodelay on both legs: without it, Nagle and delayed ACKs add ~70 ms to every SSH channel
    listen = f"TCP4-LISTEN:{layout.ssh_port},bind={node.spec.ssh_host},reuseaddr,fork,nodelay"
    inner = f"EXEC:nsenter -t {anchor} -n socat STDIO TCP4\\:127.0.0.1\\:22\\,nodelay"
    pid = processes.spawn(
        ["socat", listen, inner], log=node.dir / "daemons" / "forwarder.out", env=CLEAN_ENV
    )
    node.pid_file("forwarder").write_text(f"{pid}\n")


def stop(node: LabNode) -> None:
    pid = processes.read_pid(node.pid_file("forwarder"))
    if pid is not None and processes.alive(pid):
        cmdline = _cmdline(pid)
        if cmdline[:1] == ["socat"]:  # the PID file could be stale after a machine restart
            processes.kill_group(pid)
            processes.wait_gone([pid], 2)
    node.pid_file("forwarder").unlink(missing_ok=True)


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []
