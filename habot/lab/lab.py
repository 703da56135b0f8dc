"""The lab as a whole: up, down, status, crash, boot, reset."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from habot.errors import LabError
from habot.lab import configs, forwarder, preflight, processes, seed
from habot.lab.layout import LabLayout
from habot.lab.node import LabNode

PROPERTY = ("crm_attribute", "--type", "crm_config", "--name")
ONLINE_TIMEOUT_S = 60.0
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Lab:
    layout: LabLayout

    def nodes(self) -> Iterator[LabNode]:
        return (LabNode(self.layout, spec) for spec in self.layout.nodes)

    def node(self, name: str) -> LabNode:
        try:
            return LabNode(self.layout, self.layout.node(name))
        except KeyError as e:
            raise LabError(str(e.args[0])) from e

    # -- up -------------------------------------------------------------------------------

    @property
    def ready_file(self) -> Path:
        return self.layout.root / "ready"

    def is_up(self) -> bool:
        """Up means `up` finished and every node's namespaces still exist."""
        return self.ready_file.exists() and all(n.anchor() is not None for n in self.nodes())

    def leftovers(self) -> list[str]:
        """What a lab that was not taken down cleanly left on this machine."""
        found = [
            f"network namespace {s.netns}"
            for s in self.layout.nodes
            if (Path("/run/netns") / s.netns).exists()
        ]
        for node in self.nodes():
            for pid_file in sorted((node.dir / "pids").glob("*.pid")):
                pid = processes.read_pid(pid_file)
                if pid is not None and processes.alive(pid):
                    found.append(f"{node.spec.name} {pid_file.stem} (pid {pid})")
        return found

    def up(self, say: Say) -> None:
        if self.is_up():
            say(
                f"the lab is already up ({', '.join(s.name for s in self.layout.nodes)}); "
                "`habot lab down` first to start over"
            )
            return
        preflight.check_root()
        preflight.check_packages()
        left = self.leftovers()
        if left:
            say("cleaning what a previous lab left behind: " + ", ".join(left))
            self.down(say, grace=0)
        preflight.check_netns()
        preflight.check_ports(self.layout)
        started = time.monotonic()
        configs.write_all(self.layout)
        self._network()
        for node in self.nodes():
            node.create()
        self._parallel(lambda n: n.boot())
        for node in self.nodes():
            forwarder.start(self.layout, node)
        say("corosync and pacemaker started on " + ", ".join(s.name for s in self.layout.nodes))
        self.wait_online(ONLINE_TIMEOUT_S)
        say(f"both nodes online after {time.monotonic() - started:.1f} s; loading the seed cluster")
        self.load_seed()
        self.ready_file.write_text(f"{time.time():.0f}\n")
        say(f"lab up in {time.monotonic() - started:.1f} s")

    def _network(self) -> None:
        specs = self.layout.nodes
        for spec in specs:
            processes.run(["ip", "netns", "add", spec.netns])
        first, second = specs
        processes.run(
            [
                "ip",
                "link",
                "add",
                "eth0",
                "netns",
                first.netns,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                second.netns,
            ]
        )

    def _parallel(self, action: Callable[[LabNode], None]) -> None:
        with ThreadPoolExecutor(max_workers=len(self.layout.nodes)) as pool:
            for future in [pool.submit(action, n) for n in self.nodes()]:
                future.result()

    def exec(
        self, node: str, argv: list[str], *, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run argv inside a node, as its own root would (not over ssh)."""
        anchor = self.node(node).require_anchor()
        return processes.run(
            processes.enter(anchor, argv),
            check=check,
            timeout=timeout,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"},
        )

    def online_nodes(self, via: str | None = None) -> set[str]:
        """Nodes crm_mon reports online, asked on `via` (default: the first node that runs)."""
        for node in self.nodes():
            if via not in (None, node.spec.name) or not node.is_on():
                continue
            done = self.exec(
                node.spec.name,
                ["crm_mon", "--one-shot", "--output-as=xml"],
                check=False,
                timeout=15,
            )
            if done.returncode == 0:
                return _online(done.stdout.encode())
        return set()

    def wait_online(self, timeout: float, nodes: set[str] | None = None) -> None:
        wanted = nodes or {s.name for s in self.layout.nodes}
        deadline = time.monotonic() + timeout
        while not wanted <= self.online_nodes():
            if time.monotonic() > deadline:
                missing = ", ".join(sorted(wanted - self.online_nodes()))
                raise LabError(f"{missing} not online within {timeout:g} s\n" + self.log_tails())
            time.sleep(0.5)

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for node in self.nodes():
            for log in ("fs/var/log/corosync/corosync.log", "fs/var/log/pacemaker/pacemaker.log"):
                path = node.dir / log
                if path.exists():
                    tail = path.read_text(errors="replace").splitlines()[-lines:]
                    parts.append(f"--- {node.spec.name}: {log[3:]}\n" + "\n".join(tail))
        return "\n".join(parts)

    def load_seed(self) -> None:
        first = self.layout.nodes[0].name
        if self.layout.shell == "crmsh":
            self.layout.seed_file.write_text(seed.crmsh_seed(self.layout))
            load = ["crm", "-F", "configure", "load", "update", str(self.layout.seed_file)]
            self.exec(first, load)
        else:
            for argv in seed.seed_commands(self.layout):
                self.exec(first, argv)
        # the baseline a reset pushes back: Pacemaker's own tools, whichever the shell
        baseline = self.exec(first, ["cibadmin", "--query", "--scope", "configuration"]).stdout
        self.layout.baseline_cib.write_text(baseline)

    # -- down -----------------------------------------------------------------------------

    def down(self, say: Say, grace: float = 20) -> None:
        """Stop everything the lab started, by PID; remove namespaces and interfaces."""
        preflight.check_root()
        self.ready_file.unlink(missing_ok=True)
        if grace > 0:
            self._parallel(lambda n: n.stop_gracefully(grace) if n.anchor() else None)
        for node in self.nodes():
            forwarder.stop(node)
            node.kill_all()
            anchor = node.anchor()
            if anchor is not None:
                processes.kill([anchor])
                processes.wait_gone([anchor], 5)
            self._kill_netns_pids(node)
            for pid_file in (node.dir / "pids").glob("anchor.*"):
                pid_file.unlink()
            for pid_file in (node.dir / "pids").glob("*.pid"):
                pid_file.unlink()
        for spec in self.layout.nodes:
            if (Path("/run/netns") / spec.netns).exists():
                processes.run(["ip", "netns", "delete", spec.netns])
        self.layout.shell_file.unlink(missing_ok=True)  # the next `up` is pcs unless told
        say("lab down")

    def _kill_netns_pids(self, node: LabNode) -> None:
        """Anything else still in the node's network namespace (an `ip netns exec` shell)."""
        if not (Path("/run/netns") / node.spec.netns).exists():
            return
        listed = processes.run(["ip", "netns", "pids", node.spec.netns], check=False).stdout
        pids = [int(p) for p in listed.split() if p.isdigit()]
        processes.kill(pids)
        processes.wait_gone(pids, 5)

    def purge(self) -> None:
        shutil.rmtree(self.layout.root, ignore_errors=True)

    # -- power ----------------------------------------------------------------------------

    def crash(self, name: str) -> None:
        self.node(name).power_off()

    def boot(self, name: str) -> None:
        node = self.node(name)
        if node.is_on():
            raise LabError(f"{name} is already running")
        node.boot()

    def reset(self) -> None:
        """Back to the seed: power on any node that is off, stop every resource, give
        /dev/drbd1 its ext4 again, and push the baseline configuration."""
        for node in self.nodes():
            if not node.is_on():
                node.boot()
        self.wait_online(ONLINE_TIMEOUT_S)
        first = self.layout.nodes[0].name
        # With stonith-enabled and no device the scheduler does nothing, not even stop what
        # runs: let it stop everything first.
        for name, value in (("stop-all-resources", "true"), ("stonith-enabled", "false")):
            self.exec(first, [*PROPERTY, name, "--update", value])
        self._wait_all_stopped(first)
        if configs.filesystem_type(self.layout.drbd_image) != "ext4":
            configs.make_drbd_image(self.layout)
        baseline = ["--scope", "configuration", "--xml-file", str(self.layout.baseline_cib)]
        self.exec(first, ["cibadmin", "--replace", *baseline])
        self.exec(first, ["crm_resource", "--cleanup"])

    def _wait_all_stopped(self, via: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            xml = self.exec(via, ["crm_mon", "--one-shot", "--output-as=xml"], check=False).stdout
            if xml and not _active_resources(xml.encode()):
                return
            if time.monotonic() > deadline:
                raise LabError(f"resources still running {timeout:g} s after the reset")
            time.sleep(0.5)


def _active_resources(xml: bytes) -> list[str]:
    resources = etree.fromstring(xml).find("resources")
    if resources is None:
        return []
    return [r.get("id", "") for r in resources.iter("resource") if r.get("active") == "true"]


def _online(xml: bytes) -> set[str]:
    nodes = etree.fromstring(xml).find("nodes")
    if nodes is None:
        return set()
    return {n.get("name", "") for n in nodes.iter("node") if n.get("online") == "true"}
