"""`systemctl` as pcs sees it inside a lab node: start, stop and query corosync and pacemaker.

The node is the one whose hostname this process has (each node has its own UTS namespace).
"""

from __future__ import annotations

import socket
import sys

from habot.lab.layout import LabLayout
from habot.lab.node import LabNode

UNITS = {"corosync": "corosync", "pacemaker": "pacemakerd", "sshd": "sshd", "ssh": "sshd"}
KNOWN = ("corosync", "pacemaker", "pcsd", "sshd", "ssh", "corosync-qdevice", "sbd")
EXIT_INACTIVE = 3


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    if not args:
        return 0
    verb, units = args[0], [u.removesuffix(".service") for u in args[1:]]
    if verb == "list-unit-files":
        print("UNIT FILE STATE VENDOR PRESET")
        print("\n".join(f"{u}.service enabled enabled" for u in KNOWN if u in UNITS))
        return 0
    if verb in ("daemon-reload", "reset-failed", "enable", "disable"):
        return 0
    layout = LabLayout.default()
    node = LabNode(layout, layout.node(socket.gethostname()))
    code = 0
    for unit in units:
        code = max(code, _act(node, verb, unit))
    return code


def _act(node: LabNode, verb: str, unit: str) -> int:
    daemon = UNITS.get(unit)
    if daemon is None:
        if verb in ("is-active", "status"):
            print("inactive")
            return EXIT_INACTIVE
        if verb == "is-enabled":
            print("disabled")
            return 1
        return 0
    running = node.daemon_pid(daemon) is not None
    if verb in ("is-active", "status"):
        print("active" if running else "inactive")
        return 0 if running else EXIT_INACTIVE
    if verb == "is-enabled":
        print("enabled")
        return 0
    if verb in ("stop", "restart") and running:
        node.stop_daemon(daemon, timeout=120)
    if verb in ("start", "restart"):
        node.start_daemon(daemon)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
