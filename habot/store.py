"""SQLite (WAL): approval requests, runs and the cluster lock, the audit log, alert state.

Writes that decide something (an approval, taking the cluster) are compare-and-set statements
inside BEGIN IMMEDIATE, so two clicks, two approvers or two habot replicas decide once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from habot.alerts.lifecycle import Alert, Delivery, alert_ref
from habot.alerts.lifecycle import State as AlertState
from habot.approvals.model import Request, State
from habot.errors import HabotError

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, cluster TEXT NOT NULL, runbook TEXT NOT NULL, params TEXT NOT NULL,
    requester TEXT NOT NULL, channel TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    approvals_needed INTEGER NOT NULL, plan_fingerprint TEXT NOT NULL, state TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '', message_ts TEXT NOT NULL DEFAULT '',
    card TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS approvals (
    request_id TEXT NOT NULL, user TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (request_id, user));
CREATE TABLE IF NOT EXISTS cluster_locks (
    cluster TEXT PRIMARY KEY, request_id TEXT NOT NULL, runbook TEXT NOT NULL, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, cluster TEXT NOT NULL,
    event TEXT NOT NULL, request_id TEXT NOT NULL DEFAULT '', user TEXT NOT NULL DEFAULT '',
    node TEXT NOT NULL DEFAULT '', argv TEXT NOT NULL DEFAULT '', rc INTEGER,
    duration REAL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT NOT NULL, cluster TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (cluster, key));
"""
# Each entry brings a database from one schema version to the next (PRAGMA user_version).
MIGRATIONS = (
    """ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN ref TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN retry_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX IF NOT EXISTS alerts_ref ON alerts (ref);
    CREATE INDEX IF NOT EXISTS alerts_delivery ON alerts (cluster, delivery, retry_at);""",
    "ALTER TABLE audit ADD COLUMN node_user TEXT NOT NULL DEFAULT ''",
)


