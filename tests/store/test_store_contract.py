"""One store interface, two real databases: every test here runs on SQLite and on PostgreSQL
(a real server), with several connections where replicas would have several."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from habot.alerts.lifecycle import Alert, Delivery
from habot.approvals import model
from habot.approvals.model import Request, State
from habot.store import Recorded, Store, StoreError, redacted, schema
from tests.store import postgres_server

NOW = 1_800_000_000.0


def request(request_id: str = "r1", needed: int = 1, cluster: str = "mycluster") -> Request:
    return Request(
        id=request_id,
        cluster=cluster,
        runbook="failover",
        params=(("resource", "VirtualIP"), ("node", "nodo2")),
        requester="UALICE",
        channel="C",
        created=NOW,
        expires=NOW + 900,
        approvals_needed=needed,
        plan_fingerprint="f",
    )


def alert(key: str = "no-stonith", **changes: object) -> Alert:
    base = Alert(
        key=key,
        cluster="mycluster",
        rule="no-stonith",
        severity="critical",
        title="no STONITH",
        node="nodo1",
        fields=(("node", "nodo1"),),
        first_seen=NOW,
        last_seen=NOW,
        lines=("a line",),
        delivery=Delivery.POST,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_request_round_trips(store: Store) -> None:
    store.add_request(request())
    store.set_message("r1", "123.456", [{"type": "section"}])
    got = store.request("r1")
    assert got is not None
    assert got.params == (("resource", "VirtualIP"), ("node", "nodo2"))
    assert (got.state, got.message_ts) == (State.REQUESTED, "123.456")
    assert store.card("r1") == [{"type": "section"}]
    assert store.request("nope") is None
    assert [r.id for r in store.requests_in(State.REQUESTED)] == ["r1"]


def test_twenty_clicks_from_twenty_connections_approve_once(
    stores: Callable[[], Store],
) -> None:
    stores().add_request(request())
    replicas = [stores() for _ in range(20)]
    wins: list[str] = []
    start = threading.Barrier(len(replicas))

    def click(store: Store, user: str) -> None:
        current = store.request("r1")
        assert current is not None
        d = model.approve(current, user, NOW, is_approver=True, self_approval=False)
        start.wait()
        if d.refusal is None and store.record_approval(d.request, user, NOW):
            wins.append(user)

    threads = [threading.Thread(target=click, args=(s, f"U{i}")) for i, s in enumerate(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    final = replicas[0].request("r1")
    assert final is not None
    assert (final.state, final.approvals) == (State.APPROVED, (wins[0],))


def test_a_second_approver_of_a_two_approver_request(store: Store) -> None:
    store.add_request(request(needed=2))
    first = model.approve(store.request("r1"), "UBOB", NOW, is_approver=True, self_approval=False)  # type: ignore[arg-type]
    assert store.record_approval(first.request, "UBOB", NOW)
    assert not store.record_approval(first.request, "UBOB", NOW)  # the same person again
    current = store.request("r1")
    assert current is not None
    second = model.approve(current, "UCAROL", NOW + 1, is_approver=True, self_approval=False)
    assert store.record_approval(second.request, "UCAROL", NOW + 1)
    final = store.request("r1")
    assert final is not None
    assert (final.state, final.approvals) == (State.APPROVED, ("UBOB", "UCAROL"))


@pytest.mark.parametrize("clickers", [2, 3, 8])
def test_approvers_clicking_together_complete_a_two_approval_request(
    stores: Callable[[], Store], clickers: int
) -> None:
    """Each click read the request before the others were stored (0 approvals): the count is
    taken inside the transaction, so the request is approved once, never left waiting with
    every approval it needs."""
    stores().add_request(request(needed=2))
    replicas = [stores() for _ in range(clickers)]
    read = [r.request("r1") for r in replicas]  # every click saw "0 of 2" before deciding
    recorded: list[Recorded] = []
    start = threading.Barrier(clickers)

    def click(store: Store, seen: Request | None, user: str) -> None:
        assert seen is not None
        d = model.approve(seen, user, NOW, is_approver=True, self_approval=False)
        assert d.refusal is None
        assert d.request.state is State.REQUESTED  # the stale copy says "not yet"
        start.wait()
        recorded.append(store.record_approval(d.request, user, NOW, owner=f"replica-{user}"))

    threads = [
        threading.Thread(target=click, args=(s, seen, f"U{i}"))
        for i, (s, seen) in enumerate(zip(replicas, read, strict=True))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = replicas[0].request("r1")
    assert final is not None
    assert final.state is State.APPROVED
    assert len(final.approvals) == 2  # the clicks after the second found it decided
    assert sum(bool(r) for r in recorded) == 2
    assert recorded.count(Recorded.APPROVED) == 1  # the one click that runs it
    assert final.decided_by in final.approvals


def test_transitions_are_compare_and_set(store: Store) -> None:
    store.add_request(request())
    assert store.transition("r1", [State.REQUESTED], State.DENIED, decided_by="UBOB")
    assert not store.transition("r1", [State.REQUESTED], State.APPROVED)
    got = store.request("r1")
    assert got is not None
    assert (got.state, got.decided_by) == (State.DENIED, "UBOB")


def test_the_cluster_lock_has_one_holder_across_connections(
    stores: Callable[[], Store],
) -> None:
    a, b = stores(), stores()
    assert a.take_cluster("mycluster", "r1", "failover", NOW) is None
    held = b.take_cluster("mycluster", "r2", "cleanup", NOW + 1)
    assert held is not None
    assert (held.request_id, held.runbook) == ("r1", "failover")
    assert b.cluster_lock("mycluster") == held
    b.release_cluster("mycluster", "r2")  # not the holder: nothing happens
    assert a.cluster_lock("mycluster") is not None
    a.release_cluster("mycluster", "r1")
    assert b.take_cluster("mycluster", "r2", "cleanup", NOW + 2) is None


def test_a_run_is_interrupted_only_when_its_owner_stopped_heart_beating(
    stores: Callable[[], Store],
) -> None:
    owner, survivor, other = stores(), stores(), stores()
    owner.add_request(request("r1"))
    owner.transition("r1", [State.REQUESTED], State.APPROVED)
    owner.take_cluster("mycluster", "r1", "failover", NOW)
    assert owner.start_run("r1", "replica-a", NOW)
    assert not owner.start_run("r1", "replica-b", NOW)  # exactly once
    assert owner.heartbeat("replica-a", NOW + 10) == 1
    assert survivor.interrupt_silent(before=NOW + 5) == []  # beating: left alone
    got = survivor.request("r1")
    assert got is not None
    assert got.state is State.RUNNING
    # the owner dies; two survivors sweep at once: one of them reports it
    found: list[list[Request]] = []
    threads = [
        threading.Thread(target=lambda s=s: found.append(s.interrupt_silent(before=NOW + 30)))
        for s in (survivor, other)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(f) for f in found) == [0, 1]
    assert survivor.cluster_lock("mycluster") is None
    assert not owner.transition("r1", [State.RUNNING], State.SUCCEEDED)  # too late


def test_an_approval_whose_replica_died_before_the_run_is_interrupted(
    stores: Callable[[], Store],
) -> None:
    owner, survivor = stores(), stores()
    owner.add_request(request("r1"))
    approved = model.approve(
        owner.request("r1"),  # type: ignore[arg-type]
        "UBOB",
        NOW,
        is_approver=True,
        self_approval=False,
    )
    assert owner.record_approval(approved.request, "UBOB", NOW, owner="replica-a")
    assert owner.heartbeat("replica-a", NOW + 10) == 1  # approved, about to run: its own
    assert survivor.interrupt_silent(before=NOW + 5) == []
    assert [r.id for r in survivor.interrupt_silent(before=NOW + 30)] == ["r1"]
    assert not owner.start_run("r1", "replica-a", NOW + 31)  # too late: nothing runs


def test_an_unowned_approval_is_never_swept(store: Store) -> None:
    store.add_request(request("r1"))
    assert store.transition("r1", [State.REQUESTED], State.APPROVED, "UBOB")
    assert store.interrupt_silent(before=NOW + 1e9) == []
    assert store.transition(
        "r1", [State.APPROVED], State.APPROVED, owner="console", now=NOW
    )  # the console's own approval, now owned
    assert [r.id for r in store.interrupt_silent(before=NOW + 30)] == ["r1"]


def test_a_clean_stop_abandons_its_runs_for_the_next_sweep(store: Store) -> None:
    store.add_request(request("r1"))
    store.transition("r1", [State.REQUESTED], State.APPROVED)
    store.start_run("r1", "replica-a", NOW)
    assert store.abandon_runs("replica-a") == 1
    assert [r.id for r in store.interrupt_silent(before=NOW - 60)] == ["r1"]


def test_a_lease_has_one_holder_until_it_expires(stores: Callable[[], Store]) -> None:
    a, b = stores(), stores()
    assert a.lease("poll:mycluster", "replica-a", NOW, ttl=45)
    assert not b.lease("poll:mycluster", "replica-b", NOW + 10, ttl=45)
    assert a.lease("poll:mycluster", "replica-a", NOW + 30, ttl=45)  # renewed
    assert not b.lease("poll:mycluster", "replica-b", NOW + 60, ttl=45)
    assert b.lease_holder("poll:mycluster", NOW + 60) == "replica-a"
    assert b.lease("poll:mycluster", "replica-b", NOW + 76, ttl=45)  # a stopped renewing
    assert not a.lease("poll:mycluster", "replica-a", NOW + 77, ttl=45)
    b.release_lease("poll:mycluster", "replica-b")
    assert a.lease("poll:mycluster", "replica-a", NOW + 78, ttl=45)


def test_concurrent_lease_attempts_elect_one(stores: Callable[[], Store]) -> None:
    replicas = [stores() for _ in range(6)]
    start = threading.Barrier(len(replicas))
    won: list[int] = []

    def attempt(i: int) -> None:
        start.wait()
        if replicas[i].lease("poll:c", f"replica-{i}", NOW, ttl=45):
            won.append(i)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(replicas))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_the_audit_log_keeps_order_and_fields(store: Store) -> None:
    store.audit(at=NOW, cluster="c", event="requested", request_id="r1", user="UALICE")
    store.audit(
        at=NOW + 1,
        cluster="c",
        event="command",
        request_id="r1",
        node="nodo1",
        node_user="habot via sudo",
        argv=("pcs", "resource", "move", "VirtualIP", "nodo2"),
        rc=0,
        duration=1.5,
        detail="x" * 5000,
    )
    store.audit(at=NOW + 2, cluster="c", event="other", request_id="r2")
    entries = store.audit_log(10, request_id="r1")
    assert [e.event for e in entries] == ["requested", "command"]
    command = entries[1]
    assert command.argv == ("pcs", "resource", "move", "VirtualIP", "nodo2")
    assert (command.rc, command.duration, command.node_user) == (0, 1.5, "habot via sudo")
    assert len(command.detail) == 4000
    assert [e.event for e in store.audit_log(2)] == ["command", "other"]


def test_alert_writes_are_compare_and_set_all_or_nothing(stores: Callable[[], Store]) -> None:
    a, b = stores(), stores()
    assert a.save_poll([alert()], {"cursor:nodo1": "c1"})
    stored = b.alert("mycluster", "no-stonith")
    assert stored is not None
    assert stored.version == 1
    assert b.alert_by_ref(stored.ref) == stored
    # b moves it on; a, still holding version 1 of it, loses the whole poll
    assert b.save_poll([replace(stored, count=2)], {"cursor:nodo1": "c2"})
    assert not a.save_poll([replace(stored, count=5), alert("other")], {"cursor:nodo1": "c3"})
    assert a.get("cursor:nodo1") == "c2"
    assert a.alert("mycluster", "other") is None
    assert not a.save_poll([alert()], {})  # a second "new" one with the same key
    assert [x.key for x in a.alerts_to_deliver("mycluster", NOW)] == ["no-stonith"]
    changed = a.change_alert("mycluster", "no-stonith", lambda x: replace(x, count=9))
    assert changed is not None
    assert changed.version == 3
    assert a.change_alert("mycluster", "missing", lambda x: x) is None


def test_small_values(store: Store) -> None:
    assert store.get("k") is None
    store.put("k", "v1")
    store.put("k", "v2")
    assert store.get("k") == "v2"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "secret", "named"),
    [
        ("postgresql://habot:s3cret@127.0.0.1:1/habot", "s3cret", "127.0.0.1:1, database habot"),
        # characters that make a URL parser misplace the password
        ("postgresql://habot:p#ss?w0rd@127.0.0.1:1/habot", "p#ss?w0rd", "database habot"),
        ("postgresql://habot:se%23cret@127.0.0.1:1/habot", "se#cret", "127.0.0.1:1"),
        # in the query
        ("postgresql://habot@127.0.0.1:1/habot?password=qu3ry", "qu3ry", "127.0.0.1:1"),
        # several hosts (once made the redaction raise)
        ("postgresql://habot:mult1@127.0.0.1:1,127.0.0.1:2/habot", "mult1", "127.0.0.1:2"),
    ],
)
def test_postgres_errors_name_the_database_without_its_password(
    url: str, secret: str, named: str
) -> None:
    with pytest.raises(StoreError) as raised:
        Store(url)
    assert secret not in str(raised.value)
    assert secret not in redacted(url)
    assert named in str(raised.value)
    assert "PostgreSQL at" in redacted(url)


def test_an_old_sqlite_database_is_migrated_and_its_stuck_run_swept(tmp_path: Path) -> None:
    """A database of the first schema version (alerts without references, a run left going
    by a habot that stopped before runs had owners): every step applies, nothing is lost, and
    the old run is reported interrupted by the first sweep, its cluster freed."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(schema.SQLITE_BASE)
    db.executescript(schema.SQLITE_MIGRATIONS[0])
    db.execute("PRAGMA user_version=1")
    db.execute(
        "INSERT INTO requests (id, cluster, runbook, params, requester, channel, created, "
        "expires, approvals_needed, plan_fingerprint, state) "
        "VALUES ('old', 'mycluster', 'failover', '[]', 'UALICE', 'C', 1, 2, 1, 'f', 'running')"
    )
    db.execute("INSERT INTO cluster_locks VALUES ('mycluster', 'old', 'failover', 1)")
    db.execute(
        "INSERT INTO alerts (key, cluster, state, body) VALUES (?,?,?,?)",
        ("no-stonith", "mycluster", "open", json.dumps(asdict(alert()), default=str)),
    )
    db.commit()
    db.close()
    store = Store(path)
    try:
        kept = store.alert("mycluster", "no-stonith")
        assert kept is not None
        assert store.alert_by_ref(kept.ref) is not None  # its reference was filled in
        assert [r.id for r in store.interrupt_silent(before=NOW)] == ["old"]
        assert store.cluster_lock("mycluster") is None
        (version,) = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()
        assert version == schema.VERSION
    finally:
        store.close()


