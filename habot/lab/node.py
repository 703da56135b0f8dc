"""One lab node: its namespaces, its power state, and the daemons a power-on starts."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from habot.errors import LabError
from habot.lab import processes
from habot.lab.layout import NETWORK_PREFIX, LabLayout, NodeSpec

CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
PACEMAKER_ENV = {
    **CLEAN_ENV,
    "PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
    "PCMK_logfacility": "daemon",
    "PCMK_logpriority": "notice",
}
# Boot order: journald first (the others log to it), then sshd, corosync, pacemaker.
DAEMONS = ("journald", "sshd", "corosync", "pacemakerd")
REBOOT_DELAY_S = 10.0  # more than corosync token + consensus (about 6.6 s), or the rejoin races


def script(name: str) -> str:
    return str(resources.files("habot.lab") / "files" / name)


@dataclass(frozen=True, slots=True)
class LabNode:
    layout: LabLayout
    spec: NodeSpec

    @property
    def dir(self) -> Path:
        return self.layout.node_dir(self.spec.name)

    def pid_file(self, daemon: str) -> Path:
        return self.dir / "pids" / f"{daemon}.pid"

    @property
    def power_file(self) -> Path:
        return self.dir / "power"

    def anchor(self) -> int | None:
        """PID of the process that holds the node's namespaces, when it is alive."""
        pid = processes.read_pid(self.pid_file("anchor"))
        if pid is None or not processes.alive(pid):
            return None
        recorded = self.dir / "pids" / "anchor.netns"
        if not recorded.exists() or processes.namespace_of(pid, "net") != recorded.read_text():
            return None
        return pid

    def require_anchor(self) -> int:
        pid = self.anchor()
        if pid is None:
            raise LabError(f"{self.spec.name} does not exist: run `habot lab up`")
        return pid

    # -- creation -------------------------------------------------------------------------

    def create(self) -> None:
        """Start the anchor in the node's network namespace and lay out its private mounts."""
        argv = [
            "ip",
            "netns",
            "exec",
            self.spec.netns,
            "unshare",
            "--mount",
            "--uts",
            "--propagation",
            "private",
            "sleep",
            "infinity",
        ]
        pid = processes.spawn(argv, log=self.dir / "daemons" / "anchor.out", env=CLEAN_ENV)
        self._wait_anchor(pid)
        self.pid_file("anchor").write_text(f"{pid}\n")
        (self.dir / "pids" / "anchor.netns").write_text(processes.namespace_of(pid, "net") or "")
        env = {
            **CLEAN_ENV,
            "NODE_NAME": self.spec.name,
            "NODE_DIR": str(self.dir),
            "LAB": str(self.layout.root),
            "LAB_SHELL": self.layout.shell,
        }
        processes.run(processes.enter(pid, ["sh", script("node-setup.sh")]), env=env)

    def _wait_anchor(self, pid: int) -> None:
        # ip netns exec and unshare exec in turn; the PID is the anchor once it runs `sleep`.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                return
            time.sleep(0.02)
        raise LabError(f"{self.spec.name}: the namespace anchor did not start")

    # -- power ----------------------------------------------------------------------------

    def is_on(self) -> bool:
        return self.power_state() == "running"

    def power_state(self) -> str:
        if self.anchor() is None:
            return "absent"
        state = self.power_file.read_text().split()[0] if self.power_file.exists() else "off"
        return "running" if state == "on" else "shut off"

    def power_off_time(self) -> float:
        try:
            return float(self.power_file.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return 0.0

    def boot(self) -> None:
        """Power on: fresh /run, network up, then journald, sshd, corosync and pacemaker."""
        anchor = self.require_anchor()
        self.power_file.write_text("on\n")
        processes.run(processes.enter(anchor, ["sh", script("node-runtime.sh")]), env=CLEAN_ENV)
        self._network_up(anchor)
        self._start("journald", ["/lib/systemd/systemd-journald"], CLEAN_ENV)
        self._wait_file(anchor, "run/systemd/journal/dev-log", "journald")
        processes.run(processes.enter(anchor, ["journalctl", "--flush"]), check=False)
        for daemon in ("sshd", "corosync", "pacemakerd"):
            self.start_daemon(daemon)

    def start_sshd(self) -> None:
        self._start(
            "sshd", ["/usr/sbin/sshd", "-D", "-f", str(self.dir / "sshd_config")], CLEAN_ENV
        )
        anchor = self.require_anchor()
        self._wait_file(anchor, "run/sshd.pid", "sshd")

    def stop_daemon(self, daemon: str, timeout: float = 10) -> None:
        """Stop one daemon the lab started in this node (by its recorded PID)."""
        pid = self.daemon_pid(daemon)
        if pid is not None:
            processes.kill([pid], signal.SIGTERM)
            processes.wait_gone([pid], timeout)

    def start_daemon(self, daemon: str) -> None:
        """Start corosync, pacemaker or sshd again (as `pcs cluster start` does)."""
        if self.daemon_pid(daemon) is not None:
            return
        if daemon == "sshd":
            self.start_sshd()
        elif daemon == "corosync":
            self._start("corosync", ["corosync", "-f"], CLEAN_ENV)
            self._wait_corosync(self.require_anchor())
        elif daemon == "pacemakerd":
            self._start("pacemakerd", ["pacemakerd"], PACEMAKER_ENV)

    def _network_up(self, anchor: int) -> None:
        ip = ["ip", "-4"]
        address = f"{self.spec.address}/{NETWORK_PREFIX}"
        for argv in (
            ["link", "set", "lo", "up"],
            ["addr", "flush", "dev", "eth0"],
            ["addr", "add", address, "dev", "eth0"],
            ["link", "set", "eth0", "up"],
        ):
            processes.run(processes.enter(anchor, [*ip, *argv]))

    def _start(self, daemon: str, argv: list[str], env: dict[str, str]) -> None:
        anchor = self.require_anchor()
        pid = processes.spawn(
            processes.enter(anchor, argv), log=self.dir / "daemons" / f"{daemon}.out", env=env
        )
        self.pid_file(daemon).write_text(f"{pid}\n")

    def _wait_file(self, anchor: int, relative: str, what: str, timeout: float = 10) -> None:
        path = Path(f"/proc/{anchor}/root") / relative
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise LabError(f"{self.spec.name}: {what} did not start within {timeout:g} s")
            time.sleep(0.05)

    def _wait_corosync(self, anchor: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while (
            processes.run(
                processes.enter(anchor, ["corosync-cfgtool", "-s"]), check=False
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise LabError(f"{self.spec.name}: corosync did not start within {timeout:g} s")
            time.sleep(0.2)

    def power_off(self) -> None:
        """Pull the plug: kill everything in the node (never the anchor), take its link down."""
        anchor = self.require_anchor()
        self.power_file.write_text(f"off {time.time():.3f}\n")
        self.kill_all(keep=anchor)
        for argv in (["ip", "addr", "flush", "dev", "eth0"], ["ip", "link", "set", "eth0", "down"]):
            processes.run(processes.enter(anchor, argv), check=False)

    def kill_all(self, keep: int | None = None) -> None:
        """SIGKILL every process in the node's mount namespace, until none is left."""
        anchor = self.anchor()
        if anchor is None:
            return
        ns = processes.namespace_of(anchor, "mnt")
        if ns is None:
            return
        for _ in range(50):
            victims = [p for p in processes.pids_in_namespace(ns) if p != keep]
            if not victims:
                return
            processes.kill(victims)
            processes.wait_gone(victims, 0.5)
        raise LabError(f"{self.spec.name}: processes survive SIGKILL")

    def stop_gracefully(self, timeout: float) -> None:
        """Ask pacemaker, then corosync, to stop; give them `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        for daemon in ("pacemakerd", "corosync"):
            pid = self.daemon_pid(daemon)
            if pid is None:
                continue
            processes.kill([pid], signal.SIGTERM)
            processes.wait_gone([pid], max(0.0, deadline - time.monotonic()))

    def daemon_pid(self, daemon: str) -> int | None:
        """PID of a daemon the lab started in this node, when it is still that process."""
        anchor = self.anchor()
        pid = processes.read_pid(self.pid_file(daemon))
        if anchor is None or pid is None or not processes.alive(pid):
            return None
        same_node = processes.namespace_of(pid, "mnt") == processes.namespace_of(anchor, "mnt")
        return pid if same_node else None

    def daemons(self) -> dict[str, bool]:
        return {d: self.daemon_pid(d) is not None for d in DAEMONS}
