"""`virsh` as the lab's nodes see it: the real external/libvirt STONITH agent calls this.

Supports what that agent uses (start, destroy, reboot, dominfo, version) plus list and
domstate, with virsh's own wording where the agent greps it. Domains are the seed's libvirt
domain names (or the bare node names). Every action is appended to the lab's fence.log.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from habot.lab import processes
from habot.lab.layout import LabLayout
from habot.lab.node import REBOOT_DELAY_S, LabNode

USAGE = "usage: virsh [-c URI] {start|destroy|reboot|dominfo|domstate|list|version} [DOMAIN]"


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:1] in (["-c"], ["--connect"]):
        args = args[2:]
    if not args:
        print(USAGE, file=sys.stderr)
        return 1
    layout = LabLayout.default()
    command, rest = args[0], args[1:]
    if command == "version":
        print(
            "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\n"
            "Using API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0 (habot lab)"
        )
        return 0
    if command == "list":
        return _list(layout)
    if command not in ("start", "destroy", "reboot", "dominfo", "domstate") or not rest:
        print(USAGE, file=sys.stderr)
        return 1
    spec = layout.node_for_domain(rest[0])
    if spec is None:
        print(f"error: failed to get domain '{rest[0]}'", file=sys.stderr)
        return 1
    return _act(layout, LabNode(layout, spec), command)


def _list(layout: LabLayout) -> int:
    print(" Id   Name" + " " * 40 + "State\n" + "-" * 60)
    for index, spec in enumerate(layout.nodes, 1):
        state = LabNode(layout, spec).power_state()
        print(f" {index if state == 'running' else '-':<4} {spec.domain:<44} {state}")
    return 0


def _act(layout: LabLayout, node: LabNode, command: str) -> int:
    domain = node.spec.domain
    state = node.power_state()
    if command in ("dominfo", "domstate"):
        print(
            f"Name:           {domain}\nState:          {state}" if command == "dominfo" else state
        )
        return 0
    if state == "absent":
        print(f"error: failed to get domain '{domain}'", file=sys.stderr)
        return 1
    running = state == "running"
    if command == "start" and running:
        print(
            f"error: Failed to start domain '{domain}'\nerror: Requested operation is not "
            "valid: domain is already running",
            file=sys.stderr,
        )
        return 1
    if command in ("destroy", "reboot") and not running:
        print(
            f"error: Failed to {command} domain '{domain}'\nerror: Requested operation is "
            "not valid: domain is not running",
            file=sys.stderr,
        )
        return 1
    _log(layout, f"{command} {domain} ({node.spec.name})")
    if command in ("destroy", "reboot"):
        node.power_off()
    if command in ("start", "reboot"):
        _boot_later(layout, node)
    print(f"Domain '{domain}' {_past(command)}")
    return 0


def _boot_later(layout: LabLayout, node: LabNode) -> None:
    """Boot in the background, no sooner than REBOOT_DELAY_S after the power-off."""
    delay = max(0.0, node.power_off_time() + REBOOT_DELAY_S - time.time())
    node.power_file.write_text("on\n")
    processes.spawn(
        [sys.executable, "-m", "habot.lab.boot", node.spec.name, f"{delay:.1f}"],
        log=node.dir / "daemons" / "boot.out",
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HABOT_LAB_DIR": str(layout.root),
        },
    )


def _past(command: str) -> str:
    return {"start": "started", "destroy": "destroyed", "reboot": "is being rebooted"}[command]


def _log(layout: LabLayout, line: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with layout.fence_log.open("a") as log:
        log.write(f"{stamp} virsh {line}\n")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
