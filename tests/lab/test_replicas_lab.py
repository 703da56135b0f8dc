"""Three `habot serve` processes on one PostgreSQL database and the lab: requests and clicks
sent round-robin; the polling leader killed with SIGKILL (another takes over, the
missing-STONITH alert is posted exactly once); the replica running a failover killed (a
survivor reports it interrupted, nothing runs again); the replica that took a scheduled run
killed before its time (a survivor runs it, once)."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml

from habot.lab.lab import Lab
from habot.slack import scheduled
from habot.slack.approval_blocks import APPROVE
from habot.store import AuditEntry, Store
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import (
    configure_seed_fencing,
    crm_mon,
    resource_nodes,
    seed_running,
    wait_for,
)
from tests.packaging.serving import Served, environment, serve
from tests.slack.harness import click_payload, signed_headers, slash_payload
from tests.ssh.server import free_port
from tests.store import postgres_server
from tests.store.postgres_server import fresh_database

pytestmark = [pytest.mark.lab, pytest.mark.postgres]
ALERTS = "CALERTS"
OPS = "COPS"
INTERVAL_S = 2.0


@dataclass
class Replica:
    name: str
    port: int
    served: Served

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def killed(self) -> None:
        self.served.process.send_signal(signal.SIGKILL)


@dataclass
class Fleet:
    replicas: list[Replica]
    database: str
    fake: FakeSlack

    async def leader(self, timeout: float = 60) -> Replica:
        """The replica that logged taking the cluster's polls (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for replica in self.replicas:
                if any("polls it now" in line for line in replica.served.log):
                    return replica
            await asyncio.sleep(0.1)
        raise AssertionError("no replica took the polls")


def lab_config_for_replicas(lab: Lab, directory: Path) -> Path:
    """The lab's config, alerts every 2 s into CALERTS, approvals from COPS."""
    config = yaml.safe_load(lab.layout.config_file.read_text())
    config["allowed_channels"] = [OPS, ALERTS]
    cluster = config["clusters"]["mycluster"]
    cluster["alerts_channel"] = ALERTS
    cluster["alerts"] = {"interval_s": INTERVAL_S, "lookback_s": 60}
    path = directory / "habot.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def drain(replica: Replica) -> None:
    """Keep reading a replica's log (its pipe must never fill), until it ends."""
    assert replica.served.process.stderr is not None
    while raw := await replica.served.process.stderr.readline():
        replica.served.log.append(raw.decode(errors="replace"))


@pytest.fixture
async def fleet(
    lab: Lab, postgres: postgres_server.Server, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Fleet]:
    database = fresh_database(postgres)
    Store(database).close()  # the schema, once, before three replicas start
    config = lab_config_for_replicas(lab, tmp_path)
    habot = shutil.which("habot", path=str(Path(sys.executable).parent))
    assert habot is not None
    replicas: list[Replica] = []
    readers = []
    try:
        for number in range(1, 4):
            port = free_port()
            env = environment(fake_slack, config, tmp_path / f"unused-{number}.sqlite3", port)
            env["HABOT_DATABASE_URL"] = database
            served = await serve([habot, "serve"], env)
            replica = Replica(f"replica-{number}", port, served)
            replicas.append(replica)
            readers.append(asyncio.create_task(drain(replica)))
        for replica in replicas:
            await _listening(replica)
    except BaseException:  # none left running to poll a later test's lab
        for replica in replicas:
            if replica.served.process.returncode is None:
                replica.killed()
                await replica.served.process.wait()
        raise
    yield Fleet(replicas, database, fake_slack)
    for replica in replicas:
        if replica.served.process.returncode is None:
            replica.served.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        try:
            await asyncio.wait_for(replica.served.process.wait(), 30)
        except TimeoutError:
            replica.killed()
            await replica.served.process.wait()
    await asyncio.gather(*readers, return_exceptions=True)
    for replica in replicas:
        assert "Traceback" not in "".join(replica.served.log), replica.served.log[-30:]


