"""The approval state machine (pure) and the store's compare-and-set."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from habot.approvals import model
from habot.approvals.model import Request, State
from habot.store import Store

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


def test_store_decides_once_under_concurrent_approvals(tmp_path: Path) -> None:
    """Twenty clicks from twenty connections (as from several processes or replicas) on one
    database file: one approval wins."""
    db = tmp_path / "habot.sqlite3"
    Store(db).add_request(request())
    stores = [Store(db) for _ in range(20)]
    wins: list[str] = []
    start = threading.Barrier(len(stores))

    def click(store: Store, user: str) -> None:
        current = store.request("r1")
        assert current is not None
        d = model.approve(current, user, NOW, is_approver=True, self_approval=False)
        start.wait()
        if d.refusal is None and store.record_approval(d.request, user, NOW):
            wins.append(user)

    threads = [
        threading.Thread(target=click, args=(store, f"U{i}")) for i, store in enumerate(stores)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    final = Store(db).request("r1")
    assert final is not None
    assert final.state is State.APPROVED
    assert final.approvals == (wins[0],)
    for store in stores:
        store.close()


def test_cluster_lock_names_the_holder() -> None:
    store = Store(":memory:")
    assert store.take_cluster("mycluster", "r1", "gfs2-activate", NOW) is None
    holder = store.take_cluster("mycluster", "r2", "failover", NOW)
    assert holder is not None
    assert (holder.request_id, holder.runbook) == ("r1", "gfs2-activate")
    store.release_cluster("mycluster", "r1")
    assert store.take_cluster("mycluster", "r2", "failover", NOW) is None
