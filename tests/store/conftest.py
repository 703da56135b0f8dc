"""The store on both backends: SQLite in a temporary file, and a real PostgreSQL server (one
per test session) with a fresh database per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from habot.store import Store
from tests.store import postgres_server

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Server]:
    if postgres_server.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL tests, but PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server.running() as server:
        yield server


def fresh_database(server: postgres_server.Server) -> str:
    import psycopg

    name = f"habot_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A target for Store(): a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("db") / "habot.sqlite3")
    server: postgres_server.Server = request.getfixturevalue("postgres")
    return fresh_database(server)


@pytest.fixture
def stores(database: str) -> Iterator[Callable[[], Store]]:
    """Stores on one database, as many as a test wants (each its own connection, as each
    replica has), closed after the test."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(Store(database))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(stores: Callable[[], Store]) -> Store:
    return stores()