async def _listening(replica: Replica, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any("listening on" in line for line in replica.served.log):
        if time.monotonic() > deadline or replica.served.process.returncode is not None:
            raise AssertionError(f"{replica.name} did not start: {replica.served.log[-20:]}")
        await asyncio.sleep(0.1)


async def command(
    session: aiohttp.ClientSession, fake: FakeSlack, replica: Replica, text: str
) -> int:
    body = urlencode(slash_payload(fake, text, user="UALICE", channel=OPS))
    async with session.post(replica.url, data=body, headers=signed_headers(body)) as response:
        await response.read()
        return response.status


async def click(session: aiohttp.ClientSession, replica: Replica, payload: dict[str, Any]) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    async with session.post(replica.url, data=body, headers=signed_headers(body)) as response:
        await response.read()
        return response.status


async def approval_card(
    session: aiohttp.ClientSession, fleet: Fleet, replica: Replica, text: str
) -> tuple[dict[str, Any], str]:
    """`/ha TEXT` to one replica: the approval card it posted, and its request id."""
    before = len(fleet.fake.calls_to("chat.postMessage"))
    assert await command(session, fleet.fake, replica, text) == 200
    posts = await fleet.fake.wait_for(
        "the approval card",
        lambda: [
            c
            for c in fleet.fake.calls_to("chat.postMessage")[before:]
            if c.params.get("channel") == OPS and "request `" in json.dumps(c.params)
        ],
    )
    card = {"ts": posts[0].answer["ts"], "blocks": posts[0].params["blocks"]}
    return card, json.dumps(card["blocks"]).split("request `")[1].split("`")[0]


def alert_cards(fake: FakeSlack, key: str) -> list[Any]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == ALERTS and f"`{key}`" in json.dumps(c.params)
    ]


async def test_the_polling_leader_killed_another_takes_over_and_posts_once(
    lab: Lab, fleet: Fleet
) -> None:
    lab.reset()  # the seed: no STONITH, and the error it makes
    leader = await fleet.leader()
    killed_at = time.monotonic()
    leader.killed()  # mid-poll: it took the lease a moment ago and polls at once
    await leader.served.process.wait()
    survivors = [r for r in fleet.replicas if r is not leader]

    def took_over() -> list[Replica]:
        return [r for r in survivors if any("polls it now" in ln for ln in r.served.log)]

    while not took_over():
        assert time.monotonic() - killed_at < 4 * INTERVAL_S + 10, "no takeover"
        await asyncio.sleep(0.1)
    takeover_s = time.monotonic() - killed_at
    await fleet.fake.wait_for(
        "the missing-STONITH card", lambda: alert_cards(fleet.fake, "no-stonith"), timeout=60
    )
    await asyncio.sleep(3 * INTERVAL_S)  # more polls by the new leader: no second card
    assert len(alert_cards(fleet.fake, "no-stonith")) == 1
    assert takeover_s <= 2 * INTERVAL_S * 1.5 + 2  # the lease (1.5 intervals) and one check


async def test_the_replica_running_a_failover_killed_a_survivor_says_so_once(
    lab: Lab, fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    source = seed_running(lab)
    target = "nodo2" if source == "nodo1" else "nodo1"
    first = fleet.replicas[0]
    fleet.fake.hold("chat.postMessage", 1.0, OPS)  # the clicks come before `first` heard back
    card, request_id = await approval_card(session, fleet, first, f"failover VirtualIP {target}")
    clicks = [  # three approvers at once, one on each replica
        click(session, replica, click_payload(fleet.fake, card, OPS, APPROVE, user))
        for replica, user in zip(fleet.replicas, ("UBOB", "UCAROL", "UDAVE"), strict=True)
    ]
    assert await asyncio.gather(*clicks) == [200, 200, 200]

    def thread() -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in fleet.fake.calls_to("chat.postMessage")
            if c.params.get("thread_ts") == card["ts"]
        ]

    store = Store(fleet.database)
    try:  # closed whatever happens: a connection left to the collector fails a later test
        started = await _run_started(store, request_id)
        runner = next(r for r in fleet.replicas if f":{r.served.process.pid}:" in started.detail)
        runner.killed()  # mid-run
        await runner.served.process.wait()
        commands = len([e for e in store.audit_log(500, request_id) if e.event == "command"])
        said = await fleet.fake.wait_for(
            "a survivor to report the run interrupted",
            lambda: [t for t in thread() if "marked interrupted" in t],
            timeout=60,
        )
        await asyncio.sleep(6)  # another sweep of both survivors: still said once
        assert len([t for t in thread() if "marked interrupted" in t]) == len(said) == 1
        final = store.request(request_id)
        assert final is not None
        assert final.state.value == "interrupted"
        after = [e for e in store.audit_log(500, request_id) if e.event == "command"]
        assert len(after) == commands  # nothing ran after the kill, nothing ran again
        assert store.cluster_lock("mycluster") is None
    finally:
        store.close()
        lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)
    assert [r.served.process.returncode for r in fleet.replicas if r is not runner] == [None] * 2


