"""Text from logs, fields and command output, rendered by Slack's rules: `<` starts a mention
or a link wherever it stands — a code span or block does not stop it — and a backtick closes a
span. Every card and message habot renders from such text is read here as Slack reads mrkdwn:
no control sequence of the text's own survives, and every code span it is in stays closed."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from habot.alerts.lifecycle import Alert, Delivery
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import LiveStatus
from habot.cluster.model import FailedAction
from habot.console.text import printable
from habot.runbooks.engine import CommandRecord, RunOutcome, StepOutcome
from habot.service.clusters import StatusReport
from habot.slack import alert_blocks, approval_blocks, blocks

CRM_MON = Path(__file__).parents[1] / "fixtures" / "crm_mon"
NOW = 1_800_000_000.0
# what a local user can put in a log line, a resource agent's exit reason, a command's output
HOSTILE = "x` <!channel> <https://evil.example|click here> <@U0ADMIN> ``` *bold* `y"
_CONTROL = re.compile(r"<([^<>]*)>")  # Slack: `<` ... `>` is a mention, channel or link


def mrkdwn_texts(value: Any) -> list[str]:
    """Every string Slack reads as mrkdwn in a message's blocks (plain_text is not)."""
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    if not isinstance(value, dict):
        return []
    found = []
    if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
        found.append(value["text"])
    for key, inner in value.items():
        if key != "text" or isinstance(inner, dict | list):
            found += mrkdwn_texts(inner)
    return found


def assert_inert(text: str) -> None:
    """Slack's reading of `text`: no mention, channel or link came from the hostile string
    (in prose, a backtick of its own only formats; it cannot open a link or notify)."""
    for sequence in _CONTROL.findall(text):
        assert "channel" not in sequence, text
        assert "evil.example" not in sequence, text
        assert "U0ADMIN" not in sequence, text


def assert_closed(text: str) -> None:
    """Every code span on a line is closed, and no code block is opened outside one."""
    outside = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for line in outside.splitlines():
        assert line.count("`") % 2 == 0, line
    assert "```" not in outside, text


def hostile_alert() -> Alert:
    return Alert(
        key=f"resource-failed:{HOSTILE}:nodo1",
        cluster="mycluster",
        rule="resource-failed",
        severity="high",
        title=f"{HOSTILE} failed (monitor) on nodo1",
        node="nodo1",
        fields=(("resource", HOSTILE), ("node", "nodo1")),
        first_seen=NOW,
        last_seen=NOW,
        lines=(f"pacemaker-controld: error: {HOSTILE}", "```", HOSTILE),
        delivery=Delivery.POST,
        run="r1",
    )


def test_an_alert_card_from_a_hostile_line_is_inert() -> None:
    alert = hostile_alert()
    card = alert_blocks.card(alert, None)
    for text in mrkdwn_texts(card):
        assert_inert(text)
    assert_inert(alert_blocks.text(alert))
    assert_inert(alert_blocks.run_note(alert, "CALERTS"))
    assert "&lt;!channel&gt;" in str(card)  # shown, as text


def test_a_run_step_with_hostile_output_is_inert() -> None:
    record = CommandRecord("nodo1", ("pcs", "resource", "cleanup", "WebSite"), 1, 0.2, HOSTILE)
    step = StepOutcome(1, "cleanup", "failed", (record,), detail=HOSTILE)
    text, posted = approval_blocks.step_post(step)
    assert_inert(text)
    for block_text in mrkdwn_texts(posted):
        assert_inert(block_text)
    outcome = RunOutcome("r1", "cleanup", False, (step,))
    assert_inert(approval_blocks.outcome_text(outcome))
    for block_text in mrkdwn_texts(approval_blocks.outcome_blocks(outcome)):
        assert_inert(block_text)


def test_a_status_with_a_hostile_exit_reason_is_inert() -> None:
    status = parse_crm_mon((CRM_MON / "lab_seed_fenced.xml").read_bytes())
    failed = FailedAction(HOSTILE, HOSTILE, "nodo1", HOSTILE, 1, HOSTILE, "complete", 0, "")
    status = replace(status, failed_actions=(failed,))
    report = StatusReport("mycluster", LiveStatus(status, "nodo1", {"nodo2": HOSTILE}), ())
    for text in mrkdwn_texts(blocks.status(report)):
        assert_inert(text)


@pytest.mark.parametrize("text", [HOSTILE, "a\nb" + HOSTILE])
def test_code_spans_and_blocks_stay_closed(text: str) -> None:
    for rendered in (f"before {blocks.code(text)} after", f"before\n{blocks.code_block(text)}\n"):
        assert_inert(rendered)
        assert_closed(rendered)


def test_the_alert_key_and_the_log_lines_keep_their_spans_closed() -> None:
    """The card's key (made of log fields) and its lines: a backtick in a field closed the
    key's span, and a ``` in a line ended the block, before."""
    card = alert_blocks.card(hostile_alert(), None)
    texts = mrkdwn_texts(card)
    key = next(t for t in texts if "resource-failed:" in t)
    assert_closed(key)
    lines = next(t for t in texts if t.startswith("```"))
    assert_closed(lines)


def test_the_console_shows_control_characters_never_obeys_them() -> None:
    line = "pacemaker-controld: \x1b]0;owned\x07\x1b[2J\x9b31m error\tend\n"
    shown = printable(line)
    assert "\x1b" not in shown
    assert "\x9b" not in shown
    assert "\\x1b]0;owned\\x07" in shown
    assert shown.endswith("error\tend\n")
