"""Planning against a real status capture (pure): parameters, preconditions, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.model import ClusterStatus, ResourceKind, Role
from habot.runbooks.loader import load_all
from habot.runbooks.model import Runbook
from habot.runbooks.plan import PlanError, make_plan

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crm_mon"
RUNBOOKS = load_all()
DEMO = parse_crm_mon((FIXTURES / "lab_seed_fenced.xml").read_bytes())  # the seed, fenced
SEED = parse_crm_mon((FIXTURES / "lab_seed_no_stonith.xml").read_bytes())
KNOWN = (
    {n.name for n in DEMO.nodes}
    | {r.id for r in DEMO.resources}
    | {p for r in DEMO.resources for p in r.primitive_ids}
)
ECHO = Runbook.model_validate(
    {
        "name": "echo",
        "summary": "s",
        "approval": "none",
        "parameters": {"word": {"type": "string", "pattern": ".*"}},
        "steps": [{"name": "say", "run": ["printf", "%s", "{{ word }}"]}],
    }
)


def plan(name: str, status: ClusterStatus = DEMO, **params: str) -> object:
    return make_plan(RUNBOOKS[name], params, status, cluster="mycluster")


def test_failover_plan_renders_argv_and_preview() -> None:
    p = make_plan(
        RUNBOOKS["failover"], {"resource": "VirtualIP", "node": "nodo2"}, DEMO, cluster="mycluster"
    )
    assert p.steps[0].argv == ("pcs", "resource", "move", "VirtualIP", "nodo2")
    assert p.preview_edits == (("resource", "move-with-constraint", "VirtualIP", "nodo2"),)
    assert p.approvals_needed == 1


def test_gfs2_lock_table_and_journals_come_from_the_cluster() -> None:
    p = make_plan(RUNBOOKS["gfs2-activate"], {}, DEMO, cluster="fallback")
    mkfs = next(s for s in p.steps if s.argv[:1] == ("mkfs.gfs2",))
    assert mkfs.argv == (
        "mkfs.gfs2",
        "-O",
        "-p",
        "lock_dlm",
        "-j",
        "2",
        "-t",
        "fallback:web",
        "/dev/drbd1",
    )


def test_preconditions_refuse_with_reasons() -> None:
    with pytest.raises(PlanError) as caught:
        make_plan(RUNBOOKS["gfs2-activate"], {}, SEED, cluster="mycluster")
    assert caught.value.reasons == ("precondition: no fencing device is configured",)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"resource": "VirtualIP"}, "missing parameter `node` (node)"),
        ({"resource": "VirtualIP", "node": "nodo2", "force": "yes"}, "unknown parameter `force`"),
        ({"resource": "-rf", "node": "nodo2"}, "`resource`: '-rf' is not a valid value"),
        ({"resource": "VirtualIP", "node": "nodo3"}, "no node `nodo3` in the cluster"),
    ],
)
def test_bad_parameters(params: dict[str, str], reason: str) -> None:
    with pytest.raises(PlanError) as caught:
        make_plan(RUNBOOKS["failover"], params, DEMO, cluster="mycluster")
    assert any(reason in r for r in caught.value.reasons)


@given(value=st.text(max_size=300))
def test_hostile_names_are_refused_unless_known(value: str) -> None:
    try:
        p = make_plan(
            RUNBOOKS["failover"], {"resource": value, "node": "nodo2"}, DEMO, cluster="mycluster"
        )
    except PlanError:
        assert value not in KNOWN or value.startswith("-")
        return
    assert value in KNOWN
    assert p.steps[0].argv == ("pcs", "resource", "move", value, "nodo2")


@given(value=st.text(max_size=200).filter(lambda v: v.isprintable() and not v.startswith("-")))
def test_a_value_is_always_exactly_one_argv_element(value: str) -> None:
    p = make_plan(ECHO, {"word": value}, DEMO, cluster="mycluster")
    assert p.steps[0].argv == ("printf", "%s", value)


@pytest.mark.parametrize(
    "value", ["a; rm -rf /", "$(reboot)", "`id`", "x\ny", "{{ 7*7 }}", "{% for x in y %}", "ñandú"]
)
def test_templates_in_values_are_not_rendered(value: str) -> None:
    if not value.isprintable():
        with pytest.raises(PlanError):
            make_plan(ECHO, {"word": value}, DEMO, cluster="mycluster")
        return
    p = make_plan(ECHO, {"word": value}, DEMO, cluster="mycluster")
    assert p.steps[0].argv[2] == value


def test_the_colocation_predicate_skips_a_step_already_done() -> None:
    from habot.cluster.constraints import with_constraints
    from habot.cluster.predicates import Predicate, check

    xml = (
        b'<constraints><rsc_colocation id="colocation-WebSite-clone-VirtualIP-INFINITY" '
        b'rsc="WebSite-clone" with-rsc="VirtualIP" score="INFINITY"/></constraints>'
    )
    tied = with_constraints(DEMO, xml)
    untied = with_constraints(DEMO, b"<constraints/>")
    predicate = Predicate.model_validate(
        {"no_colocation": {"resource": "WebSite-clone", "with_resource": "VirtualIP"}}
    )
    assert check(predicate, tied) == "colocation colocation-WebSite-clone-VirtualIP-INFINITY exists"
    assert check(predicate, untied) is None


@pytest.mark.parametrize(
    "device",
    [
        "/dev/../etc/shadow",
        "/dev/./drbd1",
        "/etc/shadow",
        "/dev/",
        "/dev//x",
        "/dev/..",
        "/dev/sda",  # not a DRBD device: the nodes' sudoers would refuse it too
        "/dev/mapper/vg-web",
        "/dev/drbd/by-res/../../sda/0",
    ],
)
def test_gfs2_device_must_be_a_drbd_device(device: str) -> None:
    with pytest.raises(PlanError, match="does not match"):
        plan("gfs2-activate", DEMO, device=device)


@pytest.mark.parametrize("device", ["/dev/drbd1", "/dev/drbd/by-res/web/0", "/dev/drbd12"])
def test_gfs2_drbd_device_is_taken(device: str) -> None:
    p = plan("gfs2-activate", DEMO, device=device)
    assert device in [a for s in p.steps for a in s.argv]  # type: ignore[attr-defined]


def test_rolling_maintenance_repeats_for_each_node_then_fails_back_what_ran_on_one_node() -> None:
    p = make_plan(RUNBOOKS["rolling-maintenance"], {}, DEMO, cluster="mycluster")
    names = [s.name for s in p.steps]
    assert names[:5] == [
        "nodo1: standby",
        "nodo1: nothing runs there",
        "nodo1: patch it",
        "nodo1: unstandby",
        "nodo1: settled, nothing failed",
    ]
    assert names[5:10] == [n.replace("nodo1", "nodo2") for n in names[:5]]
    assert p.steps[0].argv == ("pcs", "node", "standby", "nodo1")
    assert p.steps[8].argv == ("pcs", "node", "unstandby", "nodo2")
    assert p.steps[2].kind == "pause"
    assert p.steps[2].text.startswith("nodo1 runs nothing now")
    # fail back: the primitives placed on one node (not the clone, not the fencing device)
    homes = {
        r.id: r.nodes_in_role(Role.STARTED)[0]
        for r in DEMO.resources
        if r.kind is ResourceKind.PRIMITIVE and not r.is_fencing
    }
    assert set(homes) == {"VirtualIP", "WebSite", "WebFS"}
    moves = [s for s in p.steps[10:] if s.argv[:3] == ("pcs", "resource", "move")]
    assert {(s.argv[3], s.argv[4]) for s in moves} == set(homes.items())
    assert all(s.unless for s in moves)  # skipped when it already runs there
    assert [s.argv for s in p.rollback if s.argv[:2] == ("pcs", "node")] == [
        ("pcs", "node", "unstandby", "nodo1"),
        ("pcs", "node", "unstandby", "nodo2"),
    ]
    assert p.preview_edits == (("node", "standby", "nodo1"),)


def test_a_loop_name_taken_by_a_parameter_and_a_nested_loop_are_refused() -> None:
    group = {"name": "g", "for_each": "nodes", "steps": [{"name": "s", "run": ["true"]}]}
    base = {"name": "loop", "summary": "s", "steps": [group]}
    Runbook.model_validate(base)
    with pytest.raises(ValueError, match="node, already a parameter"):
        Runbook.model_validate({**base, "parameters": {"node": {"type": "node"}}})
    with pytest.raises(ValueError, match="cannot hold another"):
        Runbook.model_validate({**base, "steps": [{**group, "steps": [group]}]})
    with pytest.raises(ValueError, match="for_each and steps go together"):
        Runbook.model_validate(
            {**base, "steps": [{"name": "g", "for_each": "nodes", "run": ["x"]}]}
        )


def test_a_loop_over_no_placed_resource_plans_no_step() -> None:
    rb = Runbook.model_validate(
        {
            "name": "loop",
            "summary": "s",
            "steps": [
                {"name": "first", "run": ["true"]},
                {"name": "g", "for_each": "placed", "steps": [{"name": "s", "run": ["true"]}]},
            ],
        }
    )
    assert [s.name for s in make_plan(rb, {}, SEED, cluster="c").steps] == ["first"]