async def _run_started(store: Store, request_id: str, timeout: float = 60) -> AuditEntry:
    """The audit's "run started" of the request: it names the replica (host:PID:id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in store.audit_log(100, request_id) if e.event == "run started"]
        if found:
            assert len(found) == 1  # three approvals at once: one run
            return found[0]
        await asyncio.sleep(0.05)
    said = [f"{e.event}: {e.user} {e.detail}" for e in store.audit_log(100, request_id)]
    raise AssertionError(f"the run did not start; the request's audit: {said}")


async def test_a_runner_paused_past_the_sweep_runs_nothing_after_it_resumes(
    lab: Lab, fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    """SIGSTOP the replica running failover-test as its first command starts (a VM freeze,
    swap, Ctrl-Z): a survivor's sweep marks the run interrupted and frees the cluster; SIGCONT
    it — the move it had sent comes back, and not one command more starts (the site check,
    the move back): each needs the fencing token it lost."""
    lab.reset()
    configure_seed_fencing(lab)
    seed_running(lab)
    first = fleet.replicas[0]
    card, request_id = await approval_card(session, fleet, first, "runbook failover-test")
    payload = click_payload(fleet.fake, card, OPS, APPROVE, "UBOB")
    store = Store(fleet.database)
    runner: Replica | None = None
    try:
        assert await click(session, first, payload) == 200
        await _command_started(store, request_id)
        runner = first  # the replica that recorded the approval runs it
        runner.served.process.send_signal(signal.SIGSTOP)
        await _state(store, request_id, "interrupted", timeout=60)
        assert store.cluster_lock("mycluster") is None
        started = _started(store, request_id)
        runner.served.process.send_signal(signal.SIGCONT)
        # the move returns, the wait step polls, then the site check would start: it cannot
        deadline = time.monotonic() + 120
        while not any("run lost to a sweep" in line for line in runner.served.log):
            assert time.monotonic() < deadline, runner.served.log[-20:]
            await asyncio.sleep(0.5)
        assert _started(store, request_id) == started  # nothing after the sweep
        final = store.request(request_id)
        assert final is not None
        assert final.state.value == "interrupted"
    finally:
        if runner is not None:
            runner.served.process.send_signal(signal.SIGCONT)
        store.close()
        lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)


def _started(store: Store, request_id: str) -> list[tuple[str, ...]]:
    return [e.argv for e in store.audit_log(500, request_id) if e.event == "command started"]


async def _command_started(store: Store, request_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _started(store, request_id):
        if time.monotonic() > deadline:
            raise AssertionError("no command started")
        await asyncio.sleep(0.02)


async def _state(
    store: Store,
    request_id: str,
    state: str,
    timeout: float,
    why: Callable[[], list[str]] = list,
) -> None:
    """Wait until the request is in `state`; else fail saying where it is (and `why()`)."""
    deadline = time.monotonic() + timeout
    while (found := store.request(request_id)) is None or found.state.value != state:
        if time.monotonic() > deadline or (found is not None and found.state.value in ENDED):
            raise AssertionError(f"the request is {found.state.value if found else None}: {why()}")
        await asyncio.sleep(0.2)


ENDED = (
    "succeeded",
    "failed",
    "refused",
    "interrupted",
    "missed",
    "expired",
    "denied",
    "cancelled",
)


def thread(fleet: Fleet, card: dict[str, Any]) -> Callable[[], list[str]]:
    """What was said in the card's thread so far, when called."""
    return lambda: [
        str(c.params.get("text", ""))
        for c in fleet.fake.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == card["ts"]
    ]


async def test_a_scheduled_run_outlives_the_replica_that_took_it_and_runs_once(
    lab: Lab, fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    """A failover scheduled 30 s ahead through one replica, approved through another; the
    first killed before its time: at the time one survivor runs it, once, in the card's
    thread, and VirtualIP lands where it was asked to."""
    lab.reset()
    configure_seed_fencing(lab)
    # settled first: the preview at the time must move what it moved when it was approved
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite"))
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    at = datetime.fromtimestamp(time.time() + 30, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first, second = fleet.replicas[0], fleet.replicas[1]
    card, request_id = await approval_card(
        session, fleet, first, f"schedule failover VirtualIP {target} at {at}"
    )
    assert f"Scheduled for {at[:10]}" in json.dumps(card["blocks"])
    store = Store(fleet.database)
    try:
        payload = click_payload(fleet.fake, card, OPS, APPROVE, "UBOB")
        assert await click(session, second, payload) == 200
        await _state(store, request_id, "scheduled", timeout=30)
        first.killed()  # before its time: the run is the store's, not this process's
        await first.served.process.wait()
        await _state(store, request_id, "succeeded", timeout=150, why=thread(fleet, card))
        started = [e for e in store.audit_log(200, request_id) if e.event == "run started"]
        assert len(started) == 1
        assert f":{first.served.process.pid}:" not in started[0].detail
        await asyncio.sleep(2 * scheduled.TICK_S)  # every survivor looked again: still once
        assert [e.event for e in store.audit_log(200, request_id)].count("run started") == 1
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
    finally:
        store.close()
        lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)
