"""An alert card's buttons: Run the remedy (through the normal approval flow), Snooze 1 h,
Acknowledge. Each acks at once; the work is a tracked job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert
from habot.alerts.rules import fill
from habot.commands.ha import Deps, post_request
from habot.errors import HabotError
from habot.runbooks.plan import PlanError
from habot.slack import alert_blocks, approval_blocks

Act = Callable[[Deps, AsyncWebClient, Alert, str, str], Awaitable[None]]


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(alert_blocks.RUN)(_listener(deps, _run))
    app.action(alert_blocks.SNOOZE)(_listener(deps, _snooze))
    app.action(alert_blocks.ACK)(_listener(deps, _ack))


def _listener(deps: Deps, act: Act) -> Callable[..., Awaitable[None]]:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        cluster = str(action.get("block_id", "")).partition("|")[2]
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        deps.jobs.start(
            f"alert {action.get('action_id')}",
            _with_alert(deps, client, act, cluster, str(action.get("value", "")), user, channel),
        )

    return clicked


async def _with_alert(
    deps: Deps, client: AsyncWebClient, act: Act, cluster: str, key: str, user: str, channel: str
) -> None:
    alert = deps.workflow.store.alert(cluster, key)
    if alert is None:
        await client.chat_postEphemeral(
            channel=channel, user=user, text=":warning: that alert is no longer known"
        )
        return
    await act(deps, client, alert, user, channel)


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
    await _save(
        deps, client, lifecycle.snooze(alert, user, deps.clock() + alert_blocks.SNOOZE_S), "snoozed"
    )


async def _ack(deps: Deps, client: AsyncWebClient, alert: Alert, user: str, channel: str) -> None:
    await _save(deps, client, lifecycle.acknowledge(alert, user), "acknowledged")


async def _save(deps: Deps, client: AsyncWebClient, alert: Alert, event: str) -> None:
    deps.workflow.store.save_poll([alert], {})
    deps.workflow.store.audit(
        at=deps.clock(),
        cluster=alert.cluster,
        event=f"alert {event}",
        user=alert.decided_by,
        detail=alert.key,
    )
    await client.chat_update(
        channel=alert.channel,
        ts=alert.message_ts,
        text=alert_blocks.text(alert),
        blocks=alert_blocks.card(alert, deps.catalogue.rule(alert.rule)),
    )
