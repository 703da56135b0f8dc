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

    @property
    def netns(self) -> str:
        return f"habot-{self.name}"

    @property
    def veth(self) -> str:
        return f"hb-{self.name}"

    @property
    def domain(self) -> str:
        return f"{DOMAIN_PREFIX}{self.name}"


@dataclass(frozen=True, slots=True)
class LabLayout:
    root: Path
    nodes: tuple[NodeSpec, ...]
    vip: str
    ssh_port: int

    @classmethod
    def default(cls) -> LabLayout:
        root = Path(os.environ.get("HABOT_LAB_DIR", str(DEFAULT_ROOT)))
        port = int(os.environ.get("HABOT_LAB_SSH_PORT", "22"))
        nodes = (
            NodeSpec("nodo1", 1, "10.1.1.101", "127.0.0.2"),
            NodeSpec("nodo2", 2, "10.1.1.102", "127.0.0.3"),
        )
        return cls(root=root, nodes=nodes, vip="10.1.1.100", ssh_port=port)

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
