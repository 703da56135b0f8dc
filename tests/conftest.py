"""Fixtures shared by the whole suite: a clean environment, and the real two-node lab."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from habot.config import HabotConfig, load_config
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from habot.store import Store
from tests.fakes.slack_server import FakeSlack
from tests.ssh.conftest import sshd  # noqa: F401  (the tests' own OpenSSH server, for all)
from tests.store import postgres_server

pytest_plugins = ["tests.shards"]

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CLEARED_PREFIXES = ("SLACK_", "HABOT_")
LAB_NAMES = ("HABOT_LAB_DIR", "HABOT_LAB_ID")  # which lab this run's lab tests use
CLEARED_NAMES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Slack token, habot setting or proxy from the developer's shell leaks into a test."""
    for name in list(os.environ):
        habot_setting = name.startswith(CLEARED_PREFIXES) and name not in LAB_NAMES
        if habot_setting or name in CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def close_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every Store a test opened is closed when it ends, passed or failed: a database
    connection left to the garbage collector would fail whichever test runs then
    (ResourceWarning under `filterwarnings = error`)."""
    opened: list[Store] = []
    original = Store.__init__

    def tracked(self: Store, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", tracked)
    yield
    for store in opened:
        store.close()  # closing twice is harmless


def lab_unavailable() -> str | None:
    """Why this machine cannot run the lab, or None when it can."""
    if os.geteuid() != 0:
        return "the lab needs root"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "no network namespace support (ip netns list failed)"
    return None


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The real two-node cluster, up once for the session, at the seed's configuration."""
    reason = lab_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the lab tests, but {reason}")
        pytest.skip(reason)
    the_lab = Lab(LabLayout.default())
    already_up = the_lab.is_up()
    if already_up:
        the_lab.reset()
    else:
        the_lab.up(lambda line: print(f"lab: {line}"))
    yield the_lab
    if not already_up:
        the_lab.down(lambda line: None, grace=0)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
def lab_config(lab: Lab) -> HabotConfig:
    return load_config(lab.layout.config_file)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Server]:
    """A real PostgreSQL server for the session (Debian's postgresql package)."""
    if postgres_server.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL tests, but PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server.running() as server:
        yield server
