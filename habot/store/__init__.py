"""The store: approval requests, runs and the cluster lock, the audit log, alert state, poller
leases — in SQLite (the embedded default) or PostgreSQL (`HABOT_DATABASE_URL`, for replicas).

Writes that decide something (an approval, taking the cluster, a run's end, an alert's next
version, a lease) are compare-and-set statements inside a write transaction, and write
transactions take turns (SQLite: BEGIN IMMEDIATE; PostgreSQL: one advisory lock), so two
clicks, two approvers or two replicas decide once. The methods are blocking: the service calls
them through `asyncio.to_thread`, never on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import IntEnum
from pathlib import Path
from typing import Any

from habot.alerts.lifecycle import Alert, Delivery, alert_ref
from habot.alerts.lifecycle import State as AlertState
from habot.alerts.windows import Window, WindowState
from habot.approvals.model import Request, State
from habot.errors import StoreError
from habot.store.backends import Database, Tx, open_database, redacted

__all__ = ["AuditEntry", "ClusterLock", "Store", "StoreError", "redacted"]

_REQUEST = (
    "id, cluster, runbook, params, requester, channel, created, expires, approvals_needed, "
    "plan_fingerprint, state, decided_by, message_ts, run_at, preview"
)
_OWNED = (State.APPROVED.value, State.RUNNING.value)  # a replica's, while it beats
_AUDIT = 'id, at, cluster, event, request_id, "user", node, argv, rc, duration, detail, node_user'


class Recorded(IntEnum):
    """What one approval did (falsy: nothing)."""

    NONE = 0  # not stored: decided already, or this person approved already
    COUNTED = 1  # stored; more approvals are needed
    APPROVED = 2  # stored, and it made the request approved


class _Conflict(Exception):
    """A compare-and-set found the row changed: the whole transaction is rolled back."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    cluster: str
    event: str
    request_id: str
    user: str
    node: str
    argv: tuple[str, ...]
    rc: int | None
    duration: float | None
    detail: str
    node_user: str = ""  # who ran the command on the node ("habot via sudo", "root")


@dataclass(frozen=True, slots=True)
class ClusterLock:
    cluster: str
    request_id: str
    runbook: str
    since: float


