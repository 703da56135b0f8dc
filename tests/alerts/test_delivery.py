"""Each alert once: none lost, none repeated — on the scripted transport (no lab), with the
real poller, store, and (where Slack's answers matter) the real Slack sink and the fake Slack."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert, Delivery
from habot.alerts.logline import LogLine
from habot.alerts.rules import Catalogue, Rule, load_catalogue
from habot.alerts.sources import JournalSource
from habot.cluster.live import STATUS
from habot.service.alert_delivery import DeliveryError
from habot.service.alert_poller import Poller
from habot.slack import alert_blocks
from habot.slack.alert_sink import SlackAlertSink
from habot.store import Store, StoreError
from tests.fakes.cluster import CRM_MON, NO_STONITH, Scene, journal, scene, status_output
from tests.fakes.slack_server import FakeSlack

CATALOGUE = load_catalogue()
LOST = [("pacemaker-controld", "notice: Node nodo2 state is now lost")]
FAILED_MONITOR = [
    (
        "pacemaker-controld",
        "notice: Result of monitor operation for WebSite on nodo1: not running",
    )
]


@dataclass
class MemorySink:
    """A channel in memory; `refuse` names alert keys whose posts fail."""

    refuse: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)  # cards deleted by someone
    posts: list[Alert] = field(default_factory=list)
    updates: list[Alert] = field(default_factory=list)

    async def post(self, alert: Alert) -> tuple[str, str]:
        if alert.key in self.refuse:
            raise DeliveryError("Slack said invalid_blocks")
        self.posts.append(alert)
        return "CALERTS", f"1700000000.{len(self.posts):06d}"

    async def update(self, alert: Alert) -> None:
        if alert.message_ts in self.gone:
            raise DeliveryError("Slack said message_not_found", gone=True)
        self.updates.append(alert)

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        for number, posted in enumerate(self.posts, 1):
            if posted.token == alert.token:
                return "CALERTS", f"1700000000.{number:06d}"
        return None


def feed(s: Scene, **messages: list[tuple[str, str]]) -> None:
    """The next poll's journal, per node (nodes not named log nothing)."""
    since = s.clock.now - s.config.clusters["mycluster"].alerts.lookback_s
    for node in ("nodo1", "nodo2"):
        cursor = s.store.get(f"cursor|mycluster|{node}|journal")
        last = (cursor or "").rsplit("=", 1)[-1]
        first = int(last) + 1 if last.isdigit() else 1
        out = journal(node, messages.get(node, []), first=first, at=s.clock.now)
        s.transport.expect(node, JournalSource().argv(cursor, since), stdout=out)


def poller(s: Scene, sink: Any, catalogue: Catalogue = CATALOGUE) -> Poller:
    return Poller(s.ops, s.store, catalogue, sink, clock=s.clock)


def cluster() -> Scene:
    return scene(capture="lab_seed_no_stonith.xml")


async def test_a_card_slack_refuses_is_kept_and_the_others_go_on() -> None:
    s, sink = cluster(), MemorySink(refuse={"no-stonith"})
    p = poller(s, sink)
    feed(s, nodo1=NO_STONITH + FAILED_MONITOR)
    report = await p.poll("mycluster")
    assert report.posted == ("resource-failed:WebSite:nodo1",)
    assert report.failed == ("no-stonith",)
    assert s.store.get("cursor|mycluster|nodo1|journal") == "s=1;i=3"  # the cursor advanced
    kept = s.store.alert("mycluster", "no-stonith")
    assert kept is not None
    assert kept.delivery is Delivery.POST
    assert kept.attempts == 1
    sink.refuse.clear()
    s.clock.now += 10  # before its retry time: not tried again
    feed(s)
    assert (await p.poll("mycluster")).posted == ()
    s.clock.now += 30
    feed(s)
    assert (await p.poll("mycluster")).posted == ("no-stonith",)
    assert sorted(a.key for a in sink.posts) == ["no-stonith", "resource-failed:WebSite:nodo1"]
    s.transport.assert_done()


