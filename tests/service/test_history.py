"""`/ha history`: the cluster's own records (fencing, failed operations), habot's alerts and
runs, as one timeline newest first, within the window, capped to one message."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from habot.alerts.lifecycle import Alert, State
from habot.alerts.sources import JournalSource
from habot.cluster.crm_mon import parse_crm_mon
from habot.commands.grammar import ShowHistory, parse
from habot.errors import TransportError, UsageError
from habot.service import describe
from habot.service.audit import AuditRecord
from habot.service.history import SHOWN, timeline
from tests.fakes.cluster import scene
from tests.fakes.slack_server import FakeSlack
from tests.slack.flows import CHANNEL, answer
from tests.slack.harness import make_bot, post_command, start_http

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crm_mon"
LOGS = Path(__file__).parents[1] / "fixtures" / "logs"
CRASHED = parse_crm_mon((FIXTURES / "lab_after_crash_nodo2.xml").read_bytes())
FENCED_AT = 1796143078.0  # 2026-12-01 16:37:58Z, the capture's fence event


def lost(at: float) -> Alert:
    return Alert(
        key="node-lost:nodo2",
        cluster="mycluster",
        rule="node-lost",
        severity="high",
        title="nodo2 left the cluster",
        node="nodo1",
        fields=(("node", "nodo2"),),
        first_seen=at + 2,
        last_seen=at + 60,
        state=State.RESOLVED,
        line_first=at - 3,
        line_last=at + 4,
    )


def run(at: float, event: str, request: str = "r7") -> AuditRecord:
    return AuditRecord(at, "mycluster", event, request, "UBOB", "", (), None, None, "", "")


def test_fencing_alerts_and_runs_newest_first() -> None:
    h = timeline(
        "mycluster",
        CRASHED,
        [lost(FENCED_AT)],
        [run(FENCED_AT + 100, "run started"), run(FENCED_AT + 110, "run succeeded")],
        since=FENCED_AT - 3600,
        until=FENCED_AT + 200,
    )
    kinds = [e.kind for e in h.events]
    assert kinds == ["run", "run", "alert", "fencing", "alert"]
    assert h.events[0].text == "[r7] succeeded by UBOB"
    assert h.events[3].text == "nodo2 reboot success by nodo1"
    lines = describe.history_lines(h)
    assert lines[0] == "mycluster: the last 1.06 h, newest first"
    assert any("resolved: nodo2 left the cluster" in line for line in lines)


def test_older_events_are_left_out_and_many_are_capped() -> None:
    old = timeline("m", CRASHED, [], [], since=FENCED_AT + 1, until=FENCED_AT + 10)
    assert old.events == ()
    assert "nothing happened" in describe.history_lines(old)[-1]
    many = [run(FENCED_AT + i, "approved", f"r{i}") for i in range(100)]
    capped = timeline("m", CRASHED, [], many, since=0, until=FENCED_AT + 200)
    assert len(capped.events) == SHOWN
    assert capped.more == 100 + 1 - SHOWN  # the fencing too
    assert "earlier events" in describe.history_lines(capped)[-1]
    whole = describe.history_lines(capped, whole=True)
    assert len(whole) == 1 + 101  # the head, then every event: what the file holds
    assert "earlier events" not in whole[-1]


@pytest.mark.parametrize(
    ("text", "since"),
    [("history", 6 * 3600), ("history 30m", 1800), ("history mycluster 2h", 7200)],
)
def test_the_window(text: str, since: float) -> None:
    parsed = parse(text)
    assert isinstance(parsed, ShowHistory)
    assert parsed.since_s == since


@pytest.mark.parametrize("text", ["history 9d", "history a b c", "history 2h 3h"])
def test_a_window_out_of_bounds_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="history"):
        parse(text)


async def test_history_through_slack_for_a_viewer(
    session: aiohttp.ClientSession, fake_slack: FakeSlack
) -> None:
    """The cluster's own logs (the crash's real journal from nodo1; nodo2 does not answer),
    its fence history, habot's alert: one timeline, and the node not read is named."""
    s = scene(approvers=["UBOB"], allowed_channels=[CHANNEL], capture="lab_after_crash_nodo2.xml")
    s.clock.now = FENCED_AT + 600
    since = JournalSource().argv(None, s.clock.now - 3600)
    crash = LOGS / "lab_crash_vs_stop" / "nodo1_journal.json"
    s.transport.answer("nodo1", since, stdout=crash.read_bytes())
    s.transport.answer("nodo2", since, raises=TransportError("nodo2", "connection refused"))
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    try:
        bot.inner.deps.workflow.store.save_poll([lost(FENCED_AT)], {})
        status, _, payload = await post_command(session, bot, "history 1h", user="UBOB")
        assert status == 200
        key = payload["response_url"].rsplit("/", 1)[1]
        said = await fake_slack.wait_for(
            "the answer", lambda: [b for k, b in fake_slack.responses if k == key]
        )
        text = str(said[0]["text"])
        assert "nodo2 reboot success by nodo1" in text
        assert "HIGH nodo2 left the cluster" in text
        assert "node       nodo2 left the cluster (seen by nodo1)" in text
        assert "transition #1 (DC nodo1): Fence (reboot) nodo2" in text
        assert "Move VirtualIP nodo2 -&gt; nodo1" in text  # escaped for mrkdwn
        assert "⚠ logs not read: nodo2 journal: connection refused" in text
        order = [text.index(t) for t in ("transition #1", "reboot success", "left the cluster (")]
        assert order == sorted(order)  # newest first
    finally:
        await bot.stop()


async def test_a_long_window_comes_as_a_file_too(
    session: aiohttp.ClientSession, fake_slack: FakeSlack
) -> None:
    """More events than a message holds: the answer has the newest, and the whole window is
    uploaded to the channel as a file (files.getUploadURLExternal, the upload, complete)."""
    s = scene(approvers=["UBOB"], allowed_channels=[CHANNEL], capture="lab_after_crash_nodo2.xml")
    s.clock.now = FENCED_AT + 600
    since = JournalSource().argv(None, s.clock.now - 3600)
    s.transport.answer(None, since, stdout=b"")
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    try:
        store = bot.inner.deps.workflow.store
        for i in range(60):
            store.audit(
                at=FENCED_AT + i,
                cluster="mycluster",
                event="approved",
                request_id=f"r{i}",
                user="UBOB",
            )
        text = await answer(bot, session, "history 1h", "UBOB")
        assert text.count(" approved by UBOB") == SHOWN  # the newest: all approvals
        assert "earlier events" in text
        assert "is in `history-mycluster.txt`, here" in text
        (upload,) = fake_slack.uploads.values()
        lines = upload.decode().splitlines()
        assert sum(" approved by UBOB" in ln for ln in lines) == 60  # every one
        (done,) = fake_slack.calls_to("files.completeUploadExternal")
        assert done.params["channel_id"] == CHANNEL
    finally:
        await bot.stop()
