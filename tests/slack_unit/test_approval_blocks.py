"""The approval card (pure): plan, preview, buttons; decided states replace the footer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from habot.approvals.model import Request, State
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.simulate import parse_actions
from habot.runbooks.loader import load_all
from habot.runbooks.plan import make_plan
from habot.service.workflow import Proposal, fingerprint
from habot.slack import approval_blocks

FIXTURES = Path(__file__).parents[1] / "fixtures"
STATUS = parse_crm_mon((FIXTURES / "crm_mon" / "lab_seed_fenced.xml").read_bytes())
RUNBOOKS = load_all()
T0 = 1_795_600_000.0


def proposal(name: str, **params: str) -> Proposal:
    plan = make_plan(RUNBOOKS[name], params, STATUS, cluster="mycluster")
    preview = parse_actions(
        (FIXTURES / "crm_simulate" / "crm_simulate_preview_move_VirtualIP_nodo2.xml").read_bytes()
    )
    return Proposal(RUNBOOKS[name], plan, preview=preview)


def request(p: Proposal) -> Request:
    return Request(
        id="abc123",
        cluster="mycluster",
        runbook=p.plan.runbook,
        params=p.plan.params,
        requester="UALICE",
        channel="COPS",
        created=T0,
        expires=T0 + 900,
        approvals_needed=p.plan.approvals_needed,
        plan_fingerprint=fingerprint(p.plan),
    )


def test_card_shows_plan_preview_collateral_and_buttons() -> None:
    p = proposal("failover", resource="VirtualIP", node="nodo2")
    text = json.dumps(approval_blocks.request_card(p, request(p)))
    assert "pcs resource move VirtualIP nodo2" in text
    assert "VirtualIP: move nodo1 \\u2192 nodo2" in text
    assert "Also: moves WebSite, app-fs, app-svc" in text
    assert '"action_id": "habot_approve"' in text
    assert '"style": "primary"' in text
    assert '"confirm"' not in text


def test_destructive_runbooks_get_a_danger_button_with_a_confirm_dialog() -> None:
    p = proposal("gfs2-activate")
    blocks = approval_blocks.request_card(p, request(p))
    button = blocks[-1]["elements"][0]
    assert button["style"] == "danger"
    assert button["confirm"]["confirm"]["text"] == "Approve"


def test_a_decision_replaces_the_footer_once() -> None:
    p = proposal("failover", resource="VirtualIP", node="nodo2")
    r = request(p)
    posted = approval_blocks.request_card(p, r)
    approved = replace(r, state=State.APPROVED, approvals=("UBOB",))
    once = approval_blocks.updated_card(posted, approved, False, now=T0 + 60)
    twice = approval_blocks.updated_card(once, replace(approved, state=State.SUCCEEDED), False)
    for card in (once, twice):
        text = json.dumps(card)
        assert text.count("Needs one approver") == 1
        assert "habot_approve" not in text
        assert "pcs resource move VirtualIP nodo2" in text
    assert "Approved by <@UBOB> at " in json.dumps(once)
    assert "succeeded" in json.dumps(twice)
