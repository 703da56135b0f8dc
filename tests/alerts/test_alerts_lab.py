"""Alerts on the lab, end to end through the fake Slack: real logs, real cluster, real SSH."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from habot.alerts.lifecycle import Alert
from habot.config import FlappingConfig, HabotConfig
from habot.lab.lab import Lab
from habot.service import sudoers
from tests.alerts.variants import with_alerts
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import Call, FakeSlack
from tests.lab.cluster import (
    configure_seed_fencing,
    crm_mon,
    node_rules,
    resource_nodes,
    ssh,
    wait_for,
)
from tests.slack.flows import wait_card
from tests.slack.harness import Bot, click_payload, make_bot, post_click, start_http

pytestmark = pytest.mark.lab
ALERTS = "C0HAALERTS"


@pytest.fixture
async def alert_bot(
    lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Bot]:
    # these tests crash and stop nodo2 one after another, and read an hour back: for them a
    # node that keeps failing is not flapping (tests/alerts/test_episodes_lab.py is about that)
    config = with_alerts(lab_config, flapping=FlappingConfig(episodes=100))
    bot = await start_http(make_bot(config, fake_slack, db=tmp_path / "habot.sqlite3"))
    yield bot
    await bot.stop()


def poke_scheduler(lab: Lab) -> None:
    """Make the DC's scheduler compute a transition (and log the missing-STONITH triple)."""
    dc = crm_mon(lab, "nodo1").find("summary/current_dc").get("name")  # type: ignore[union-attr]

    def complaints() -> int:
        journal = lab.exec(
            dc, ["journalctl", "-o", "cat", "SYSLOG_IDENTIFIER=pacemaker-schedulerd"], check=False
        ).stdout
        return journal.count("no STONITH resources")

    before = complaints()
    lab.exec(
        "nodo1",
        [
            "crm_attribute",
            "--type",
            "crm_config",
            "--name",
            "habot-test-poke",
            "--update",
            str(time.time()),
        ],
    )
    wait_for("the scheduler's next complaint", lambda: complaints() > before, timeout=30)


def cards(bot: Bot, key: str) -> list[Call]:
    return [
        c
        for c in bot.fake.calls_to("chat.postMessage")
        if c.params.get("channel") == ALERTS and f"`{key}`" in json.dumps(c.params)
    ]


def updates(bot: Bot, card: Call) -> list[str]:
    return [
        json.dumps(c.params)
        for c in bot.fake.calls_to("chat.update")
        if c.params.get("ts") == card.answer["ts"]
    ]


def as_message(card: Call) -> dict[str, Any]:
    return {"ts": card.answer["ts"], "blocks": card.params["blocks"]}


