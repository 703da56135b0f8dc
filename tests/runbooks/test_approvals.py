"""The approval state machine (pure). The store's compare-and-set, on SQLite and PostgreSQL,
is in tests/store/test_store_contract.py."""

from __future__ import annotations

from dataclasses import replace

from habot.approvals import model
from habot.approvals.model import Request, State

NOW = 1_800_000_000.0


def request(needed: int = 1) -> Request:
    return Request(
        id="r1",
        cluster="mycluster",
        runbook="failover",
        params=(("resource", "VirtualIP"),),
        requester="UALICE",
        channel="C",
        created=NOW,
        expires=NOW + 900,
        approvals_needed=needed,
        plan_fingerprint="f",
    )


def test_one_approval_completes() -> None:
    d = model.approve(request(), "UBOB", NOW + 1, is_approver=True, self_approval=False)
    assert d.complete
    assert d.request.approvals == ("UBOB",)


def test_refusals() -> None:
    r = request()
    assert model.approve(r, "UALICE", NOW, is_approver=True, self_approval=False).refusal == (
        "you cannot approve your own request"
    )
    assert model.approve(r, "UALICE", NOW, is_approver=True, self_approval=True).complete
    assert "not an approver" in str(
        model.approve(r, "UX", NOW, is_approver=False, self_approval=False).refusal
    )
    assert "expired" in str(
        model.approve(r, "UBOB", NOW + 900, is_approver=True, self_approval=False).refusal
    )
    denied = replace(r, state=State.DENIED, decided_by="UCAROL")
    assert model.approve(denied, "UBOB", NOW, is_approver=True, self_approval=False).refusal == (
        "this request was denied by UCAROL"
    )


def test_two_distinct_approvers() -> None:
    first = model.approve(request(2), "UBOB", NOW, is_approver=True, self_approval=False)
    assert not first.complete
    again = model.approve(first.request, "UBOB", NOW, is_approver=True, self_approval=False)
    assert again.refusal == "you approved this already; it needs another approver"
    second = model.approve(first.request, "UCAROL", NOW, is_approver=True, self_approval=False)
    assert second.complete