class Store:
    def __init__(self, target: Path | str) -> None:
        """`target`: a SQLite file (or `sqlite:///path`, `:memory:`), or `postgresql://…`."""
        self._db: Database = open_database(target)
        if self._db.kind == "sqlite":
            self._backfill_refs()

    @property
    def kind(self) -> str:
        return self._db.kind

    def _backfill_refs(self) -> None:
        """Alerts stored before card references existed get theirs."""
        rows = self._db.read("SELECT cluster, key FROM alerts WHERE ref=''")
        if rows:
            with self._db.transaction() as db:
                for cluster, key in rows:
                    db.execute(
                        "UPDATE alerts SET ref=? WHERE cluster=? AND key=?",
                        (alert_ref(cluster, key), cluster, key),
                    )

    def ping(self) -> None:
        """StoreError unless the database answers (readiness)."""
        self._db.read("SELECT 1")

    def now(self) -> float:
        """The database's own clock (seconds since the epoch): the one clock every replica
        shares, for heartbeats and sweeps — a replica whose clock is off, or that was
        paused, cannot make a live run look silent or a dead one look alive."""
        query = (
            "SELECT extract(epoch from clock_timestamp())::float8"
            if self._db.kind == "postgresql"
            else "SELECT (julianday('now') - 2440587.5) * 86400.0"
        )
        return float(self._db.read(query)[0][0])

    def close(self) -> None:
        self._db.close()

    # -- requests -------------------------------------------------------------------------

    def add_request(self, r: Request) -> None:
        with self._db.transaction() as db:
            db.execute(
                f"INSERT INTO requests ({_REQUEST}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    r.id,
                    r.cluster,
                    r.runbook,
                    json.dumps(r.params),
                    r.requester,
                    r.channel,
                    r.created,
                    r.expires,
                    r.approvals_needed,
                    r.plan_fingerprint,
                    r.state.value,
                    r.decided_by,
                    r.message_ts,
                    r.run_at,
                    r.preview,
                ),
            )

    def request(self, request_id: str) -> Request | None:
        rows = self._db.read(f"SELECT {_REQUEST} FROM requests WHERE id=?", (request_id,))  # noqa: S608
        if not rows:
            return None
        approvals = self._db.read(
            'SELECT "user" FROM approvals WHERE request_id=? ORDER BY at, "user"', (request_id,)
        )
        return _request(rows[0], tuple(u for (u,) in approvals))

    def set_message(self, request_id: str, ts: str, card: Sequence[object] = ()) -> None:
        """Where the request's card was posted, and its blocks (to update it later)."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE requests SET message_ts=?, card=? WHERE id=?",
                (ts, json.dumps(list(card)), request_id),
            )

    def card(self, request_id: str) -> list[dict[str, Any]]:
        rows = self._db.read("SELECT card FROM requests WHERE id=?", (request_id,))
        return [] if not rows else list(json.loads(rows[0][0]))

    def record_approval(self, request: Request, user: str, at: float, owner: str = "") -> Recorded:
        """Store one approval and, when the approvals stored (counted here, inside the same
        transaction, never from a copy read before it) reach the number needed, the request
        becomes approved: both only if it is still waiting (compare-and-set). NONE (falsy)
        when someone else won, or `user` approved already; APPROVED only for the one approval
        that made the request approved — the one click that runs it. An approved request
        belongs to `owner` (the replica that recorded the last approval) from `at`."""
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT state, run_at FROM requests WHERE id=?", (request.id,)
            ).fetchone()
            if row is None or row[0] != State.REQUESTED.value:
                return Recorded.NONE
            # a scheduled run is approved ahead: it waits for its time, nobody's to run now
            target = State.SCHEDULED if row[1] else State.APPROVED
            added = db.execute(
                "INSERT INTO approvals VALUES (?,?,?) ON CONFLICT DO NOTHING",
                (request.id, user, at),
            ).rowcount
            if not added:
                return Recorded.NONE
            (count,) = db.execute(
                "SELECT COUNT(*) FROM approvals WHERE request_id=?", (request.id,)
            ).fetchone()
            if count >= request.approvals_needed:
                approved = db.execute(
                    "UPDATE requests SET state=?, decided_by=?, owner=?, heartbeat=? "
                    "WHERE id=? AND state=?",
                    (target.value, user, owner, at, request.id, State.REQUESTED.value),
                )
                if approved.rowcount == 1:
                    return Recorded.APPROVED
            return Recorded.COUNTED

    def transition(
        self,
        request_id: str,
        before: Sequence[State],
        after: State,
        decided_by: str | None = None,
        *,
        owner: str | None = None,
        now: float = 0.0,
    ) -> bool:
        """Compare-and-set the request's state; False when it was not in `before`. With
        `owner`, the request is that replica's from `now` (an approval it will run)."""
        marks = ",".join("?" for _ in before)
        with self._db.transaction() as db:
            cursor = db.execute(
                f"UPDATE requests SET state=?, decided_by=COALESCE(?, decided_by), "  # noqa: S608
                f"owner=COALESCE(?, owner), heartbeat=CASE WHEN ? THEN ? ELSE heartbeat END "
                f"WHERE id=? AND state IN ({marks})",
                (
                    after.value,
                    decided_by,
                    owner,
                    owner is not None,
                    now,
                    request_id,
                    *(s.value for s in before),
                ),
            )
            return cursor.rowcount == 1

    def requests_in(self, state: State) -> list[Request]:
        ids = self._db.read("SELECT id FROM requests WHERE state=?", (state.value,))
        return [r for (i,) in ids if (r := self.request(i)) is not None]

    # -- runs: their owner replica and its heartbeat ---------------------------------------
    # An approved request belongs to the replica that recorded the approval (it runs it at
    # once); from then until it ends, that replica beats. APPROVED and RUNNING are both "its".

    def start_run(self, request_id: str, owner: str, now: float) -> bool:
        """APPROVED -> RUNNING, owned by `owner` (a replica), heart-beating from `now`."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE requests SET state=?, owner=?, heartbeat=? WHERE id=? AND state=?",
                (State.RUNNING.value, owner, now, request_id, State.APPROVED.value),
            )
            return cursor.rowcount == 1

    def heartbeat(self, owner: str, now: float) -> int:
        """The owner's runs (and approved requests about to run) are alive: how many."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE requests SET heartbeat=? WHERE owner=? AND state IN (?,?)",
                (now, owner, *_OWNED),
            ).rowcount

    def abandon_runs(self, owner: str) -> int:
        """The owner stops (a clean shutdown cut its runs short): its runs stop heart-beating
        now, so the next sweep — of any replica, or of this one after a restart — marks them
        interrupted at once."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE requests SET heartbeat=0 WHERE owner=? AND state IN (?,?)",
                (owner, *_OWNED),
            ).rowcount

    def interrupt_silent(self, before: float) -> list[Request]:
        """Runs whose owner has not heart-beaten since `before`: marked interrupted and their
        cluster released, each by exactly one caller (the ones returned are this caller's)."""
        candidates = self._db.read(
            "SELECT id FROM requests WHERE state IN (?,?) AND owner!='' AND heartbeat<?",
            (*_OWNED, before),
        )
        won = []
        for (request_id,) in candidates:
            with self._db.transaction() as db:
                changed = db.execute(
                    "UPDATE requests SET state=? WHERE id=? AND state IN (?,?) AND owner!='' "
                    "AND heartbeat<?",
                    (State.INTERRUPTED.value, request_id, *_OWNED, before),
                ).rowcount
                if changed:
                    db.execute("DELETE FROM cluster_locks WHERE request_id=?", (request_id,))
            if changed and (request := self.request(request_id)) is not None:
                won.append(request)
        return won

    # -- the one-run-per-cluster lock ------------------------------------------------------

    def take_cluster(
        self,
        cluster: str,
        request_id: str,
        runbook: str,
        now: float,
    ) -> ClusterLock | None:
        """Take the cluster for a run; None on success, else the lock that holds it."""
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT cluster, request_id, runbook, since FROM cluster_locks WHERE cluster=?",
                (cluster,),
            ).fetchone()
            if row is not None:
                return ClusterLock(*row)
            db.execute(
                "INSERT INTO cluster_locks VALUES (?,?,?,?)", (cluster, request_id, runbook, now)
            )
            return None

    def cluster_lock(self, cluster: str) -> ClusterLock | None:
        rows = self._db.read(
            "SELECT cluster, request_id, runbook, since FROM cluster_locks WHERE cluster=?",
            (cluster,),
        )
        return ClusterLock(*rows[0]) if rows else None

    def release_cluster(self, cluster: str, request_id: str) -> None:
        with self._db.transaction() as db:
            db.execute(
                "DELETE FROM cluster_locks WHERE cluster=? AND request_id=?", (cluster, request_id)
            )

    # -- leases: one holder at a time (the poller of a cluster) -----------------------------

    def lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        """Take or renew `name` until now+ttl; False while another holder's lease runs."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO leases (name, holder, expires) VALUES (?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET holder=excluded.holder, "
                "expires=excluded.expires "
                "WHERE leases.holder=excluded.holder OR leases.expires<?",
                (name, holder, now + ttl, now),
            )
            return cursor.rowcount == 1

    def lease_holder(self, name: str, now: float) -> str | None:
        rows = self._db.read("SELECT holder, expires FROM leases WHERE name=?", (name,))
        return str(rows[0][0]) if rows and rows[0][1] >= now else None

    def release_lease(self, name: str, holder: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM leases WHERE name=? AND holder=?", (name, holder))

    # -- audit ----------------------------------------------------------------------------

    def audit_as_owner(self, owner: str, **entry: Any) -> bool:
        """The fencing token of a run: write the audit entry only if `owner` still holds the
        request as a running one — in the same transaction, so a replica whose run was swept
        as interrupted (it was paused, its heartbeat stopped) can never record, and so never
        start, another command. False when it lost the run."""
        with self._db.transaction() as db:
            held = db.execute(
                "SELECT 1 FROM requests WHERE id=? AND owner=? AND state=?",
                (entry.get("request_id", ""), owner, State.RUNNING.value),
            ).fetchone()
            if held is None:
                return False
            self._insert_audit(db, **entry)
            return True

    def audit(self, **entry: Any) -> None:
        """One entry: at, cluster, event; request_id, user, node, node_user, argv, rc,
        duration, detail as they apply."""
        with self._db.transaction() as db:
            self._insert_audit(db, **entry)

    @staticmethod
    def _insert_audit(
        db: Tx,
        *,
        at: float,
        cluster: str,
        event: str,
        request_id: str = "",
        user: str = "",
        node: str = "",
        node_user: str = "",
        argv: Sequence[str] = (),
        rc: int | None = None,
        duration: float | None = None,
        detail: str = "",
    ) -> None:
        db.execute(
            'INSERT INTO audit (at, cluster, event, request_id, "user", node, argv, rc, '
            "duration, detail, node_user) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                at,
                cluster,
                event,
                request_id,
                user,
                node,
                json.dumps(list(argv)) if argv else "",
                rc,
                duration,
                detail[:4000],
                node_user,
            ),
        )

    def audit_log(
        self,
        limit: int = 20,
        request_id: str | None = None,
        clusters: tuple[str, ...] | None = None,
    ) -> list[AuditEntry]:
        """The last `limit` entries (of one request; of these clusters only), oldest first."""
        where: list[str] = []
        args: tuple[Any, ...] = ()
        if request_id is not None:
            where.append("request_id=?")
            args = (request_id,)
        if clusters is not None:
            if not clusters:
                return []
            where.append(f"cluster IN ({', '.join('?' * len(clusters))})")
            args = (*args, *clusters)
        query = f"SELECT {_AUDIT} FROM audit"  # noqa: S608
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = self._db.read(query + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [
            AuditEntry(
                id=r[0],
                at=r[1],
                cluster=r[2],
                event=r[3],
                request_id=r[4],
                user=r[5],
                node=r[6],
                argv=tuple(json.loads(r[7])) if r[7] else (),
                rc=r[8],
                duration=r[9],
                detail=r[10],
                node_user=r[11],
            )
            for r in reversed(rows)
        ]

    # -- alerts ---------------------------------------------------------------------------

    def alert(self, cluster: str, key: str) -> Alert | None:
        rows = self._db.read(
            "SELECT body, version FROM alerts WHERE cluster=? AND key=?", (cluster, key)
        )
        return _alert(*rows[0]) if rows else None

    def alert_by_ref(self, ref: str) -> Alert | None:
        rows = self._db.read("SELECT body, version FROM alerts WHERE ref=?", (ref,))
        return _alert(*rows[0]) if rows else None

    def alerts(self, cluster: str, *, active_only: bool = True) -> list[Alert]:
        query = "SELECT body, version FROM alerts WHERE cluster=?"
        if active_only:
            query += " AND state != 'resolved'"
        return [_alert(*row) for row in self._db.read(query, (cluster,))]

    def alerts_to_deliver(self, cluster: str, now: float) -> list[Alert]:
        """Cards still to post or update, due now (failed ones wait for their retry time); and
        cards marked as being posted, whenever (they may be looked for, not posted again)."""
        rows = self._db.read(
            "SELECT body, version FROM alerts WHERE cluster=? AND delivery != '' AND "
            "(retry_at<=? OR delivery='posting') ORDER BY retry_at",
            (cluster, now),
        )
        return [_alert(*row) for row in rows]

    def save_poll(self, alerts: Sequence[Alert], values: Mapping[str, str]) -> bool:
        """A poll's alerts and cursors, together, each alert compare-and-set on the version
        it was read at: False (and nothing written) when one changed meanwhile."""
        try:
            with self._db.transaction() as db:
                for a in alerts:
                    if not _put_alert(db, a):
                        raise _Conflict(a.key)
                for key, value in values.items():
                    db.execute(
                        "INSERT INTO kv VALUES (?,?) ON CONFLICT(key) DO UPDATE SET "
                        "value=excluded.value",
                        (key, value),
                    )
        except _Conflict:
            return False
        return True

    def change_alert(
        self, cluster: str, key: str, change: Callable[[Alert], Alert | None]
    ) -> Alert | None:
        """Read, change and write one alert atomically; None when it is unknown or `change`
        returned None (nothing written)."""
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT body, version FROM alerts WHERE cluster=? AND key=?", (cluster, key)
            ).fetchone()
            changed = None if row is None else change(_alert(*row))
            if changed is None:
                return None
            _put_alert(db, changed)
            return replace(changed, version=changed.version + 1)

    # -- small named values (alert cursors and the like) ----------------------------------

    def get(self, key: str) -> str | None:
        rows = self._db.read("SELECT value FROM kv WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def put(self, key: str, value: str) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO kv VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def put_new(self, key: str, value: str) -> bool:
        """Set `key` only if it has no value yet: True for the one caller that set it."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO kv VALUES (?,?) ON CONFLICT(key) DO NOTHING", (key, value)
            )
            return cursor.rowcount == 1

    # -- maintenance windows ----------------------------------------------------------------

    def add_window(self, w: Window) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO windows (id, cluster, state, ends, body) VALUES (?,?,?,?,?)",
                (w.id, w.cluster, w.state.value, w.ends, json.dumps(asdict(w))),
            )

    def windows(self, cluster: str | None = None, *, open_only: bool = True) -> list[Window]:
        query, args = "SELECT body FROM windows WHERE 1=1", []
        if cluster is not None:
            query, args = query + " AND cluster=?", [cluster]
        if open_only:
            query += f" AND state='{WindowState.OPEN.value}'"
        return sorted(
            (_window(body) for (body,) in self._db.read(query, args)), key=lambda w: w.starts
        )

    def change_window(self, w: Window, was: WindowState = WindowState.OPEN) -> bool:
        """Store the window as changed, only if it is still in state `was` (compare-and-set:
        of replicas ending it together, one does)."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE windows SET state=?, ends=?, body=? WHERE id=? AND state=?",
                (w.state.value, w.ends, json.dumps(asdict(w)), w.id, was.value),
            )
            return cursor.rowcount == 1

    def window(self, window_id: str) -> Window | None:
        with self._db.transaction() as db:
            row = db.execute("SELECT body FROM windows WHERE id=?", (window_id,)).fetchone()
        return _window(row[0]) if row is not None else None

    def mark_reminded(self, window_id: str) -> bool:
        """True for the one caller that marks it (the reminder is said once)."""
        with self._db.transaction() as db:
            row = db.execute("SELECT body FROM windows WHERE id=?", (window_id,)).fetchone()
            if row is None:
                return False
            w = _window(row[0])
            if w.reminded:
                return False
            cursor = db.execute(
                "UPDATE windows SET body=? WHERE id=? AND body=?",
                (json.dumps(asdict(replace(w, reminded=True))), window_id, row[0]),
            )
            return cursor.rowcount == 1


def _window(body: str) -> Window:
    data = json.loads(body)
    data["state"] = WindowState(data["state"])
    return Window(**data)


def _request(row: Sequence[Any], approvals: tuple[str, ...]) -> Request:
    return Request(
        id=row[0],
        cluster=row[1],
        runbook=row[2],
        params=tuple((str(k), str(v)) for k, v in json.loads(row[3])),
        requester=row[4],
        channel=row[5],
        created=row[6],
        expires=row[7],
        approvals_needed=row[8],
        plan_fingerprint=row[9],
        state=State(row[10]),
        approvals=approvals,
        decided_by=row[11],
        message_ts=row[12],
        run_at=row[13],
        preview=row[14],
    )


def _put_alert(db: Tx, a: Alert) -> bool:
    """Insert (version 0) or update (the version it was read at); False when it moved on."""
    row = (a.state.value, json.dumps(asdict(a)), a.delivery.value, a.retry_at)
    if a.version == 0:
        cursor = db.execute(
            "INSERT INTO alerts (key, cluster, state, body, delivery, retry_at, ref, version) "
            "VALUES (?,?,?,?,?,?,?,1) ON CONFLICT(cluster, key) DO NOTHING",
            (a.key, a.cluster, *row, a.ref),
        )
    else:
        cursor = db.execute(
            "UPDATE alerts SET state=?, body=?, delivery=?, retry_at=?, version=version+1 "
            "WHERE cluster=? AND key=? AND version=?",
            (*row, a.cluster, a.key, a.version),
        )
    return cursor.rowcount == 1


def _alert(body: str, version: int) -> Alert:
    data = json.loads(body)
    data["fields"] = tuple((str(k), str(v)) for k, v in data["fields"])
    data["lines"] = tuple(data["lines"])
    data["episodes"] = tuple(float(t) for t in data.get("episodes", ()))
    data["state"] = AlertState(data["state"])
    data["delivery"] = Delivery(data.get("delivery", ""))
    data["version"] = version
    return Alert(**data)
