"""The crm_mon parser over real captures (Pacemaker 2.1.5) and the legacy format."""

from __future__ import annotations

from pathlib import Path

import pytest

from habot.cluster.constraints import parse_constraints
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.model import INFINITY, NodeState, ResourceKind, Role
from habot.errors import StatusParseError

FIXTURES = Path(__file__).parents[1] / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / "crm_mon" / name).read_bytes()


DOCUMENTS = sorted(p.name for p in (FIXTURES / "crm_mon").glob("*.xml") if "rc102" not in p.name)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_fixture_parses_with_consistent_counts(name: str) -> None:
    status = parse_crm_mon(load(name))
    assert len(status.nodes) == status.summary.nodes_configured
    assert all(i.id and ":" not in i.id for r in status.resources for i in r.instances)


def test_two_node_demo() -> None:
    status = parse_crm_mon(load("crm_mon_2node_demo.xml"))
    assert status.summary.dc == "nodo1"
    assert status.summary.with_quorum
    assert [(n.name, n.state) for n in status.nodes] == [
        ("nodo1", NodeState.ONLINE),
        ("nodo2", NodeState.ONLINE),
    ]
    kinds = {r.id: r.kind for r in status.resources}
    assert kinds["grupo-app"] is ResourceKind.GROUP
    assert kinds["db-stateful-clone"] is ResourceKind.CLONE
    assert kinds["VirtualIP"] is ResourceKind.PRIMITIVE
    db = status.resource("db-stateful")
    assert db is not None
    assert db.id == "db-stateful-clone"
    assert db.promotable
    assert len(db.nodes_in_role(Role.PROMOTED)) == 1
    assert len(db.nodes_in_role(Role.UNPROMOTED)) == 1
    assert {r.id for r in status.fencing_resources} == {"fence-nodo1", "fence-nodo2"}
    group = status.resource("grupo-app")
    assert group is not None
    assert group.primitive_ids == ("app-fs", "app-svc")


def test_failed_action_and_infinity_fail_count() -> None:
    status = parse_crm_mon(load("crm_mon_2node_failed_action.xml"))
    (failure,) = status.failed_actions
    assert (failure.resource, failure.operation, failure.node) == ("flaky", "start", "nodo1")
    assert failure.exit_status == "error"
    assert failure.exit_code == 1
    assert any(c.resource == "flaky" and c.count == INFINITY for c in status.fail_counts)


def test_dlm_not_installed_on_both_nodes() -> None:
    status = parse_crm_mon(load("crm_mon_2node_dlm_failed.xml"))
    assert {(f.resource, f.node, f.exit_status) for f in status.failed_actions} == {
        ("dlm", "nodo1", "not installed"),
        ("dlm", "nodo2", "not installed"),
    }
    locking = status.resource("dlm")
    assert locking is not None
    assert locking.nodes_in_role(Role.STARTED) == ()


def test_unclean_node_and_pending_fencing() -> None:
    status = parse_crm_mon(load("crm_mon_2node_nodo2_unclean_fencing_pending.xml"))
    nodo2 = status.node("nodo2")
    assert nodo2 is not None
    assert nodo2.state is NodeState.UNCLEAN
    (event,) = status.fence_events
    assert (event.action, event.target, event.status) == ("reboot", "nodo2", "pending")


def test_empty_one_node_cluster() -> None:
    status = parse_crm_mon(load("crm_mon_1node_empty.xml"))
    assert status.resources == ()
    assert status.summary.stonith_enabled


def test_legacy_root_master_slave_and_suffixes() -> None:
    status = parse_crm_mon(load("crm_mon_legacy_1.1_master_slave.xml"))
    drbd = status.resource("WebData-clone")
    assert drbd is not None
    assert drbd.primitive_ids == ("WebData",)
    assert drbd.nodes_in_role(Role.PROMOTED) == ("nodo1",)
    assert drbd.nodes_in_role(Role.UNPROMOTED) == ("nodo2",)
    assert drbd.instances[0].agent == "ocf:linbit:drbd"
    nodo2 = status.node("nodo2")
    assert nodo2 is not None
    assert nodo2.state is NodeState.STANDBY
    (failure,) = status.failed_actions
    assert failure.resource == "WebSite"
    assert failure.exit_reason == "Failed to access httpd status page."
    assert status.fail_counts[0].count == INFINITY


def test_rc_102_document_is_a_clear_error() -> None:
    with pytest.raises(StatusParseError, match="crm_mon reported error 102: Not connected"):
        parse_crm_mon(load("crm_mon_rc102_not_connected.xml"))


def test_pcs_status_xml_is_the_same_document() -> None:
    assert (
        parse_crm_mon(load("pcs_status_xml_2node_demo.xml")).nodes
        == parse_crm_mon(load("crm_mon_2node_demo.xml")).nodes
    )


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"", "empty output"),
        (b"Could not connect to the CIB: Transport endpoint is not connected", "not XML"),
        (b"<html><body>502</body></html>", "unexpected XML root <html>"),
        (
            b'<pacemaker-result api-version="2.25"><status code="102" message="Not connected">'
            b"<errors><error>crm_mon: Connection to cluster failed</error></errors></status>"
            b"</pacemaker-result>",
            "crm_mon reported error 102: Not connected",
        ),
        (b"<pacemaker-result/>", "no <summary>"),
    ],
)
def test_bad_input_is_a_clear_error(xml: bytes, message: str) -> None:
    with pytest.raises(StatusParseError, match=message):
        parse_crm_mon(xml)


def test_a_whole_cib_without_location_constraints() -> None:
    cib = (FIXTURES / "cib" / "cib_2node_demo.xml").read_bytes()
    assert parse_constraints(cib) == ()


def test_rule_based_location() -> None:
    xml = (
        b'<constraints><rsc_location id="loc-web" rsc="WebSite"><rule id="r" score="-INFINITY">'
        b'<expression id="e" attribute="#uname" operation="eq" value="nodo2"/></rule>'
        b"</rsc_location></constraints>"
    )
    (loc,) = parse_constraints(xml)
    assert (loc.resource, loc.node, loc.score, loc.is_move_leftover) == (
        "WebSite",
        "nodo2",
        -INFINITY,
        False,
    )


def test_move_leftovers_are_recognised() -> None:
    xml = (
        b'<constraints><rsc_location id="cli-prefer-VirtualIP" rsc="VirtualIP" role="Started"'
        b' node="nodo2" score="INFINITY"/><rsc_location id="cli-ban-WebSite-on-nodo1" '
        b'rsc="WebSite" role="Started" node="nodo1" score="-INFINITY"/></constraints>'
    )
    leftovers = [
        (c.resource, c.node, c.score) for c in parse_constraints(xml) if c.is_move_leftover
    ]
    assert leftovers == [("VirtualIP", "nodo2", INFINITY), ("WebSite", "nodo1", -INFINITY)]
