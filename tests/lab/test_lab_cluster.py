"""The lab is a real Pacemaker cluster: the seed's cluster, its error, moves and fencing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from habot.lab.lab import Lab
from tests.lab.cluster import (
    configure_seed_fencing,
    crm_mon,
    resource_nodes,
    seed_running,
    ssh,
    wait_for,
)

pytestmark = pytest.mark.lab

SEED_RESOURCES = {
    "VirtualIP": "ocf:heartbeat:IPaddr2",
    "WebSite": "ocf:heartbeat:apache",
    "WebData": "ocf:linbit:drbd",
    "WebFS": "ocf:heartbeat:Filesystem",
}


def test_both_nodes_online_in_crm_mon_read_over_ssh(lab: Lab) -> None:
    for via in ("nodo1", "nodo2"):
        status = crm_mon(lab, via)
        online = {n.get("name") for n in status.find("nodes") if n.get("online") == "true"}
        assert online == {"nodo1", "nodo2"}
        assert status.find("summary/cluster_options").get("stonith-enabled") == "true"


def test_each_node_is_its_own_host(lab: Lab) -> None:
    names = {ssh(lab, node, "hostname").stdout.strip() for node in ("nodo1", "nodo2")}
    ids = {ssh(lab, node, "cat /etc/machine-id").stdout for node in ("nodo1", "nodo2")}
    assert names == {"nodo1", "nodo2"}
    assert len(ids) == 2
    banner = ssh(lab, "nodo1", "timeout 5 bash -c 'exec 3<>/dev/tcp/10.1.1.102/22; head -c 7 <&3'")
    assert banner.stdout == "SSH-2.0"  # nodo2's own sshd, across the lab network


def test_a_nodes_pkill_reaches_only_its_own_processes(lab: Lab) -> None:
    """As on two machines: apache's agent stops with `pkill -f "apache2.*<config>"`, which
    must not take the other node's apache with it (the nodes share one PID namespace)."""
    probe = ["sh", "-c", "sleep 3141 </dev/null >/dev/null 2>&1 &"]
    try:
        for node in ("nodo1", "nodo2"):
            lab.exec(node, probe)
        assert lab.exec("nodo1", ["pgrep", "-c", "-f", "^sleep 3141$"]).stdout.strip() == "1"
        lab.exec("nodo1", ["pkill", "-f", "^sleep 3141$"])
        wait_for(
            "nodo1's probe gone",
            lambda: lab.exec("nodo1", ["pgrep", "-f", "^sleep 3141$"], check=False).returncode == 1,
            10,
        )
        assert lab.exec("nodo2", ["pgrep", "-c", "-f", "^sleep 3141$"]).stdout.strip() == "1"
    finally:
        for node in ("nodo1", "nodo2"):
            lab.exec(node, ["pkill", "-f", "^sleep 3141$"], check=False)


def test_seed_resources_exist_with_seed_names(lab: Lab) -> None:
    lab.reset()
    status = crm_mon(lab, "nodo1")
    agents = {r.get("id"): r.get("resource_agent") for r in status.iter("resource")}
    for name, agent in SEED_RESOURCES.items():
        assert agents[name] == agent
    clone = next(c for c in status.iter("clone") if c.get("id") == "WebData-clone")
    assert clone.get("multi_state") == "true"
    constraints = ssh(lab, "nodo1", "pcs constraint").stdout
    assert "WebSite with VirtualIP (score:INFINITY)" in constraints
    assert (
        "WebFS with WebData-clone (score:INFINITY) (rsc-role:Started) (with-rsc-role:Promoted)"
        in constraints
    )
    assert "promote WebData-clone then start WebFS" in constraints


def test_missing_stonith_error_is_logged_by_the_dc(lab: Lab) -> None:
    lab.reset()
    dc = crm_mon(lab, "nodo1").find("summary/current_dc").get("name")
    log = ssh(lab, dc, "cat /var/log/pacemaker/pacemaker.log").stdout
    assert "error: Resource start-up disabled since no STONITH resources have been defined" in log
    journal = ssh(lab, dc, "journalctl -o json --no-pager SYSLOG_IDENTIFIER=pacemaker-schedulerd")
    messages = [json.loads(line)["MESSAGE"] for line in journal.stdout.splitlines()]
    assert "error: Either configure some or disable STONITH with the stonith-enabled option" in [
        m.strip() for m in messages
    ]


def test_move_virtual_ip_and_the_site_answers_on_it(lab: Lab) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite") != [])
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    ssh(lab, "nodo1", f"pcs resource move VirtualIP {target}")
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
    addresses = ssh(lab, target, "ip -4 -o addr show dev eth0").stdout
    assert f" {lab.layout.vip}/24 " in addresses
    wait_for(
        "WebSite on the target",
        lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite") == [target],
    )
    page = ssh(lab, source, f"curl -sf --max-time 5 http://{lab.layout.vip}/").stdout
    assert "WebFS (ext4 on /dev/drbd1)" in page
    assert "cli-prefer" not in ssh(lab, "nodo1", "cibadmin --query --scope constraints").stdout


def test_crash_fails_over_and_fencing_restarts_the_node(lab: Lab) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    victim = seed_running(lab)
    survivor = "nodo2" if victim == "nodo1" else "nodo1"
    fence_log_before = read_text(lab.layout.fence_log)
    lab.crash(victim)
    wait_for(
        "VirtualIP on the survivor",
        lambda: resource_nodes(crm_mon(lab, survivor), "VirtualIP") == [survivor],
        timeout=60,
    )
    wait_for(f"{victim} back online", lambda: victim in lab.online_nodes(via=survivor), 90)
    fenced = read_text(lab.layout.fence_log)[len(fence_log_before) :]
    assert f"virsh start 06-HA-IPFailover-Apache2DRBDGFS2_{victim}" in fenced
    history = ssh(lab, survivor, f"stonith_admin --history {victim}").stdout
    assert "reboot of" in history
    assert "successful" in history


def read_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