class StoreError(HabotError):
    """The database could not be opened or written."""


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
    def __init__(self, path: Path | str) -> None:
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._migrate()
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the database {path}: {e}") from e
        self._lock = threading.Lock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise StoreError(f"the database cannot be written: {e}") from e
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise StoreError(f"the database cannot be written: {e}") from e
                raise

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS[version:], version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
            self._backfill_refs()

    def _backfill_refs(self) -> None:
        rows = self._db.execute("SELECT cluster, key FROM alerts WHERE ref=''").fetchall()
        for cluster, key in rows:
            self._db.execute(
                "UPDATE alerts SET ref=? WHERE cluster=? AND key=?",
                (alert_ref(cluster, key), cluster, key),
            )

    def close(self) -> None:
        self._db.close()

    # -- requests -------------------------------------------------------------------------

    def add_request(self, r: Request) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'[]')",
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
                ),
            )

    def request(self, request_id: str) -> Request | None:
        row = self._db.execute("SELECT * FROM requests WHERE id=?", (request_id,)).fetchone()
        if row is None:
            return None
        approvals = tuple(
            u
            for (u,) in self._db.execute(
                "SELECT user FROM approvals WHERE request_id=? ORDER BY at, user", (request_id,)
            )
        )
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
        )

    def set_message(self, request_id: str, ts: str, card: Sequence[object] = ()) -> None:
        """Where the request's card was posted, and its blocks (to update it later)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE requests SET message_ts=?, card=? WHERE id=?",
                (ts, json.dumps(list(card)), request_id),
            )

    def card(self, request_id: str) -> list[dict[str, Any]]:
        row = self._db.execute("SELECT card FROM requests WHERE id=?", (request_id,)).fetchone()
        return [] if row is None else list(json.loads(row[0]))

    def record_approval(self, request: Request, user: str, at: float) -> bool:
        """Store one approval and, when it completes the request, the state change: both only
        if the request is still waiting (compare-and-set). False when someone else won."""
        with self._transaction() as db:
            state = db.execute("SELECT state FROM requests WHERE id=?", (request.id,)).fetchone()
            if state is None or state[0] != State.REQUESTED.value:
                return False
            added = db.execute(
                "INSERT OR IGNORE INTO approvals VALUES (?,?,?)", (request.id, user, at)
            ).rowcount
            if not added:
                return False
            db.execute(
                "UPDATE requests SET state=?, decided_by=? WHERE id=? AND state=?",
                (request.state.value, request.decided_by, request.id, State.REQUESTED.value),
            )
            return True

    def transition(
        self, request_id: str, before: Sequence[State], after: State, decided_by: str | None = None
    ) -> bool:
        """Compare-and-set the request's state; False when it was not in `before`."""
        marks = ",".join("?" for _ in before)
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE requests SET state=?, decided_by=COALESCE(?, decided_by) "  # noqa: S608
                f"WHERE id=? AND state IN ({marks})",
                (after.value, decided_by, request_id, *(s.value for s in before)),
            )
            return cursor.rowcount == 1

    def requests_in(self, state: State) -> list[Request]:
        ids = [
            i for (i,) in self._db.execute("SELECT id FROM requests WHERE state=?", (state.value,))
        ]
        return [r for i in ids if (r := self.request(i)) is not None]

    # -- the one-run-per-cluster lock ------------------------------------------------------

    def take_cluster(
        self,
        cluster: str,
        request_id: str,
        runbook: str,
        now: float,
    ) -> ClusterLock | None:
        """Take the cluster for a run; None on success, else the lock that holds it."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM cluster_locks WHERE cluster=?", (cluster,)).fetchone()
            if row is not None:
                return ClusterLock(*row)
            db.execute(
                "INSERT INTO cluster_locks VALUES (?,?,?,?)", (cluster, request_id, runbook, now)
            )
            return None

    def release_cluster(self, cluster: str, request_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM cluster_locks WHERE cluster=? AND request_id=?", (cluster, request_id)
            )

    # -- audit ----------------------------------------------------------------------------

    def audit(
        self,
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
        with self._transaction() as db:
            db.execute(
                "INSERT INTO audit (at, cluster, event, request_id, user, node, argv, rc, "
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

    def audit_log(self, limit: int = 20, request_id: str | None = None) -> list[AuditEntry]:
        query = "SELECT * FROM audit"
        args: tuple[Any, ...] = ()
        if request_id is not None:
            query += " WHERE request_id=?"
            args = (request_id,)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
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
        row = self._db.execute(
            "SELECT body, version FROM alerts WHERE cluster=? AND key=?", (cluster, key)
        ).fetchone()
        return None if row is None else _alert(*row)

    def alert_by_ref(self, ref: str) -> Alert | None:
        row = self._db.execute("SELECT body, version FROM alerts WHERE ref=?", (ref,)).fetchone()
        return None if row is None else _alert(*row)

    def alerts(self, cluster: str, *, active_only: bool = True) -> list[Alert]:
        query = "SELECT body, version FROM alerts WHERE cluster=?"
        if active_only:
            query += " AND state != 'resolved'"
        return [_alert(*row) for row in self._db.execute(query, (cluster,))]

    def alerts_to_deliver(self, cluster: str, now: float) -> list[Alert]:
        """Cards still to post or update, due now (failed ones wait for their retry time)."""
        rows = self._db.execute(
            "SELECT body, version FROM alerts WHERE cluster=? AND delivery != '' AND retry_at<=?"
            " ORDER BY retry_at",
            (cluster, now),
        )
        return [_alert(*row) for row in rows]

    def save_poll(self, alerts: Sequence[Alert], values: Mapping[str, str]) -> bool:
        """A poll's alerts and cursors, together, each alert compare-and-set on the version
        it was read at: False (and nothing written) when one changed meanwhile."""
        try:
            with self._transaction() as db:
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
        with self._transaction() as db:
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
        row = self._db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO kv VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )


def _put_alert(db: sqlite3.Connection, a: Alert) -> bool:
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
    data["state"] = AlertState(data["state"])
    data["delivery"] = Delivery(data.get("delivery", ""))
    data["version"] = version
    return Alert(**data)
