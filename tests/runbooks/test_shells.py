"""Runbooks on crmsh clusters (pure): each pcs command's crmsh form, every shipped runbook
planned for crmsh (the runbooks that edit the CIB with pcs refused, naming the step), the
shell chosen from the config and what the node has."""

from __future__ import annotations

from pathlib import Path

import pytest

from habot.cluster.crm_mon import parse_crm_mon
from habot.node.helper import quick_edit
from habot.runbooks.loader import load_all
from habot.runbooks.model import Runbook
from habot.runbooks.plan import PlanError, make_plan
from habot.runbooks.shells import Shell, chosen, crmsh_form
from habot.service import sudoers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crm_mon"
DEMO = parse_crm_mon((FIXTURES / "lab_seed_fenced.xml").read_bytes())
RUNBOOKS = load_all()
PARAMS: dict[str, dict[str, str]] = {
    "ban": {"resource": "VirtualIP", "node": "nodo2"},
    "ban-for": {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"},
    "clear": {"resource": "VirtualIP"},
    "clear-on-node": {"resource": "VirtualIP", "node": "nodo2"},
    "cleanup": {"resource": "WebSite"},
    "cleanup-on-node": {"resource": "WebSite", "node": "nodo1"},
    "refresh": {"resource": "WebSite"},
    "enable": {"resource": "WebSite"},
    "disable": {"resource": "WebSite"},
    "restart": {"resource": "WebSite"},
    "restart-on-node": {"resource": "WebData-clone", "node": "nodo1"},
    "manage": {"resource": "WebSite"},
    "unmanage": {"resource": "WebSite"},
    "standby": {"node": "nodo2"},
    "unstandby": {"node": "nodo2"},
    "node-maintenance": {"node": "nodo2", "mode": "on"},
    "maintenance": {"mode": "on"},
    "node-patch": {"node": "nodo2"},
    "rolling-maintenance": {},
    "failover": {"resource": "VirtualIP", "node": "nodo2"},
    "failover-test": {"address": "10.1.1.100"},
    "fence-test": {"node": "nodo2"},
    "fence-history-cleanup": {"node": "nodo2"},
    "stonith-libvirt": {
        "hostlist": "nodo1:vm1,nodo2:vm2",
        "hypervisor_uri": "qemu+ssh://host/system",
    },
    "alert-agent": {},
    "gfs2-activate": {},
    "haproxy": {"backends": "10.1.1.101:80,10.1.1.102:80", "address": "10.1.1.100"},
}


@pytest.mark.parametrize(
    ("pcs", "crm"),
    [
        ("resource move R N", "crm --no resource move R N"),
        ("resource ban R N", "crm --no resource ban R N"),
        ("resource ban R N lifetime=PT2H", "crm --no resource ban R N PT2H"),
        ("resource clear R", "crm --no resource clear R"),
        ("resource clear R N", "crm_resource --clear --resource R --node N"),
        ("resource cleanup R", "crm --no resource cleanup R"),
        ("resource cleanup R node=N", "crm --no resource cleanup R N"),
        ("resource refresh R", "crm --no resource refresh R"),
        ("resource enable R", "crm --no resource start R"),
        ("resource disable R", "crm --no resource stop R"),
        ("resource restart R", "crm --no resource restart R"),
        ("resource manage R", "crm --no resource manage R"),
        ("resource unmanage R", "crm --no resource unmanage R"),
        ("node standby N", "crm --no node standby N"),
        ("node unstandby N", "crm --no node online N"),
        ("node maintenance N", "crm --no node maintenance N"),
        ("node unmaintenance N", "crm --no node ready N"),
        ("property set maintenance-mode=true", "crm --no configure property maintenance-mode=true"),
        ("stonith history cleanup N", "stonith_admin --history N --cleanup"),
    ],
)
def test_each_pcs_command_has_the_crmsh_command_of_the_same_meaning(pcs: str, crm: str) -> None:
    assert crmsh_form(("pcs", *pcs.split())) == tuple(crm.split())


@pytest.mark.parametrize(
    "pcs",
    [
        "resource restart R N",  # crmsh restarts every instance: the step gives its own form
        "cluster stop",  # crmsh's reaches the node over ssh as root: fence-test gives its own
        "resource move R",  # crmsh would need force and ban the current node
        "resource delete R",
        "resource ban R N --force",
        "resource cleanup R N",  # pcs takes node=N: a bare N is not the same command
        "constraint colocation delete A B",
        "-f shadow resource move R N",
    ],
)
def test_a_pcs_command_without_a_crmsh_meaning_has_no_form(pcs: str) -> None:
    assert crmsh_form(("pcs", *pcs.split())) is None


def test_a_template_stays_one_element() -> None:
    assert crmsh_form(("pcs", "resource", "ban", "{{ r }}", "{{ n }}", "lifetime={{ l }}")) == (
        "crm", "--no", "resource", "ban", "{{ r }}", "{{ n }}", "{{ l }}",
    )  # fmt: skip


def test_every_shipped_runbook_plans_for_crmsh_with_no_pcs_command_left() -> None:
    assert set(PARAMS) == set(RUNBOOKS), "give the new runbook's parameters here"
    for name, params in PARAMS.items():
        on_pcs = make_plan(RUNBOOKS[name], params, DEMO, cluster="mycluster")
        on_crm = make_plan(RUNBOOKS[name], params, DEMO, cluster="mycluster", shell=Shell.CRMSH)
        assert on_crm.shell is Shell.CRMSH
        assert [s.name for s in on_crm.steps] == [s.name for s in on_pcs.steps]
        for step in (*on_crm.steps, *on_crm.rollback):
            assert step.argv[:1] != ("pcs",), f"{name}: {step.name} still speaks pcs"
        # the preview replays the steps on a copy of the CIB with no pcs: a cib step's crmsh
        # edits (crm on the copy), a run step's pcs edit by Pacemaker's own tools
        assert bool(on_crm.preview_edits) == bool(on_pcs.preview_edits), name
        for edit in on_crm.preview_edits:
            assert edit[:1] == ("crm",) or quick_edit(list(edit)) is not None, (name, edit)


def test_the_crmsh_forms_of_a_failover() -> None:
    plan = make_plan(
        RUNBOOKS["failover"],
        {"resource": "VirtualIP", "node": "nodo2"},
        DEMO,
        cluster="mycluster",
        shell=Shell.CRMSH,
    )
    assert [s.argv for s in plan.steps if s.kind == "run"] == [
        ("crm", "--no", "resource", "move", "VirtualIP", "nodo2"),
        ("crm", "--no", "resource", "clear", "VirtualIP"),  # crmsh always leaves its constraint
    ]
    assert plan.steps[0].pcs == ("pcs", "resource", "move", "VirtualIP", "nodo2")


def test_a_site_runbook_with_a_pcs_only_step_is_refused_on_crmsh_by_name() -> None:
    rb = Runbook.model_validate(
        {
            "name": "site",
            "summary": "s",
            "steps": [
                {"name": "fine", "run": ["pcs", "resource", "cleanup", "WebSite"]},
                {"name": "odd one", "run": ["pcs", "resource", "op", "defaults", "timeout=60s"]},
                {"name": "own form", "run": ["pcs", "x"], "crmsh": ["crm", "--no", "y"]},
            ],
        }
    )
    with pytest.raises(PlanError) as refused:
        make_plan(rb, {}, DEMO, cluster="c", shell=Shell.CRMSH)
    assert refused.value.reasons == (
        "step 'odd one' runs `pcs resource op …`, which has no crmsh form: "
        "give the step a `crmsh:` form to run it on a crmsh cluster",
    )
    assert make_plan(rb, {}, DEMO, cluster="c").steps[1].argv[:2] == ("pcs", "resource")


@pytest.mark.parametrize(
    ("configured", "found", "shell", "said"),
    [
        ("auto", ("pcs",), Shell.PCS, "pcs, found on the nodes"),
        ("auto", ("crm",), Shell.CRMSH, "crmsh, found on the nodes"),
        ("auto", ("pcs", "crm"), Shell.PCS, "pcs, found on the nodes beside crmsh"),
        ("auto", None, Shell.PCS, "pcs: the node did not say which shell it has"),
        ("crmsh", None, Shell.CRMSH, "crmsh, as configured"),
        ("crmsh", ("pcs", "crm"), Shell.CRMSH, "crmsh, as configured"),
        ("crmsh", ("pcs",), None, "`crm` is not installed on the node that answered"),
        ("pcs", ("crm",), None, "`pcs` is not installed on the node that answered"),
        ("auto", ("bash",), None, "neither pcs nor crmsh is installed"),
        ("auto", (), None, "neither pcs nor crmsh is installed"),
    ],
)
def test_the_shell_is_configured_or_found(
    configured: str, found: tuple[str, ...] | None, shell: Shell | None, said: str
) -> None:
    got, how = chosen(configured, found)
    assert got is shell
    assert said in how


def test_the_node_rules_allow_every_crmsh_step_and_nothing_wider() -> None:
    rules = sudoers.rules(RUNBOOKS.values())
    checked = 0
    for name, params in PARAMS.items():
        plan = make_plan(RUNBOOKS[name], params, DEMO, cluster="mycluster", shell=Shell.CRMSH)
        for step in (*plan.steps, *plan.rollback):
            if step.argv:
                assert sudoers.allows(rules, step.argv), f"{name}: {step.argv}"
                checked += 1
            for edit in (*step.edits, *plan.preview_edits):
                assert sudoers.allows_edit(rules, edit), f"{name}: {edit}"
                checked += 1
    assert checked >= 40
    for argv in (
        ("crm", "--no", "configure", "delete", "VirtualIP"),
        ("crm", "resource", "move", "VirtualIP", "nodo2"),  # without --no: it may ask
        ("crm", "-F", "resource", "move", "VirtualIP", "nodo2"),
        ("crm", "--no", "resource", "move", "VirtualIP", "nodo2", "force"),
        ("crm", "--no", "configure", "property", "stonith-enabled=false"),
        ("crm", "--no", "node", "fence", "nodo2"),
        ("crm", "--no", "resource", "ban", "VirtualIP", "nodo2", "PT2H;id"),
    ):
        assert not sudoers.allows(rules, argv), argv
    for edit in (
        ("crm", "configure", "property", "stonith-enabled=false"),
        ("crm", "configure", "delete", "fencing-libvirt"),
        ("crm", "configure", "primitive", "x", "stonith:external/libvirt", "params", "a=b"),
    ):
        assert not sudoers.allows_edit(rules, edit), edit
