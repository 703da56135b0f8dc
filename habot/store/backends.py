"""The two databases a Store can keep its records in, behind one small interface.

- SQLite (the embedded default, one host, one replica): WAL, and every write transaction is
  BEGIN IMMEDIATE, so writers take turns.
- PostgreSQL (several replicas): psycopg 3; every write transaction first takes one
  transaction-scoped advisory lock, so writers take turns across replicas exactly as they do
  on SQLite — the compare-and-set statements above them need nothing else.

SQL is written once, in the dialect both accept (`?` placeholders, `ON CONFLICT`, `"user"`);
the PostgreSQL side turns `?` into `%s`. Both are used from threads (the service calls them
through `asyncio.to_thread`), one statement at a time per connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from habot.errors import StoreError
from habot.store import schema

WRITE_LOCK = 0x68_61_62_6F_74  # "habot": the advisory lock every write transaction takes


class Rows(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows: ...


class Database(Protocol):
    kind: str  # "sqlite" or "postgresql"

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def transaction(self) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...


def redacted(url: str) -> str:
    """The database as logs and errors name it: host, port and database — never the URL,
    which may hold a password in its user part, its query (`?password=`), or characters
    (`#`, `?`) that make a URL parser misplace it."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:  # any parse failure: say nothing of the text
        return "PostgreSQL (the URL in HABOT_DATABASE_URL cannot be read)"
    host = str(info.get("host") or "localhost")
    port = str(info.get("port") or "5432")
    hosts = ", ".join(
        f"{h}:{p}" for h, p in zip(host.split(","), (port.split(",") * 8), strict=False)
    )
    return f"PostgreSQL at {hosts}, database {info.get('dbname') or info.get('user') or '-'}"


def scrubbed(message: object, url: str) -> str:
    """A driver's error text without the URL's secrets (psycopg may quote the connection
    string it could not parse)."""
    text = str(message)
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = str(conninfo_to_dict(url).get("password") or "")
    except Exception:
        return f"{type(message).__name__} (details withheld: they may quote the URL)"
    for secret in (url, password, quote(password)):
        if secret:
            text = text.replace(secret, "***")
    return text


def open_database(target: Path | str) -> Database:
    """`postgresql://…` (or `postgres://…`), `sqlite:///path`, or a plain path (SQLite)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return Postgres(text)
    return Sqlite(text.removeprefix("sqlite://"))


CLOSED = "the database is closed (habot is stopping)"


class Sqlite:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        path = ":memory:" if path.strip("/") == ":memory:" else path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._lock = threading.Lock()
            self._closed = False
            self._db.executescript(schema.SQLITE_BASE)
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            steps = schema.SQLITE_MIGRATIONS[version:]
            for number, script in enumerate(steps, version + 1):
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the database {path}: {e}") from e

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            self._open()
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"the database cannot be read: {e}") from e

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            self._open()
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

    def close(self) -> None:
        """Once the statement under way (in another thread) ends: closing the connection
        under it crashes the interpreter, and a task cancelled at a stop mid-poll leaves its
        thread running."""
        with self._lock:
            self._closed = True
            self._db.close()

    def _open(self) -> None:
        if self._closed:
            raise StoreError(CLOSED)


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        return self._conn.execute(_pg(sql), tuple(args))  # type: ignore[no-any-return]


def _pg(sql: str) -> str:
    if "%" in sql:
        raise ValueError("write SQL without % (the PostgreSQL driver's placeholder)")
    return sql.replace("?", "%s")


class Postgres:
    kind = "postgresql"

    def __init__(self, url: str, connect_timeout: float = 5) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._closed = False
        self._conn: Any = None
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    self._migrate(conn)
            except Exception as e:  # psycopg.Error, and what a broken server says
                raise StoreError(
                    f"cannot prepare the database {redacted(url)}: {scrubbed(e, url)}"
                ) from e

    def _connection(self) -> Any:
        import psycopg  # only a PostgreSQL store needs the driver

        if self._closed:
            raise StoreError(CLOSED)
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        try:
            self._conn = psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, int(self._connect_timeout)),
                application_name="habot",
            )
        except psycopg.Error as e:
            raise StoreError(
                f"cannot connect to {redacted(self._url)}: {scrubbed(e, self._url)}"
            ) from e
        return self._conn

    def _migrate(self, conn: Any) -> None:
        conn.execute(schema.POSTGRES_BASE)
        row = conn.execute("SELECT version FROM habot_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO habot_schema VALUES (%s)", (schema.POSTGRES_BASE_VERSION,))
            version = schema.POSTGRES_BASE_VERSION
        else:
            version = int(row[0])
        if version > schema.VERSION:
            raise StoreError(
                f"the database is at schema version {version}, this habot knows "
                f"{schema.VERSION}: upgrade habot"
            )
        for number in range(version + 1, schema.VERSION + 1):
            for statement in schema.POSTGRES_MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("UPDATE habot_schema SET version=%s", (number,))

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with self._lock:
            try:
                return list(self._connection().execute(_pg(sql), tuple(args)).fetchall())
            except psycopg.Error as e:
                raise StoreError(f"the database cannot be read: {scrubbed(e, self._url)}") from e

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        import psycopg

        with self._lock:
            try:
                conn = self._connection()
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    yield _PgTx(conn)
            except psycopg.Error as e:
                raise StoreError(f"the database cannot be written: {scrubbed(e, self._url)}") from e

    def close(self) -> None:
        """Once the statement under way ends; nothing reconnects after it."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
