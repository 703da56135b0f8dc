"""The store on both backends: SQLite in a temporary file, and a real PostgreSQL server (one
per test session) with a fresh database per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from habot.store import Store
from tests.store import postgres_server
from tests.store.postgres_server import fresh_database


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