async def test_missing_stonith_one_card_run_the_remedy_and_it_resolves(
    lab: Lab, alert_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    await alert_bot.inner.poller.poll("mycluster")
    (card,) = cards(alert_bot, "no-stonith")
    text = json.dumps(card.params)
    assert "CRITICAL: Resources cannot start: no STONITH (fencing) device is defined" in text
    assert "Run stonith-libvirt" in text
    poke_scheduler(lab)  # the DC's scheduler runs, and complains, again
    await alert_bot.inner.poller.poll("mycluster")
    assert len(cards(alert_bot, "no-stonith")) == 1
    alert = alert_bot.workflow.store.alert("mycluster", "no-stonith")
    assert alert is not None
    assert alert.count >= 6  # the triple, twice
    assert updates(alert_bot, card)
    payload = click_payload(alert_bot.fake, as_message(card), ALERTS, "habot_alert_run", "UBOB")
    assert await post_click(session, alert_bot, payload) == 200
    approval = await alert_bot.fake.wait_for(
        "the approval card",
        lambda: [
            c
            for c in alert_bot.fake.calls_to("chat.postMessage")
            if "stonith-libvirt on mycluster" in c.params.get("text", "")
        ],
    )
    message = {"ts": approval[0].answer["ts"], "blocks": approval[0].params["blocks"]}
    await post_click(
        session,
        alert_bot,
        click_payload(alert_bot.fake, message, ALERTS, "habot_approve", "UCAROL"),
    )
    await wait_card(alert_bot, message, "succeeded")
    configured = time.time()  # fencing is configured (the run waited for the device)
    # resolved once the cluster has read its status long enough after the last complaint
    # (resolve_after_s, 30 s): polled every 2 s until then, bounded
    for _ in range(45):
        await alert_bot.inner.poller.poll("mycluster")
        if any("Resolved at" in u for u in updates(alert_bot, card)):
            break
        await asyncio.sleep(2)
    assert any("Resolved at" in u for u in updates(alert_bot, card))
    resolved = alert_bot.workflow.store.alert("mycluster", "no-stonith")
    assert resolved is not None
    assert resolved.state.value == "resolved"
    # it lasted until fencing was configured (the status that showed it), not until the
    # last complaint: the card's duration is the condition's
    assert configured - 60 <= resolved.ended_at <= configured + 5, (resolved.ended_at, configured)
    assert resolved.ended_at > resolved.line_last


async def test_a_failed_monitor_is_one_card_with_a_cleanup_button(
    lab: Lab, alert_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    ssh(lab, "nodo1", "pcs resource create canary ocf:pacemaker:Dummy op monitor interval=3s")
    wait_for("canary started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "canary") != [])
    where = resource_nodes(crm_mon(lab, "nodo1"), "canary")[0]
    key = f"resource-failed:canary:{where}"
    await alert_bot.inner.poller.poll("mycluster")  # older lines (earlier runs) are seen here
    before = len(cards(alert_bot, key))
    ssh(lab, where, "rm -f /run/Dummy-canary.state")  # the service "dies"
    wait_for(
        "the monitor failure",
        lambda: "canary" in str([f.attrib for f in crm_mon(lab, "nodo1").iter("failure")]),
        timeout=30,
    )
    await alert_bot.inner.poller.poll("mycluster")
    (card,) = cards(alert_bot, key)[before:]
    text = json.dumps(card.params)
    assert f"canary monitor failed on {where}: not running" in text
    assert "Run cleanup resource=canary" in text
    await alert_bot.inner.poller.poll("mycluster")
    assert len(cards(alert_bot, key)) == before + 1
    payload = click_payload(alert_bot.fake, as_message(card), ALERTS, "habot_alert_ack", "UBOB")
    await post_click(session, alert_bot, payload)
    await alert_bot.fake.wait_for(
        "the acknowledged card",
        lambda: [u for u in updates(alert_bot, card) if "Acknowledged by" in u],
    )
    ssh(lab, "nodo1", "pcs resource delete canary")


async def test_a_crashed_node_raises_lost_and_fenced(lab: Lab, alert_bot: Bot) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("VirtualIP started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP"))
    await alert_bot.inner.poller.poll("mycluster")  # older lines (earlier runs) are seen here
    keys = ("node-lost:nodo2", "node-fenced:nodo2", "node-unclean:nodo2")
    before = {key: len(cards(alert_bot, key)) for key in keys}
    lab.crash("nodo2")
    wait_for("nodo2 seen gone", lambda: "nodo2" not in lab.online_nodes(via="nodo1"), 30)
    wait_for("nodo2 fenced and back", lambda: "nodo2" in lab.online_nodes(via="nodo1"), 120)
    report = await alert_bot.inner.poller.poll("mycluster")
    for key in keys:
        assert key in report.posted, report
        assert len(cards(alert_bot, key)) == before[key] + 1
    fenced = json.dumps(cards(alert_bot, "node-fenced:nodo2")[-1].params)
    assert "nodo2 was fenced (reboot)" in fenced
    for key in keys:  # fresh lines: posted as they are, active, however fast nodo2 came back
        assert "(resolved" not in str(cards(alert_bot, key)[-1].params.get("text"))


async def test_a_crash_never_says_resolved_while_the_node_is_down(lab: Lab, alert_bot: Bot) -> None:
    """`habot lab crash nodo2` with habot polling every 2 s: every card of the crash stays
    active while nodo2 is down (corosync's link-down and token-loss come seconds before
    Pacemaker notices the loss); once nodo2 is back, they resolve."""
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("VirtualIP started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP"))
    store = alert_bot.workflow.store
    await alert_bot.inner.poller.poll("mycluster")  # habot is watching
    crashed_at = time.time()  # cards seen from here on are this crash's
    lab.crash("nodo2")
    started, back_at, seen_gone = time.monotonic(), None, False
    while time.monotonic() - started < 150:  # bounded: fenced, rebooted, resolved
        await alert_bot.inner.poller.poll("mycluster")
        online = "nodo2" in lab.online_nodes(via="nodo1")
        seen_gone = seen_gone or not online  # until then nodo1 has not noticed: still down
        crash = [  # the cluster's own state: habot reaching nodo2's sshd again is no news
            a
            for a in store.alerts("mycluster", active_only=False)
            if a.line_last >= crashed_at  # a line of this crash (an earlier crash's card
            # may resolve meanwhile: its own lines are older, and nodo2 was back then)
            and a.rule not in ("node-unreachable", "source-unreadable")
        ]
        resolved = [a.key for a in crash if a.state.value == "resolved"]
        if not (seen_gone and online):
            assert resolved == [], f"resolved while nodo2 is down: {resolved}"
        elif back_at is None:
            back_at = time.monotonic()
        if crash and back_at is not None and len(resolved) == len(crash):
            break
        await asyncio.sleep(2)
    assert back_at is not None, "nodo2 never came back"
    assert {"corosync-link-down:nodo1:2", "node-lost:nodo2"} <= {a.key for a in crash}
    assert all(a.state.value == "resolved" for a in crash), [(a.key, a.state) for a in crash]


async def test_a_clean_stop_posts_nothing_resolved_while_the_node_is_stopped(
    lab: Lab, alert_bot: Bot
) -> None:
    """`pcs cluster stop nodo2`, then start: a planned stop raises no card, and nothing is
    posted as resolved while nodo2 is stopped."""
    lab.reset()
    configure_seed_fencing(lab)
    store = alert_bot.workflow.store
    await alert_bot.inner.poller.poll("mycluster")
    old = {a.key for a in store.alerts("mycluster", active_only=False)}
    lab.exec("nodo2", ["pcs", "cluster", "stop"], timeout=120)
    try:
        for _ in range(5):
            await alert_bot.inner.poller.poll("mycluster")
            assert "nodo2" not in lab.online_nodes(via="nodo1")
            new = [a for a in store.alerts("mycluster", active_only=False) if a.key not in old]
            assert not [a.key for a in new if a.state.value == "resolved"]
            assert not [a.key for a in new if a.rule in ("node-lost", "corosync-link-down")]
            await asyncio.sleep(2)
    finally:
        lab.exec("nodo2", ["pcs", "cluster", "start"], timeout=120)
        lab.wait_online(120)


async def test_restart_between_polls_neither_loses_nor_reposts(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    lab.reset()
    db = tmp_path / "habot.sqlite3"
    first = make_bot(lab_config, fake_slack, db=db)
    await first.inner.poller.poll("mycluster")
    await first.stop()  # habot restarts between two polls
    poke_scheduler(lab)  # the DC's scheduler runs, and complains, again
    second = make_bot(lab_config, fake_slack, db=db)
    try:
        count_before = second.workflow.store.alert("mycluster", "no-stonith")
        assert count_before is not None
        report = await second.inner.poller.poll("mycluster")
        assert "no-stonith" not in report.posted
        assert "no-stonith" in report.updated
        after = second.workflow.store.alert("mycluster", "no-stonith")
        assert after is not None
        assert after.count >= count_before.count + 3
        assert (
            len(
                [
                    c
                    for c in fake_slack.calls_to("chat.postMessage")
                    if "`no-stonith`" in json.dumps(c.params)
                ]
            )
            == 1
        )
    finally:
        await second.stop()


# pacemaker's log files are hacluster's, in hacluster's directory: habot-node reads nothing
# else there (a file another user put in a directory it may write is not the log)
OWNED = "; chown hacluster:haclient /var/log/pacemaker/habot-rotation-test.log*"


async def test_a_rotated_log_file_loses_no_line(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = "/var/log/pacemaker/habot-rotation-test.log"
    line = "Nov 25 08:32:57 nodo1 kernel: drbd r0: Split-Brain detected, dropping connection!"
    config = with_alerts(lab_config, nodes=1, sources=("file",), log_file=path)
    ssh(lab, "nodo1", f"rm -f {path} {path}.1; printf '%s\\n' '{line}' '{line}' > {path}" + OWNED)
    rules = sudoers.node_rules(sudoers.rules([]), logs=[path])
    bot = make_bot(config, fake_slack, db=tmp_path / "habot.sqlite3")
    with node_rules(lab, rules):
        await _rotation(lab, bot, path, line)


async def _rotation(lab: Lab, bot: Bot, path: str, line: str) -> None:
    try:
        await bot.inner.poller.poll("mycluster")
        ssh(
            lab,
            "nodo1",
            f"printf '%s\\n' '{line}' >> {path}; mv {path} {path}.1; "
            f"printf '%s\\n' '{line}' '{line}' > {path}" + OWNED,
        )
        await bot.inner.poller.poll("mycluster")
        ssh(
            lab,
            "nodo1",
            f"printf 'garbage \\001\\377\\n' >> {path}; "
            f"head -c 1048576 /dev/zero | tr '\\0' x >> {path}; echo >> {path}; "
            f"printf '%s\\n' '{line}' >> {path}",
        )
        report = await bot.inner.poller.poll("mycluster")
        alert = bot.workflow.store.alert("mycluster", "drbd-split-brain")
        assert alert is not None
        assert alert.count == 6  # 2, then 1 left in the rotated file + 2 new, then 1
        assert report.lines >= 3  # garbage and the 1 MB line were read, not choked on
    finally:
        await bot.stop()
        ssh(lab, "nodo1", f"rm -f {path} {path}.1")


async def test_binary_journal_messages_and_an_unreachable_node(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = with_alerts(lab_config, unreachable_after=2)
    bot = make_bot(config, fake_slack, db=tmp_path / "habot.sqlite3")
    try:
        await bot.inner.poller.poll("mycluster")
        ssh(
            lab,
            "nodo1",
            "printf 'bin\\000ary \\001 Node nodo2 state is now lost' | "
            "systemd-cat -t pacemaker-controld",
        )
        report = await bot.inner.poller.poll("mycluster")
        assert report.unreachable == {}
        assert "node-lost:nodo2" in report.posted + report.updated  # the binary message
        nodo2 = lab.node("nodo2")
        nodo2.stop_daemon("sshd")
        await bot.ops.cluster(None).transport.close()  # no pooled session survives it
        try:
            first = await bot.inner.poller.poll("mycluster")
            assert "nodo2" in first.unreachable
            assert "node-unreachable:nodo2" not in first.posted
            second = await bot.inner.poller.poll("mycluster")
            assert "node-unreachable:nodo2" in second.posted
        finally:
            nodo2.start_sshd()
        third = await bot.inner.poller.poll("mycluster")
        assert third.unreachable == {}
    finally:
        await bot.stop()


async def test_the_scheduler_polls_by_itself(alert_bot: Bot, lab: Lab) -> None:
    lab.reset()
    alert_bot.inner.start_background()
    await alert_bot.fake.wait_for(
        "a card from the scheduled poll", lambda: cards(alert_bot, "no-stonith"), timeout=60
    )
    job = alert_bot.inner.scheduler.get_job("poll-mycluster")  # type: ignore[union-attr]
    assert job is not None
    assert job.max_instances == 1
    assert job.coalesce is True


async def test_a_slack_failure_loses_no_alert_and_a_429_is_retried(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    clock = SkewedClock()
    bot = make_bot(lab_config, fake_slack, db=tmp_path / "habot.sqlite3", clock=clock)
    try:
        await bot.inner.poller.poll("mycluster")
        name = f"gone{int(time.time() * 1000) % 10**9}"
        lab.exec(
            "nodo1",
            ["logger", "-t", "pacemaker-controld", f"notice: Node {name} state is now lost"],
        )
        fake_slack.fail("chat.postMessage", "channel_not_found")
        report = await bot.inner.poller.poll("mycluster")
        assert f"node-lost:{name}" in report.failed  # kept, not lost, and the poll went on
        kept = bot.workflow.store.alert("mycluster", f"node-lost:{name}")
        assert kept is not None
        assert (kept.delivery.value, kept.attempts) == ("post", 1)
        fake_slack.rate_limit("chat.postMessage", retry_after=1)
        clock.advance(3600)  # past its backoff
        report = await bot.inner.poller.poll("mycluster")
        assert f"node-lost:{name}" in report.posted
        posted = [c for c in cards(bot, f"node-lost:{name}") if c.answer.get("ok")]
        assert len(posted) == 1  # the refused and the rate-limited attempts posted nothing
    finally:
        await bot.stop()


EXPECTED = b"Resources cannot start: no STONITH (fencing) device is defined"


def test_the_console_prints_alerts_as_they_arrive(
    lab: Lab, lab_config: HabotConfig, tmp_path: Path
) -> None:
    """From a reset lab, reading only what was logged since the reset: the console prints
    the seed's missing STONITH as it arrives, once."""
    reset_at = time.time()
    lab.reset()
    config = with_alerts(lab_config, lookback_s=time.time() - reset_at + 1)
    path = tmp_path / "habot.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)))
    seen = b""
    with subprocess.Popen(
        [sys.executable, "-m", "habot", "console", "--config", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HABOT_DB": str(tmp_path / "habot.sqlite3")},
    ) as console:
        assert console.stdout is not None
        assert console.stdin is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and EXPECTED not in seen:
            ready, _, _ = select.select([console.stdout], [], [], 1)
            if ready:
                seen += os.read(console.stdout.fileno(), 65536)
        console.stdin.write(b"quit\n")
        console.stdin.flush()
        assert console.wait(30) == 0
    alerts = [line for line in seen.splitlines() if b"[ALERT" in line]
    assert alerts, seen[-2000:]
    # (what an earlier test's cleanup logged after the reset may come first: a node it
    # had added leaving, for one)
    (stonith,) = [line for line in alerts if EXPECTED in line]
    assert stonith.startswith(b"[ALERT critical] mycluster")


def heard(alert: Alert | None) -> tuple[object, ...] | None:
    """What lines make of an alert: its count, its lines, the newest line's stamp, episodes."""
    if alert is None:
        return None
    return (alert.count, alert.lines, alert.line_last, alert.episode_at, alert.episodes)


async def test_a_users_look_alike_lines_are_never_read(lab: Lab, alert_bot: Bot) -> None:
    """Any local user can log as `pacemaker-controld` (logger -t): the journal is selected on
    what journald records itself (the writer's program, or root), so a user's lines — a flood
    of them, or a forged "node lost" — are not read at all, and raise nothing."""
    lab.reset()
    store = alert_bot.workflow.store
    await alert_bot.inner.poller.poll("mycluster")  # habot is watching
    earlier = heard(store.alert("mycluster", "node-lost:nodo2"))  # an earlier test's crash
    forged = "notice: Node nodo2 state is now lost | nodeid=2 previous=member"
    lab.exec(
        "nodo1",
        [
            "su",
            "-s",
            "/bin/sh",
            "-c",
            f"for i in $(seq 300); do logger -p daemon.notice -t pacemaker-controld '{forged}'; "
            "done",
            "admin",
        ],
    )
    report = await alert_bot.inner.poller.poll("mycluster")
    assert not [k for k in report.posted if k.startswith("node-lost")]
    # Not even counted (an earlier crash's episode may end meanwhile: that is the live state's
    # doing, not a line's).
    assert heard(store.alert("mycluster", "node-lost:nodo2")) == earlier
    assert report.lines < 300


async def test_the_daily_check_finds_nowhere_to_go_and_a_ban_left_behind(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A lab cluster made to have a resource with nowhere to go (VirtualIP banned from the
    node it does not run on): the daily check simulates each node's failure and alerts once;
    a day later the ban, still there, is a move left behind; cleared, both resolve."""
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("VirtualIP started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP"))
    (source,) = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")
    other = "nodo2" if source == "nodo1" else "nodo1"
    ssh(lab, "nodo1", f"pcs resource ban VirtualIP {other}")
    config = with_alerts(lab_config, daily_check="00:00", left_behind_h=24, lookback_s=0)
    clock = SkewedClock()
    bot = make_bot(config, fake_slack, db=tmp_path / "habot.sqlite3", clock=clock)
    nowhere, behind = (
        f"nowhere-to-run:VirtualIP:{source}",
        f"move-left-behind:cli-ban-VirtualIP-on-{other}",
    )
    try:
        await bot.inner.poller.poll("mycluster")
        (card,) = cards(bot, nowhere)
        assert f"If {source} failed, VirtualIP would have nowhere to run" in json.dumps(card.params)
        assert not cards(bot, behind)  # just seen: not left behind yet
        assert not cards(bot, f"nowhere-to-run:VirtualIP:{other}")  # its failure moves nothing
        await bot.inner.poller.poll("mycluster")  # the same day: no second check
        assert len(cards(bot, nowhere)) == 1
        clock.advance(86400 + 2 * 3600)
        await bot.inner.poller.poll("mycluster")
        assert len(cards(bot, nowhere)) == 1  # still true: the same card, never a second
        (old,) = cards(bot, behind)
        text = json.dumps(old.params)
        assert f"cli-ban-VirtualIP-on-{other} has been left behind for 26 h" in text
        assert "Run clear" in text
        ssh(lab, "nodo1", "pcs resource clear VirtualIP")
        clock.advance(86400)
        await bot.inner.poller.poll("mycluster")
        for key in (nowhere, behind):
            alert = bot.workflow.store.alert("mycluster", key)
            assert alert is not None
            assert alert.state.value == "resolved", key
    finally:
        ssh(lab, "nodo1", "pcs resource clear VirtualIP")
        await bot.stop()


async def test_events_reach_slack_from_the_journal_stream_and_from_the_agent_after_a_stop(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Failures injected by hand (`crm_resource --fail`). Polling every 30 s and following
    each node's journal: the card comes from the stream, no poll ran in between (timings are
    in benchmarks/bench_events.py). Then habot is stopped, and reading only habot's alert agent
    file (registered by the lab, as the alert-agent runbook does; read through habot-node as
    the node user): a failure recorded while habot was down is one card when it is back."""
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite"))
    (node,) = resource_nodes(crm_mon(lab, "nodo1"), "WebSite")
    key = f"resource-failed:WebSite:{node}"
    fail = ["crm_resource", "--fail", "--resource", "WebSite", "--node", node]
    bot = make_bot(with_alerts(lab_config, interval_s=30), fake_slack, db=tmp_path / "h.db")
    bot.inner.start_background()
    poller = bot.inner.poller
    try:
        for _ in range(100):  # bounded: both nodes followed within 10 s
            if poller.polls and len(poller.followed("mycluster")) == 2:
                break
            await asyncio.sleep(0.1)
        assert poller.followed("mycluster") == {"nodo1", "nodo2"}
        polls = poller.polls
        lab.exec("nodo1", fail)
        await fake_slack.wait_for("the card", lambda: cards(bot, key), timeout=20)
        assert poller.polls == polls  # it came from the stream
    finally:
        await bot.stop()
    lab.exec("nodo1", ["pcs", "resource", "cleanup", "WebSite"], timeout=120)
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite"))

    agent = with_alerts(lab_config, sources=("agent",))
    db = tmp_path / "agent.db"
    bot = make_bot(agent, fake_slack, db=db)
    try:
        await bot.inner.poller.poll("mycluster")  # the cursor: what is there now is read
    finally:
        await bot.stop()
    (node,) = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")  # a key not seen yet
    key = f"resource-failed:VirtualIP:{node}"
    lab.exec("nodo1", ["crm_resource", "--fail", "--resource", "VirtualIP", "--node", node])
    wait_for(
        "the agent's record",
        lambda: (
            '"VirtualIP","task":"asyncmon"'
            in lab.exec(node, ["cat", "/var/log/pacemaker/habot-events.jsonl"]).stdout
        ),
    )
    bot = make_bot(agent, fake_slack, db=db)  # habot is back
    try:
        report = await bot.inner.poller.poll("mycluster")
        assert key in report.posted, report
        (card,) = cards(bot, key)
        assert f"VirtualIP asyncmon failed on {node}: error" in json.dumps(card.params)
        await bot.inner.poller.poll("mycluster")
        assert len(cards(bot, key)) == 1  # read once
    finally:
        await bot.stop()
        lab.exec("nodo1", ["pcs", "resource", "cleanup", "VirtualIP"], check=False, timeout=120)