async def test_a_card_deleted_in_slack_is_posted_afresh(fake_slack: FakeSlack) -> None:
    s = cluster()
    sink = SlackAlertSink(_client(fake_slack), CATALOGUE, {"mycluster": "CALERTS"})
    p = poller(s, sink)
    feed(s, nodo1=NO_STONITH)
    await p.poll("mycluster")
    first = s.store.alert("mycluster", "no-stonith")
    assert first is not None
    assert first.message_ts
    fake_slack.fail("chat.update", "message_not_found", times=5)
    s.clock.now += 60
    feed(s, nodo1=NO_STONITH)
    report = await p.poll("mycluster")
    assert report.posted == ("no-stonith",)
    assert report.failed == ()
    again = s.store.alert("mycluster", "no-stonith")
    assert again is not None
    assert again.message_ts != first.message_ts
    assert again.count == 4
    assert again.token != first.token
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    s.clock.now += 60  # and later polls update the new card, not the lost one
    feed(s, nodo1=NO_STONITH[:1])
    await p.poll("mycluster")
    assert fake_slack.calls_to("chat.update")[-1].params["ts"] == again.message_ts


class StopAfterPost(Store):
    """The real store; the write that records a posted card fails once, as if habot were
    killed between Slack's answer and its own record."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.armed = True

    def change_alert(self, cluster: str, key: str, change: Any) -> Alert | None:
        probe = self.alert(cluster, key)
        if self.armed and probe is not None and probe.delivery is Delivery.POSTING:
            self.armed = False
            raise StoreError("habot was stopped here")
        return super().change_alert(cluster, key, change)


async def test_a_stop_between_the_post_and_its_record_posts_nothing_twice(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "habot.sqlite3"
    s = scene(db, capture="lab_seed_no_stonith.xml", store=StopAfterPost(db))
    sink = SlackAlertSink(_client(fake_slack), CATALOGUE, {"mycluster": "CALERTS"})
    feed(s, nodo1=NO_STONITH)
    with pytest.raises(StoreError):
        await poller(s, sink).poll("mycluster")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    restarted = scene(db, capture="lab_seed_no_stonith.xml")
    restarted.clock.now = s.clock.now + 5
    delivered = await poller(restarted, sink).deliver("mycluster")
    assert delivered.posted == ["no-stonith"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # found, not posted again
    alert = restarted.store.alert("mycluster", "no-stonith")
    assert alert is not None
    assert alert.delivery is Delivery.NONE
    assert alert.message_ts == fake_slack.calls_to("chat.postMessage")[0].answer["ts"]


async def test_an_acknowledge_during_a_poll_is_kept() -> None:
    s, sink = cluster(), MemorySink()
    p = poller(s, sink)
    feed(s, nodo1=NO_STONITH)
    await p.poll("mycluster")

    def acknowledge_now(*_: object) -> None:  # a click lands while the poll reads status
        s.store.change_alert("mycluster", "no-stonith", lambda a: lifecycle.acknowledge(a, "UB"))

    s.clock.now += 60
    feed(s, nodo1=NO_STONITH[:1])
    s.transport.standing.clear()
    status = status_output((CRM_MON / "lab_seed_no_stonith.xml").read_bytes())
    s.transport.expect(None, STATUS, stdout=status, before=acknowledge_now)
    s.transport.answer(None, STATUS, stdout=status)
    await p.poll("mycluster")
    alert = s.store.alert("mycluster", "no-stonith")
    assert alert is not None
    assert (alert.state, alert.decided_by, alert.count) == (lifecycle.State.ACKNOWLEDGED, "UB", 3)


def test_the_store_refuses_a_stale_alert() -> None:
    store = Store(":memory:")
    fresh = _alert()
    assert store.save_poll([fresh], {})
    read = store.alert("c", fresh.key)
    assert read is not None
    assert read.version == 1
    store.change_alert("c", fresh.key, lambda a: lifecycle.acknowledge(a, "UB"))
    assert not store.save_poll([replace(read, count=9)], {"cursor": "x"})
    assert store.get("cursor") is None  # nothing of that poll was written
    kept = store.alert("c", fresh.key)
    assert kept is not None
    assert kept.state is lifecycle.State.ACKNOWLEDGED
    assert kept.count == 1


@pytest.mark.parametrize("length", [500, 2100])
def test_a_huge_logged_name_stays_within_block_kit(length: int) -> None:
    """A node-local user can log any name; what it becomes is bounded (a 2,100-character
    line is cut to its first 1,024 before matching)."""
    name = "R" * length
    line = LogLine(
        "nodo1",
        "pacemaker-controld",
        "notice",
        FAILED_MONITOR[0][1].replace("WebSite", name).split(": ", 1)[1],
    )
    match = CATALOGUE.match(line)
    if length > 512:  # longer than any capture: no match, and no oversized card
        assert match is None
        return
    assert match is not None
    assert all(len(v) <= 128 for v in match.fields.values())
    alert = lifecycle.opened(match, "mycluster", 0.0)
    blocks = alert_blocks.card(alert, CATALOGUE.rule(alert.rule))
    values = [e["value"] for b in blocks for e in b.get("elements", []) if "value" in e]
    assert values
    assert all(len(v) <= 40 for v in values)
    assert len(json.dumps(blocks)) < 12_000


def test_a_pattern_that_could_backtrack_without_end_is_refused() -> None:
    rule = {"id": "r", "severity": "warning", "title": "t", "key": "k", "remedy": "r"}
    with pytest.raises(ValueError, match="unbounded repetition"):
        Rule.model_validate({**rule, "patterns": [r"(?P<x>\S+) cannot run"]})
    with pytest.raises(ValueError, match="inside a repetition"):
        Rule.model_validate({**rule, "patterns": [r"(a{1,9}){1,9}"]})
    assert Rule.model_validate({**rule, "patterns": [r"(?P<x>\S{1,128}) cannot run"]})


async def test_ten_thousand_crafted_lines_are_read_and_the_bot_keeps_answering() -> None:
    crafted = [("pacemaker-schedulerd", "x" * 4000 + " cannot run on " + "y" * 3000)] * 10_000
    s, sink = cluster(), MemorySink()
    feed(s, nodo1=crafted)
    ticks = 0

    async def other_work() -> None:  # what else the bot does meanwhile (Slack's acks)
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_work())
    report = await poller(s, sink).poll("mycluster")
    ticker.cancel()
    assert report.lines == 10_000
    assert ticks > 100  # the event loop ran other work while the lines were matched


def _alert() -> Alert:
    return Alert(
        key="k",
        cluster="c",
        rule="no-stonith",
        severity="critical",
        title="t",
        node="",
        fields=(),
        first_seen=0.0,
        last_seen=0.0,
    )


def _client(fake: FakeSlack) -> Any:
    from slack_sdk.web.async_client import AsyncWebClient

    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


async def test_without_its_database_a_replica_does_not_poll(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No lease can be taken: nobody polls twice; said in the log, no crash of the job."""
    s = cluster()
    p = poller(s, MemorySink())
    s.store.close()
    assert await p.lead("mycluster") is None
    assert not p.leads("mycluster")
    assert "not polling, the database does not answer" in caplog.text
    s.transport.assert_done()


@dataclass
class StoppedAsItLands(MemorySink):
    """A channel whose post returns just as habot is told to stop (the task delivering is
    cancelled in the same step)."""

    victim: asyncio.Task[Any] | None = None

    async def post(self, alert: Alert) -> tuple[str, str]:
        answer = await super().post(alert)
        assert self.victim is not None
        self.victim.cancel()
        return answer


async def test_a_stop_as_a_card_lands_stops_the_poll() -> None:
    """A stop that arrives as a post completes is a stop: the poll ends cancelled, never
    carries on as if nothing was asked (a journal stream that swallowed its stop this way
    kept `habot console`'s quit waiting for good)."""
    s, sink = cluster(), StoppedAsItLands()
    p = poller(s, sink)
    feed(s, nodo1=NO_STONITH)
    task = asyncio.create_task(p.poll("mycluster"))
    sink.victim = task
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(sink.posts) == 1
