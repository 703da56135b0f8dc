"""An alert card's buttons: Run the remedy (through the normal approval flow), Snooze 1 h,
Acknowledge. Each acks at once; the work is a tracked job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.lifecycle import Alert
from habot.errors import HabotError, UsageError
from habot.runbooks.plan import PlanError
from habot.service.policy import Actor
from habot.slack import alert_blocks, approval_blocks
from habot.slack.asking import post_request
from habot.slack.deps import Deps

Act = Callable[[Deps, AsyncWebClient, Alert, str, str], Awaitable[None]]


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(alert_blocks.RUN)(_listener(deps, _run))
    app.action(alert_blocks.SNOOZE)(_listener(deps, _snooze))
    app.action(alert_blocks.ACK)(_listener(deps, _ack))


def _listener(deps: Deps, act: Act) -> Callable[..., Awaitable[None]]:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        click = _Click(
            ref=str(action.get("value", ""))[:40],
            user=str((body.get("user") or {}).get("id", "")),
            channel=str((body.get("channel") or {}).get("id", "")),
            ts=str((body.get("message") or {}).get("ts", "")),
        )
        deps.jobs.start(f"alert {action.get('action_id')}", _with_alert(deps, client, act, click))

    return clicked


@dataclass(frozen=True)
class _Click:
    ref: str  # the alert's short id
    user: str
    channel: str
    ts: str  # the message the button was on


async def _with_alert(deps: Deps, client: AsyncWebClient, act: Act, click: _Click) -> None:
    """Only a click on the alert's own card, in an allowed channel, counts."""
    try:
        alert = await deps.alerts.find(click.ref, Actor(click.user, click.channel), click.ts)
    except UsageError as e:
        await _tell(client, click, f":no_entry: {e}")
        return
    await act(deps, client, alert, click.user, click.channel)


async def _tell(client: AsyncWebClient, click: _Click, text: str) -> None:
    await client.chat_postEphemeral(channel=click.channel, user=click.user, text=text)


async def _run(deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str) -> None:
    try:
        proposal = await deps.alerts.remedy(alert, Actor(user, channel))
    except PlanError as e:
        text = approval_blocks.refusal(e.runbook, e.reasons)
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
        return
    except HabotError as e:
        await client.chat_postEphemeral(channel=channel, user=user, text=f":warning: {e}")
        return
    try:
        await post_request(deps, client, proposal, user, channel)
    except UsageError as e:
        await client.chat_postEphemeral(channel=channel, user=user, text=f":warning: {e}")


async def _snooze(
    deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str
) -> None:
    await deps.alerts.snooze(alert, user, alert_blocks.SNOOZE_S)


async def _ack(deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str) -> None:
    await deps.alerts.acknowledge(alert, user)
