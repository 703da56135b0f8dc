"""An alert card's buttons: Run the remedy (through the normal approval flow), Snooze 1 h,
Acknowledge. Each acks at once; the work is a tracked job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert
from habot.alerts.rules import fill
from habot.errors import HabotError
from habot.runbooks.plan import PlanError
from habot.slack import alert_blocks, approval_blocks
from habot.slack.slash import Deps, not_here, post_request

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
    if not deps.workflow.config.channel_allowed(click.channel):
        await _tell(client, click, not_here(click.channel))
        return
    alert = deps.workflow.store.alert_by_ref(click.ref)
    if alert is None:
        await _tell(client, click, ":warning: that alert is no longer known")
        return
    if (click.channel, click.ts) != (alert.channel, alert.message_ts):
        await _tell(client, click, ":no_entry: only the alert's own card acts on it")
        return
    await act(deps, client, alert, click.user, click.channel)


async def _tell(client: AsyncWebClient, click: _Click, text: str) -> None:
    await client.chat_postEphemeral(channel=click.channel, user=click.user, text=text)


async def _run(deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str) -> None:
    rule = deps.catalogue.rule(alert.rule)
    if rule is None or rule.runbook is None:
        return
    params = {k: fill(v, rule.id, alert.field_map) for k, v in rule.runbook.params.items()}
    try:
        proposal = await deps.workflow.propose(alert.cluster, rule.runbook.name, params)
    except PlanError as e:
        await client.chat_postEphemeral(
            channel=channel, user=user, text=approval_blocks.refusal(e.runbook, e.reasons)
        )
        return
    except HabotError as e:
        await client.chat_postEphemeral(channel=channel, user=user, text=f":warning: {e}")
        return
    await post_request(deps, client, proposal, user, channel)
    deps.workflow.store.audit(
        at=deps.clock(),
        cluster=alert.cluster,
        event="alert remedy",
        user=user,
        detail=f"{alert.key}: {rule.runbook.name}",
    )


async def _snooze(
    deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str
) -> None:
    until = deps.clock() + alert_blocks.SNOOZE_S
    await _change(deps, alert, lambda a: lifecycle.snooze(a, user, until), "snoozed", user)


async def _ack(deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str) -> None:
    await _change(deps, alert, lambda a: lifecycle.acknowledge(a, user), "acknowledged", user)


async def _change(
    deps: Deps, alert: Alert, change: Callable[[Alert], Alert], event: str, user: str
) -> None:
    """Atomically on the stored alert (a poll in between never undoes it); the card follows
    through the same delivery as the poll's, so the two never overtake each other."""
    now = deps.clock()
    deps.workflow.store.change_alert(
        alert.cluster, alert.key, lambda a: lifecycle.to_deliver(change(a), now)
    )
    deps.workflow.store.audit(
        at=now, cluster=alert.cluster, event=f"alert {event}", user=user, detail=alert.key
    )
    if deps.poller is not None:
        await deps.poller.deliver(alert.cluster)
