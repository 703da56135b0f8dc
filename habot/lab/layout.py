"""Where the lab keeps everything, and the fixed shape of its two nodes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/var/lib/habot-lab")
CLUSTER_NAME = "mycluster"
NETWORK_PREFIX = 24
# The seed's libvirt domain names, so its exact `pcs stonith create` works against the lab.
DOMAIN_PREFIX = "06-HA-IPFailover-Apache2DRBDGFS2_"
HYPERVISOR_URI = "qemu+ssh://192.168.121.1/system"
DRBD_DEVICE = "/dev/drbd1"


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    nodeid: int
    address: str
    ssh_host: str
    lab: int = 0  # which lab of this machine (several run side by side: the tests' lanes)

    @property
    def netns(self) -> str:
        return f"habot-{self.name}" if not self.lab else f"habot{self.lab}-{self.name}"

    @property
    def veth(self) -> str:
        return f"hb-{self.name}" if not self.lab else f"hb{self.lab}-{self.name}"

    @property
    def domain(self) -> str:
        return f"{DOMAIN_PREFIX}{self.name}"


SHELLS = ("pcs", "crmsh")


@dataclass(frozen=True, slots=True)
class LabLayout:
    root: Path
    nodes: tuple[NodeSpec, ...]
    vip: str
    ssh_port: int
    shell: str = "pcs"  # the nodes' cluster shell: pcs, or crmsh (no pcs on the nodes)

    @classmethod
    def default(cls) -> LabLayout:
        """The lab of HABOT_LAB_DIR (/var/lib/habot-lab). Several labs may run side by side,
        each in a directory of its own with its number (HABOT_LAB_ID, kept in the directory
        once the lab is up): their namespaces and host addresses are their own (lab 0:
        habot-nodo1 on 127.0.0.2; lab 1: habot1-nodo1 on 127.0.1.2), the rest is the same."""
        root = Path(os.environ.get("HABOT_LAB_DIR", str(DEFAULT_ROOT)))
        return cls.numbered(root, lab_id(root), lab_shell(root))

    @classmethod
    def numbered(cls, root: Path, lab: int, shell: str = "pcs") -> LabLayout:
        """Lab number `lab` in `root`, its nodes speaking `shell`."""
        port = int(os.environ.get("HABOT_LAB_SSH_PORT", "22"))
        nodes = (
            NodeSpec("nodo1", 1, "10.1.1.101", f"127.0.{lab}.2", lab),
            NodeSpec("nodo2", 2, "10.1.1.102", f"127.0.{lab}.3", lab),
        )
        return cls(root=root, nodes=nodes, vip="10.1.1.100", ssh_port=port, shell=shell)

    @property
    def lab(self) -> int:
        return self.nodes[0].lab

    def node(self, name: str) -> NodeSpec:
        for spec in self.nodes:
            if spec.name == name:
                return spec
        known = ", ".join(n.name for n in self.nodes)
        raise KeyError(f"no lab node {name!r} (the lab has {known})")

    def node_for_domain(self, domain: str) -> NodeSpec | None:
        return next((n for n in self.nodes if domain in (n.domain, n.name)), None)

    def node_dir(self, name: str) -> Path:
        return self.root / "nodes" / name

    @property
    def id_file(self) -> Path:
        return self.root / "lab-id"

    @property
    def shell_file(self) -> Path:
        """The shell the lab was brought up with (`habot lab up --shell`), kept beside it."""
        return self.root / "shell"

    @property
    def seed_file(self) -> Path:
        return self.root / "seed.crm"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def authorized_keys_dir(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def shared_dir(self) -> Path:
        return self.root / "shared"

    @property
    def drbd_image(self) -> Path:
        return self.shared_dir / "drbd1.img"

    @property
    def volumes_dir(self) -> Path:
        """Content a "mounted" WebFS shows, one directory per filesystem type."""
        return self.shared_dir / "volumes"

    @property
    def config_file(self) -> Path:
        return self.root / "habot.yaml"

    @property
    def baseline_cib(self) -> Path:
        return self.root / "baseline-cib.xml"

    @property
    def fence_log(self) -> Path:
        return self.root / "fence.log"


def lab_id(root: Path) -> int:
    """HABOT_LAB_ID, else the number kept in the lab's directory, else 0."""
    given = os.environ.get("HABOT_LAB_ID") or _kept(root / "lab-id")
    if not given:
        return 0
    if not given.isdigit() or not 0 <= int(given) <= 250:
        raise ValueError(f"HABOT_LAB_ID must be a number from 0 to 250, not {given!r}")
    return int(given)


def _kept(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def lab_shell(root: Path) -> str:
    """The shell kept in the lab's directory (`habot lab up --shell`), else pcs."""
    kept = _kept(root / "shell")
    return kept if kept in SHELLS else "pcs"
