"""Findings with their fixes, from real captures (pure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from habot.cluster.constraints import parse_constraints
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.health import Severity, assess, overall
from habot.cluster.model import ClusterStatus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crm_mon"


def status(name: str) -> ClusterStatus:
    return parse_crm_mon((FIXTURES / name).read_bytes())


def codes(st: ClusterStatus) -> set[str]:
    return {f.code for f in assess(st)}


def test_healthy_demo_has_no_findings() -> None:
    assert assess(status("crm_mon_2node_demo.xml")) == ()
    assert overall(status("crm_mon_2node_demo.xml")) is None


def test_no_stonith_device_blocks_resources() -> None:
    st = status("lab_seed_no_stonith.xml")  # the seed's starting cluster, in the lab
    found = {f.code: f for f in assess(st)}
    assert set(found) == {"no-stonith-device", "resources-blocked-by-stonith"}
    assert (
        "VirtualIP, WebSite, WebData-clone, WebFS stopped"
        in found["resources-blocked-by-stonith"].message
    )
    assert found["no-stonith-device"].severity is Severity.CRITICAL
    assert "stonith-libvirt" in found["no-stonith-device"].fix


def test_stonith_disabled_is_a_warning() -> None:
    st = status("crm_mon_2node_demo.xml")
    st = replace(st, summary=replace(st.summary, stonith_enabled=False))
    assert codes(st) == {"stonith-disabled"}
    assert overall(st) is Severity.WARNING


def test_failed_action_names_resource_and_cleanup() -> None:
    (finding,) = [
        f for f in assess(status("crm_mon_2node_failed_action.xml")) if f.code == "failed-action"
    ]
    assert finding.message == "flaky start on nodo1 failed: error"
    assert "pcs resource cleanup flaky" in finding.fix


def test_unclean_node_and_pending_fencing() -> None:
    found = codes(status("crm_mon_2node_nodo2_unclean_fencing_pending.xml"))
    assert {"node-unclean", "fencing-pending"} <= found


def test_no_quorum_and_leftover_move_constraint() -> None:
    st = status("crm_mon_2node_demo.xml")
    st = replace(st, summary=replace(st.summary, with_quorum=False))
    st = replace(
        st,
        constraints=parse_constraints(
            b'<constraints><rsc_location id="cli-prefer-VirtualIP" rsc="VirtualIP" node="nodo2" '
            b'score="INFINITY"/></constraints>'
        ),
    )
    found = {f.code: f for f in assess(st)}
    assert found["no-quorum"].severity is Severity.CRITICAL
    assert (
        found["move-constraint-left"].fix == "`pcs resource clear VirtualIP` once the move is done."
    )


def test_a_fix_names_its_command_in_the_clusters_shell() -> None:
    """On a node with crmsh and no pcs the fixes say crm's commands; with pcs (alone or beside
    crmsh), or when the node did not say, pcs's."""
    seed = status("lab_seed_no_stonith.xml")
    failed = status("crm_mon_2node_failed_action.xml")
    for shells, word in ((("crm",), "crm"), (("pcs", "crm"), "pcs"), (None, "pcs"), ((), "pcs")):
        for st in (seed, failed):
            fixes = " ".join(f.fix for f in assess(replace(st, shells=shells)))
            other = "crm " if word == "pcs" else "pcs "
            assert f"`{word} " in fixes, (shells, fixes)
            assert f"`{other}" not in fixes, (shells, fixes)
    crm = {f.code: f.fix for f in assess(replace(seed, shells=("crm",)))}
    assert "`crm configure property stonith-enabled=true`" in crm["no-stonith-device"]
