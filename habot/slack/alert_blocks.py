"""Block Kit for alert cards (pure): what happened, where, how often, the remedy, buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from habot.alerts.lifecycle import HISTORY_RULE, Alert, State
from habot.alerts.rules import Rule, fill
from habot.service import describe
from habot.slack.blocks import (
    Block,
    code,
    code_block,
    context,
    escape,
    header,
    section,
    truncate,
)

RUN = "habot_alert_run"
SNOOZE = "habot_alert_snooze"
ACK = "habot_alert_ack"
ICON = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "warning": ":large_yellow_circle:",
}
SNOOZE_S = 3600
CARD = "habot_alert_card:"  # the header's block_id: CARD + the alert's ref, buttons or not


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def card(alert: Alert, rule: Rule | None) -> list[Block]:
    fields = alert.field_map
    icon = (
        ":white_check_mark:"
        if alert.state is State.RESOLVED
        else ICON.get(alert.severity, ":warning:")
    )
    where = f" · node {escape(alert.node)}" if alert.node else ""
    again = describe.recurrence(alert)
    flapping = "FLAPPING " if alert.flapping else ""
    blocks = [
        {
            **header(f"{flapping}{alert.severity.upper()}: {alert.title}"),
            "block_id": CARD + alert.ref,
        },
        *_run(alert),
        section(f"{icon} *{escape(alert.title)}*\ncluster *{escape(alert.cluster)}*{where}"),
        *([context(f":repeat: {escape(again)}")] if again else []),
        context(f"{escape(describe.lasted(alert))} · {code(alert.key)}"),
        section(code_block("\n".join(alert.lines), 2800)),
    ]
    if rule is not None:
        blocks.append(section(f"*Remedy:* {escape(fill(rule.remedy, rule.id, fields))}"))
    return blocks + _state(alert, rule)


def _run(alert: Alert) -> list[Block]:
    if not alert.run:
        return []
    if alert.run_expected:
        return [
            context(
                f":arrow_right: Expected by run {code(alert.run)}: its progress, not an incident"
            )
        ]
    return [context(f":warning: Raised during run {code(alert.run)}, about what that run acts on")]


def run_note(alert: Alert, channel: str) -> str:
    """Told in a run's thread of an alert the run did not expect (posted in `channel`)."""
    return f":warning: Alert during this run, in <#{channel}>: {escape(alert.title)}"


def _state(alert: Alert, rule: Rule | None) -> list[Block]:
    if alert.rule == HISTORY_RULE:
        return []  # a summary of the past: nothing to decide
    if alert.state is State.RESOLVED:
        return [section(f":white_check_mark: Resolved at {_when(alert.last_seen)}")]
    notes = []
    if alert.state is State.ACKNOWLEDGED:
        notes = [context(f"Acknowledged by <@{alert.decided_by}>")]
    elif alert.state is State.SNOOZED:
        notes = [context(f"Snoozed by <@{alert.decided_by}> until {_when(alert.snoozed_until)}")]
    buttons: list[Block] = []
    if rule is not None and rule.runbook is not None:
        params = " ".join(
            f"{k}={fill(v, rule.id, alert.field_map)}" for k, v in rule.runbook.params.items()
        )
        buttons.append(
            {
                "type": "button",
                "action_id": RUN,
                "value": alert.ref,
                "style": "primary",
                "text": {
                    "type": "plain_text",
                    "text": truncate(f"Run {rule.runbook.name} {params}".strip(), 75),
                },
            }
        )
    buttons.append(
        {
            "type": "button",
            "action_id": SNOOZE,
            "value": alert.ref,
            "text": {"type": "plain_text", "text": "Snooze 1 h"},
        }
    )
    if alert.state is not State.ACKNOWLEDGED:
        buttons.append(
            {
                "type": "button",
                "action_id": ACK,
                "value": alert.ref,
                "text": {"type": "plain_text", "text": "Acknowledge"},
            }
        )
    return [
        *notes,
        {"type": "actions", "block_id": "habot_alert", "elements": buttons},
    ]


def text(alert: Alert) -> str:
    """The notification text (mrkdwn): a title made of log fields is escaped, so a line can
    never mention @channel or make a link."""
    title = escape(alert.title)
    cluster = escape(alert.cluster)
    if alert.rule == HISTORY_RULE:
        return f"{cluster}: {title}"
    if alert.run_expected:
        return f"Expected by this run: {title} ({escape(describe.how_long(alert))})"
    again = describe.recurrence(alert)
    head = f"{'FLAPPING ' if alert.flapping else ''}{alert.severity.upper()} {cluster}: {title}"
    return f"{head} ({escape(again or describe.how_long(alert))})"