@pytest.mark.postgres
def test_a_lost_postgres_connection_is_made_again(postgres: postgres_server.Server) -> None:
    """The server drops habot's connection (a restart, a failover of the database): the call
    that finds it gone fails with a StoreError, the next one connects again."""
    import psycopg

    url = postgres_server.fresh_database(postgres)
    store = Store(url)
    try:
        store.put("k", "v")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name='habot' AND pid != pg_backend_pid()"
            )
        with pytest.raises(StoreError, match="cannot be read"):
            store.get("k")
        assert store.get("k") == "v"
    finally:
        store.close()


def test_the_database_clock_is_the_fleets(store: Store) -> None:
    """Heartbeats and sweeps read the database's clock: one clock for every replica."""
    import time

    before = time.time()
    now = store.now()
    after = time.time()
    assert before - 1 <= now <= after + 1  # this machine's clock and the server's agree
    assert store.now() >= now


CLOSE_UNDER_WRITERS = """
import random, sys, threading, time
from habot.store import Store, StoreError

refused = 0
for round_ in range(int(sys.argv[2])):
    store = Store(sys.argv[1])
    outcomes: list[str] = []

    def write(name: str) -> None:
        try:
            for i in range(1_000_000):
                store.put(f"{name}-{i % 50}", "x" * 200)
                store.get(f"{name}-{i % 50}")
        except StoreError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(0.005, 0.03))
    store.close()
    for t in threads:
        t.join()
    refused += len(outcomes)
print(refused)
"""


def test_closing_while_threads_write_waits_for_them_then_refuses(database: str) -> None:
    """At a stop the store is closed while cancelled tasks' threads may still be inside a
    statement: the close waits for it, and what comes after gets a StoreError — the process
    never crashes. Run in a process of its own: the crash this guards against is the
    interpreter's (SIGSEGV), which would take the test run with it."""
    rounds = 15
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_UNDER_WRITERS, database, str(rounds)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert int(done.stdout) == 2 * rounds  # every writer was refused, none was cut
