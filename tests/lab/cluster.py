"""Talking to the lab as an operator would: the real OpenSSH client and the seed's commands."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lxml import etree

from habot.lab.lab import Lab

SEED_HOSTLIST = (
    "nodo1:06-HA-IPFailover-Apache2DRBDGFS2_nodo1,nodo2:06-HA-IPFailover-Apache2DRBDGFS2_nodo2"
)
SEED_URI = "qemu+ssh://192.168.121.1/system"


def ssh(
    lab: Lab,
    node: str,
    command: str,
    *,
    check: bool = True,
    timeout: float = 120,
    user: str = "admin",
) -> subprocess.CompletedProcess[str]:
    """`command` over ssh as the lab's operator, through sudo (root cannot log in); with
    `user="habot"`, as habot itself and without sudo."""
    config = str(lab.layout.ssh_dir / "ssh_config")
    remote = f"sudo -n sh -c {shlex.quote(command)}" if user == "admin" else command
    done = subprocess.run(
        ["ssh", "-F", config, "-o", "BatchMode=yes", "-l", user, node, remote],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"ssh {node} {command!r} -> {done.returncode}: {done.stderr}")
    return done


def crm_mon(lab: Lab, node: str) -> etree._Element:
    out = ssh(lab, node, "crm_mon --one-shot --inactive --output-as=xml").stdout
    return etree.fromstring(out.encode())


def configure_seed_fencing(lab: Lab, node: str = "nodo1") -> None:
    """The seed's step 1, verbatim: external/libvirt through a shadow CIB."""
    ssh(
        lab,
        node,
        "pcs cluster cib stonith_cfg && "
        "pcs -f stonith_cfg stonith create fencing-libvirt external/libvirt "
        f"hostlist='{SEED_HOSTLIST}' hypervisor_uri='{SEED_URI}' && "
        "pcs -f stonith_cfg property set stonith-enabled=true && "
        "pcs cluster cib-push stonith_cfg --config",
    )


def resource_nodes(status: etree._Element, resource_id: str) -> list[str]:
    return [
        n.get("name", "")
        for r in status.iter("resource")
        if r.get("id") == resource_id and r.get("role") in ("Started", "Promoted", "Master")
        for n in r.iter("node")
    ]


def seed_running(lab: Lab, timeout: float = 120) -> str:
    """Wait until the seed's stack runs together — WebSite started, so VirtualIP and WebFS
    are on its node — and return that node. VirtualIP alone is not enough: it may start on
    one node while DRBD is promoted on the other, and a move made then can leave WebSite
    with its two primaries apart (running nowhere)."""

    def together() -> bool:
        status = crm_mon(lab, "nodo1")
        site = resource_nodes(status, "WebSite")
        return bool(site) and resource_nodes(status, "VirtualIP") == site == (
            resource_nodes(status, "WebFS")
        )

    wait_for("the seed's stack running together", together, timeout)
    return resource_nodes(crm_mon(lab, "nodo1"), "WebSite")[0]


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)


@contextmanager
def node_rules(lab: Lab, text: str) -> Iterator[None]:
    """Every node's habot-node rules (each node has its own) replaced for as long as the
    block runs: what an operator installs after `habot node-files` for a new config."""
    paths = [lab.layout.node_dir(s.name) / "fs/libexec-habot/rules.json" for s in lab.layout.nodes]
    saved = [path.read_text() for path in paths]
    for path in paths:
        path.write_text(text)
    try:
        yield
    finally:
        for path, before in zip(paths, saved, strict=True):
            path.write_text(before)
