"""Every change is previewed from its own steps: the CIB-changing ones replayed on a shadow
copy and simulated, the rest named as not simulated; what the parameters did not name is
collateral; a resource left with nowhere to run is a warning; the card stays small however
large the transition (scripted transport, real crm_simulate output)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import LiveStatus
from habot.cluster.model import FailCount, LocationConstraint
from habot.cluster.scratch import MKTEMP
from habot.cluster.simulate import PlannedAction, parse_actions
from habot.runbooks.loader import load_all
from habot.runbooks.plan import make_plan
from habot.runbooks.replay import edit_of
from habot.runbooks.shells import Shell
from habot.service import describe
from habot.service.workflow import Proposal
from habot.slack import approval_blocks
from tests.fakes.cluster import CRM_MON, scene
from tests.slack_unit.test_approval_blocks import request

SIMULATED = Path(__file__).parents[1] / "fixtures" / "crm_simulate"
PRIVATE = "/tmp/habot.Ab3dEf9hIj"
SEED = parse_crm_mon((CRM_MON / "lab_seed_fenced.xml").read_bytes())
MOVE_XML = (SIMULATED / "crm_simulate_preview_move_VirtualIP_nodo2.xml").read_bytes()


def test_what_can_be_replayed_on_a_shadow_cib() -> None:
    assert edit_of(("pcs", "resource", "ban", "VirtualIP", "nodo2")) == (
        "resource",
        "ban",
        "VirtualIP",
        "nodo2",
    )
    assert edit_of(("pcs", "resource", "move", "VirtualIP", "nodo2")) == (
        "resource",
        "move-with-constraint",
        "VirtualIP",
        "nodo2",
    )
    for live_only in (
        ("pcs", "resource", "restart", "WebSite"),
        ("pcs", "resource", "cleanup", "WebSite"),
        ("pcs", "cluster", "stop"),
        ("stonith_admin", "--reboot", "nodo2"),
        ("mkfs.gfs2", "-O", "/dev/drbd1"),
        ("sh", "-c", "true"),
    ):
        assert edit_of(live_only) is None, live_only


def test_every_shipped_runbook_that_changes_the_cib_is_previewed() -> None:
    status = SEED
    runbooks = load_all()
    previewed = {
        "ban": {"resource": "VirtualIP", "node": "nodo2"},
        "clear": {"resource": "VirtualIP"},
        "disable": {"resource": "WebSite"},
        "enable": {"resource": "WebSite"},
        "unmanage": {"resource": "WebSite"},
        "standby": {"node": "nodo2"},
        "node-maintenance": {"node": "nodo2", "mode": "on"},
    }
    for name, params in previewed.items():
        plan = make_plan(runbooks[name], params, status, cluster="mycluster")
        assert plan.preview_edits, name
        assert plan.unsimulated == (), name
    restart = make_plan(runbooks["restart"], {"resource": "WebSite"}, status, cluster="m")
    assert restart.preview_edits == ()
    assert restart.unsimulated == ("restart (`pcs resource restart …`)",)


async def test_a_ban_is_previewed_from_its_own_step() -> None:
    s = scene(capture="crm_mon_2node_demo.xml")  # the cluster the simulation was run on
    s.transport.expect("nodo1", MKTEMP, stdout=f"{PRIVATE}\n".encode())
    s.transport.expect("nodo1", ("pcs", "cluster", "cib", f"{PRIVATE}/cib.xml"))
    s.transport.expect(
        "nodo1", ("pcs", "-f", f"{PRIVATE}/cib.xml", "resource", "ban", "VirtualIP", "nodo1")
    )
    s.transport.expect(
        "nodo1",
        ("crm_simulate", "--simulate", "--xml-file", f"{PRIVATE}/cib.xml", "--output-as=xml"),
        stdout=MOVE_XML,
    )
    s.transport.expect("nodo1", ("rm", "-rf", "--", PRIVATE))
    proposal = await s.workflow.propose(None, "ban", {"resource": "VirtualIP", "node": "nodo1"})
    lines = describe.preview_lines(proposal)
    assert "VirtualIP: move nodo1 → nodo2" in lines
    assert any(
        line.startswith("WebSite: move") and "(not named in the request)" in line for line in lines
    )
    assert describe.collateral_line(proposal) == "Also: moves WebSite, app-fs, app-svc"
    s.transport.assert_done()


def seed_proposal(name: str, preview: tuple[PlannedAction, ...], **params: str) -> Proposal:
    plan = make_plan(load_all()[name], params, SEED, cluster="mycluster")
    return Proposal(load_all()[name], plan, preview=preview)


def test_a_resource_left_with_nowhere_to_run_is_a_warning() -> None:
    stop = (PlannedAction("WebSite", "stop", source="nodo1"),)
    lines = describe.preview_lines(seed_proposal("disable", stop, resource="WebSite"))
    assert "⚠ WebSite would be left with nowhere to run" in lines
    moved = (PlannedAction("VirtualIP", "move", "nodo1", "nodo2"),)
    ban = seed_proposal("ban", moved, resource="VirtualIP", node="nodo1")
    assert not [line for line in describe.preview_lines(ban) if line.startswith("⚠")]


def test_fifty_resources_moving_stay_inside_block_kits_limits() -> None:
    big = tuple(
        PlannedAction(f"app-{i:02d}", "move", "nodo1", "nodo2") for i in range(50)
    ) + parse_actions(MOVE_XML)
    p = seed_proposal("standby", big, node="nodo1")
    lines = describe.preview_lines(p)
    assert len(lines) <= describe.PREVIEW_SHOWN + 3
    assert any("more actions" in line and "in all" in line for line in lines)
    blocks = approval_blocks.request_card(p, request(p))
    assert len(blocks) <= 50
    for block in blocks:
        text = block.get("text", {}).get("text", "") if isinstance(block, dict) else ""
        assert len(text) <= 3000
    assert len(json.dumps(blocks)) < 40_000


def test_a_step_that_cannot_be_simulated_is_named_on_the_card() -> None:
    p = seed_proposal("restart", (), resource="WebSite")
    p = replace(p, preview=None)
    lines = describe.preview_lines(p)
    assert lines == ["not simulated: restart (`pcs resource restart …`)"]


def test_ban_and_clear_name_the_constraints_they_add_and_remove() -> None:
    ban = seed_proposal("ban-for", (), resource="VirtualIP", node="nodo1", lifetime="PT2H")
    assert "adds cli-ban-VirtualIP-on-nodo1, expiring after PT2H" in describe.preview_lines(ban)
    left = replace(
        SEED,
        constraints=(
            LocationConstraint("cli-prefer-VirtualIP", "VirtualIP", "nodo2", 1_000_000),
            LocationConstraint("location-WebSite", "WebSite", "nodo1", 50),
        ),
    )
    plan = make_plan(load_all()["clear"], {"resource": "VirtualIP"}, left, cluster="mycluster")
    live = LiveStatus(left, "nodo1", {})
    clear = Proposal(load_all()["clear"], plan, preview=(), live=live)
    assert "removes cli-prefer-VirtualIP" in describe.preview_lines(clear)
    nothing = Proposal(load_all()["clear"], plan, preview=(), live=LiveStatus(SEED, "nodo1", {}))
    assert "removes no constraint (none is left)" in describe.preview_lines(nothing)
    # the same card on a crmsh cluster: its steps run `crm`, and say the same
    params = {"resource": "VirtualIP", "node": "nodo1", "lifetime": "PT2H"}
    crm = make_plan(load_all()["ban-for"], params, SEED, cluster="mycluster", shell=Shell.CRMSH)
    assert crm.steps[0].argv[:3] == ("crm", "--no", "resource")
    crm_ban = Proposal(load_all()["ban-for"], crm, preview=())
    assert "adds cli-ban-VirtualIP-on-nodo1, expiring after PT2H" in describe.preview_lines(crm_ban)


def test_a_cleanup_card_shows_the_fail_counts_it_clears() -> None:
    failed = replace(SEED, fail_counts=(FailCount("WebSite", "nodo1", 3, 3),))
    plan = make_plan(load_all()["cleanup"], {"resource": "WebSite"}, failed, cluster="mycluster")
    cleanup = Proposal(load_all()["cleanup"], plan, live=LiveStatus(failed, "nodo1", {}))
    assert "fail counts of WebSite now: 3 on nodo1 (cleared by this run)" in (
        describe.preview_lines(cleanup)
    )
    assert plan.steps[-1].name == "no failures left"  # the thread shows them gone after


def test_what_else_happens_is_said_exactly_and_what_the_runbook_creates_is_not_collateral() -> None:
    """gfs2-activate's preview: the DLM it creates starts (created by this runbook, not "also
    moves"), WebData is promoted, WebFS stops — each by what happens to it."""
    live = LiveStatus(SEED, "nodo1", {})
    preview = (
        PlannedAction("dlm", "start", target="nodo1"),
        PlannedAction("WebData", "promote", target="nodo2"),
        PlannedAction("WebFS", "stop", source="nodo1"),
    )
    plan = make_plan(load_all()["gfs2-activate"], {}, SEED, cluster="mycluster")
    proposal = Proposal(load_all()["gfs2-activate"], plan, preview=preview, live=live)
    lines = describe.preview_lines(proposal)
    assert "dlm: start on nodo1 (created by this runbook)" in lines
    assert "WebData: promote on nodo2 (not named in the request)" in lines
    assert describe.collateral_line(proposal) == "Also: stops WebFS; promotes WebData; creates dlm"
    assert "moves" not in str(describe.collateral_line(proposal))
