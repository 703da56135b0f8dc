"""The database schema, per backend, and the migrations between its versions.

SQLite (the embedded default) keeps its version in `PRAGMA user_version` and has every
migration since the first schema. PostgreSQL starts at the current schema in one script and
keeps its version in `habot_schema`; a later version adds its step to both lists. Each step is
applied in one transaction, by one process at a time (PostgreSQL: under an advisory lock)."""

from __future__ import annotations

SQLITE_BASE = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, cluster TEXT NOT NULL, runbook TEXT NOT NULL, params TEXT NOT NULL,
    requester TEXT NOT NULL, channel TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    approvals_needed INTEGER NOT NULL, plan_fingerprint TEXT NOT NULL, state TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '', message_ts TEXT NOT NULL DEFAULT '',
    card TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS approvals (
    request_id TEXT NOT NULL, "user" TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (request_id, "user"));
CREATE TABLE IF NOT EXISTS cluster_locks (
    cluster TEXT PRIMARY KEY, request_id TEXT NOT NULL, runbook TEXT NOT NULL, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, cluster TEXT NOT NULL,
    event TEXT NOT NULL, request_id TEXT NOT NULL DEFAULT '', "user" TEXT NOT NULL DEFAULT '',
    node TEXT NOT NULL DEFAULT '', argv TEXT NOT NULL DEFAULT '', rc INTEGER,
    duration REAL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT NOT NULL, cluster TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (cluster, key));
"""
# Version N is reached by applying SQLITE_MIGRATIONS[N-1].
SQLITE_MIGRATIONS = (
    # 1: the alert outbox (compare-and-set versions, card references, delivery state)
    """ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN ref TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN retry_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX IF NOT EXISTS alerts_ref ON alerts (ref);
    CREATE INDEX IF NOT EXISTS alerts_delivery ON alerts (cluster, delivery, retry_at);""",
    # 2: the node user each command ran as
    "ALTER TABLE audit ADD COLUMN node_user TEXT NOT NULL DEFAULT ''",
    # 3: replicas: each run's owner and heartbeat; leases (poller leadership)
    """ALTER TABLE requests ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE requests ADD COLUMN heartbeat REAL NOT NULL DEFAULT 0;
    CREATE INDEX IF NOT EXISTS requests_state ON requests (state);
    CREATE TABLE IF NOT EXISTS leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL);
    UPDATE requests SET owner='(before replicas)', heartbeat=0
        WHERE state IN ('approved', 'running');""",
    # 4: scheduled runs: their time, and their preview when asked
    """ALTER TABLE requests ADD COLUMN run_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN preview TEXT NOT NULL DEFAULT '';
    CREATE INDEX IF NOT EXISTS requests_run_at ON requests (state, run_at);""",
    # 5: maintenance windows
    """CREATE TABLE IF NOT EXISTS windows (
        id TEXT PRIMARY KEY, cluster TEXT NOT NULL, state TEXT NOT NULL, ends REAL NOT NULL,
        body TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS windows_state ON windows (cluster, state);""",
)
# (the last step: runs left by a habot from before owners existed are silent at once, so the
# first sweep reports them interrupted and frees their clusters, as a restart always did)
VERSION = len(SQLITE_MIGRATIONS)

POSTGRES_BASE = """
CREATE TABLE IF NOT EXISTS habot_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, cluster TEXT NOT NULL, runbook TEXT NOT NULL, params TEXT NOT NULL,
    requester TEXT NOT NULL, channel TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL, approvals_needed INTEGER NOT NULL,
    plan_fingerprint TEXT NOT NULL, state TEXT NOT NULL, decided_by TEXT NOT NULL DEFAULT '',
    message_ts TEXT NOT NULL DEFAULT '', card TEXT NOT NULL DEFAULT '[]',
    owner TEXT NOT NULL DEFAULT '', heartbeat DOUBLE PRECISION NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS requests_state ON requests (state);
CREATE TABLE IF NOT EXISTS approvals (
    request_id TEXT NOT NULL, "user" TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (request_id, "user"));
CREATE TABLE IF NOT EXISTS cluster_locks (
    cluster TEXT PRIMARY KEY, request_id TEXT NOT NULL, runbook TEXT NOT NULL,
    since DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at DOUBLE PRECISION NOT NULL,
    cluster TEXT NOT NULL, event TEXT NOT NULL, request_id TEXT NOT NULL DEFAULT '',
    "user" TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '',
    argv TEXT NOT NULL DEFAULT '', rc INTEGER, duration DOUBLE PRECISION,
    detail TEXT NOT NULL DEFAULT '', node_user TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS audit_request ON audit (request_id);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT NOT NULL, cluster TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0, ref TEXT NOT NULL DEFAULT '',
    delivery TEXT NOT NULL DEFAULT '', retry_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (cluster, key));
CREATE INDEX IF NOT EXISTS alerts_ref ON alerts (ref);
CREATE INDEX IF NOT EXISTS alerts_delivery ON alerts (cluster, delivery, retry_at);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL);
"""
POSTGRES_BASE_VERSION = 3  # the SQLite version POSTGRES_BASE equals
# Version N (> POSTGRES_BASE_VERSION) is reached by applying POSTGRES_MIGRATIONS[N].
POSTGRES_MIGRATIONS: dict[int, str] = {
    4: """ALTER TABLE requests ADD COLUMN run_at DOUBLE PRECISION NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN preview TEXT NOT NULL DEFAULT '';
    CREATE INDEX IF NOT EXISTS requests_run_at ON requests (state, run_at);""",
    5: """CREATE TABLE IF NOT EXISTS windows (
        id TEXT PRIMARY KEY, cluster TEXT NOT NULL, state TEXT NOT NULL,
        ends DOUBLE PRECISION NOT NULL, body TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS windows_state ON windows (cluster, state);""",
}
