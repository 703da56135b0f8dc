"""`/ha why` on the lab: the right main reason, read live through the node user, for each
thing that keeps a resource from running where one would expect — and its fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.service.clusters import ClusterHandle, Ops
from habot.ssh.asyncssh_transport import AsyncsshTransport
from tests.lab.cluster import (
    configure_seed_fencing,
    crm_mon,
    resource_nodes,
    seed_running,
    wait_for,
)

pytestmark = pytest.mark.lab


@pytest.fixture
async def ops(lab_config: HabotConfig) -> AsyncIterator[Ops]:
    cluster = lab_config.clusters["mycluster"]
    transport = AsyncsshTransport(client_key=cluster.ssh_key, known_hosts=cluster.known_hosts)
    yield Ops({"mycluster": ClusterHandle("mycluster", cluster, transport)})
    await transport.close()


def pcs(lab: Lab, *args: str) -> None:
    lab.exec("nodo1", ["pcs", *args], timeout=120)


def fenced(lab: Lab) -> str:
    """The seed with fencing: everything runs; the node VirtualIP runs on."""
    lab.reset()
    configure_seed_fencing(lab)
    return seed_running(lab)


async def main_reason(ops: Ops, resource: str) -> tuple[str, str]:
    report = await ops.why(None, resource)
    assert report.why.reasons, report
    first = report.why.reasons[0]
    return first.text, first.fix


async def test_no_fencing(lab: Lab, ops: Ops) -> None:
    lab.reset()  # the seed: stonith-enabled, no device
    text, fix = await main_reason(ops, "WebSite")
    assert "no fencing device is configured" in text
    assert fix == "/ha runbook stonith-libvirt"


async def test_banned_disabled_unmanaged_and_colocated(lab: Lab, ops: Ops) -> None:
    node = fenced(lab)
    try:
        pcs(lab, "resource", "ban", "VirtualIP", node)
        wait_for("moved away", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") != [node])
        text, fix = await main_reason(ops, "VirtualIP")
        assert f"banned from {node} by cli-ban-VirtualIP-on-{node}" in text
        assert fix == f"/ha clear VirtualIP {node}"
        scores = dict((await ops.why(None, "VirtualIP")).why.scores)
        assert scores.get(node) == -1_000_000  # crm_simulate -Ls says so too
        pcs(lab, "resource", "clear", "VirtualIP")

        pcs(lab, "resource", "disable", "VirtualIP")
        wait_for("stopped", lambda: not resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP"))
        assert (await main_reason(ops, "VirtualIP"))[1] == "/ha runbook enable resource=VirtualIP"
        # WebSite is colocated with VirtualIP, which runs nowhere now
        text, fix = await main_reason(ops, "WebSite")
        assert "colocated with VirtualIP, which runs nowhere" in text
        assert fix == "/ha why VirtualIP"
        pcs(lab, "resource", "enable", "VirtualIP")

        pcs(lab, "resource", "unmanage", "WebSite")
        text, fix = await main_reason(ops, "WebSite")
        assert "unmanaged" in text
        assert fix == "/ha runbook manage resource=WebSite"
    finally:
        pcs(lab, "resource", "manage", "WebSite")
        pcs(lab, "resource", "enable", "VirtualIP")
        pcs(lab, "resource", "clear", "VirtualIP")


async def test_fail_count_at_migration_threshold_and_standby(lab: Lab, ops: Ops) -> None:
    node = fenced(lab)
    try:
        pcs(lab, "resource", "meta", "VirtualIP", "migration-threshold=1")
        lab.exec(node, ["crm_resource", "--fail", "--resource", "VirtualIP", "--node", node])
        wait_for("moved away", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") != [node])
        text, fix = await main_reason(ops, "VirtualIP")
        assert f"failures on {node}, at its migration-threshold (1)" in text
        assert fix == f"/ha cleanup VirtualIP {node}"
        pcs(lab, "resource", "cleanup", "VirtualIP")
        pcs(lab, "resource", "meta", "VirtualIP", "migration-threshold=")

        other = "nodo2" if node == "nodo1" else "nodo1"
        pcs(lab, "node", "standby", other)
        text, fix = await main_reason(ops, "VirtualIP")
        assert text == f"node {other} is standby"
        assert fix == f"/ha runbook unstandby node={other}"
    finally:
        for name in ("nodo1", "nodo2"):
            pcs(lab, "node", "unstandby", name)
        pcs(lab, "resource", "meta", "VirtualIP", "migration-threshold=")
        pcs(lab, "resource", "cleanup", "VirtualIP")


async def test_whatif_a_node_fails_or_goes_to_standby(lab: Lab, ops: Ops) -> None:
    """Checked before maintenance: what moves where, nothing changed for real."""
    node = fenced(lab)
    other = "nodo2" if node == "nodo1" else "nodo1"
    before = crm_mon(lab, "nodo1")
    for event in ("node-fail", "standby"):
        report = await ops.whatif(None, event, node)
        moved = {a.resource: a for a in report.actions}
        assert "VirtualIP" in moved, report
        assert moved["VirtualIP"].target == other
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [node]  # nothing happened
    assert resource_nodes(before, "VirtualIP") == [node]
