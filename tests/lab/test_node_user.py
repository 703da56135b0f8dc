"""Least privilege, on the lab's real sshd and sudo: habot logs in as `habot`, never root; what
the runbooks run passes the node's sudoers (every runbook test on the lab runs this way), and a
command outside them is refused by the node itself, not only by habot."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from habot.cluster.live import read_status
from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.ssh.transport import NodeAddress

pytestmark = pytest.mark.lab


@pytest.fixture
def nodo1(lab_config: HabotConfig) -> NodeAddress:
    return lab_config.clusters["mycluster"].nodes[0].address()


def resources(lab: Lab) -> str:
    return lab.exec("nodo1", ["cibadmin", "--query", "--scope", "resources"]).stdout


def test_the_lab_config_logs_in_as_habot_and_root_cannot_log_in(
    lab: Lab, lab_config: HabotConfig
) -> None:
    nodes = lab_config.clusters["mycluster"].nodes
    assert {n.address().runs_as for n in nodes} == {"habot via sudo"}
    config = str(lab.layout.ssh_dir / "ssh_config")
    refused = subprocess.run(
        ["ssh", "-F", config, "-o", "BatchMode=yes", "-l", "root", "nodo1", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 255
    assert "Permission denied" in refused.stderr


async def test_the_status_read_passes_the_nodes_sudoers(
    transport: AsyncsshTransport, lab_config: HabotConfig
) -> None:
    nodes = [n.address() for n in lab_config.clusters["mycluster"].nodes]
    live = await read_status(transport, "mycluster", nodes, timeout=30)
    assert {n.name for n in live.status.nodes} == {"nodo1", "nodo2"}
    assert live.status.cluster_name == "mycluster"


@pytest.mark.parametrize(
    "argv",
    [
        ("pcs", "resource", "delete", "VirtualIP"),
        ("pcs", "resource", "move", "VirtualIP", "nodo2", "--force"),
        ("pcs", "property", "set", "stonith-enabled=false"),
        ("cibadmin", "--delete", "--xml-text", "<primitive id='VirtualIP'/>"),
        ("sh", "-c", "id"),
    ],
    ids=lambda a: " ".join(a)[:40],
)
async def test_a_command_outside_the_runbooks_is_refused_by_the_node(
    lab: Lab, transport: AsyncsshTransport, nodo1: NodeAddress, argv: tuple[str, ...]
) -> None:
    before = resources(lab)
    result = await transport.run(nodo1, argv, timeout=30)
    assert result.exit_status == 1
    assert "the node refused it: sudo on nodo1 does not allow habot to run" in result.stderr_text
    assert "habot sudoers" in result.stderr_text
    assert resources(lab) == before


async def test_without_sudo_the_node_user_cannot_touch_the_cluster(
    lab: Lab, transport: AsyncsshTransport, nodo1: NodeAddress
) -> None:
    direct = replace(nodo1, sudo=False)
    before = resources(lab)
    deleted = await transport.run(
        direct,
        ["/usr/sbin/cibadmin", "--delete", "--xml-text", "<primitive id='VirtualIP'/>"],
        timeout=30,
    )
    assert deleted.exit_status != 0
    read = await transport.run(direct, ["/usr/sbin/crm_mon", "--one-shot"], timeout=30)
    assert read.exit_status != 0
    whoami = await transport.run(direct, ["id", "-un"], timeout=30)
    assert whoami.stdout_text.strip() == "habot"
    assert resources(lab) == before
