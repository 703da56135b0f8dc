"""Approve and Deny buttons: ack at once; decide once (compare-and-set); then run, tracked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.approvals.model import Request
from habot.errors import HabotError
from habot.runbooks.engine import RunOutcome
from habot.service.pauses import Pauses
from habot.service.workflow import Busy, Refused
from habot.slack import approval_blocks
from habot.slack.deps import Deps
from habot.slack.reporter import ThreadReporter


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(approval_blocks.APPROVE)(_listener(deps, approve=True))
    app.action(approval_blocks.DENY)(_listener(deps, approve=False))


def _listener(deps: Deps, *, approve: bool) -> Callable[..., Awaitable[None]]:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        message = body.get("message") or {}
        click = Click(
            request_id=str(action.get("value", "")),
            user=str((body.get("user") or {}).get("id", "")),
            channel=str((body.get("channel") or {}).get("id", "")),
            ts=str(message.get("ts", "")),
            blocks=list(message.get("blocks", [])),
        )
        name = "approve" if approve else "deny"
        deps.jobs.start(f"{name} {click.request_id}", decide(deps, client, click, approve))

    return clicked


Tell = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Click:
    request_id: str
    user: str
    channel: str
    ts: str  # the card's ts: the run's thread
    blocks: list[dict[str, Any]]  # the card as posted


async def decide(
    deps: Deps, client: AsyncWebClient, click: Click, approve: bool, tell: Tell | None = None
) -> None:
    """A click on Approve or Deny, as on the request's card (`click` names the card); a
    refusal is told to the person (by `tell`, else beside the card)."""
    say = tell or (lambda text: _tell(client, click, text))
    try:
        act = deps.workflow.approve if approve else deps.workflow.deny
        decision = await act(
            click.request_id, click.user, channel=click.channel, message_ts=click.ts
        )
    except HabotError as e:
        await say(str(e))
        return
    if decision.refusal is not None:
        await say(decision.refusal)
        on_card = (click.channel, click.ts) == (
            decision.request.channel,
            decision.request.message_ts,
        )
        if on_card and await deps.workflow.expire(click.request_id):
            await _update(deps, client, click, await deps.workflow.request_of(click.request_id))
        return
    deps.changed()
    if not decision.complete:
        await _update(deps, client, click, decision.request)
        return
    # The card update and the run start together: a Slack round trip must not delay the run.
    request = decision.request
    approved_by = ", ".join(f"<@{u}>" for u in request.approvals)
    await asyncio.gather(
        _update(deps, client, click, request),
        run_on_card(
            deps,
            client,
            click,
            request,
            f"Approved by {approved_by}; running {request.runbook}.",
            lambda reporter: deps.workflow.run(request, reporter),
        ),
    )


Run = Callable[[ThreadReporter], Awaitable["RunOutcome | Busy | Refused"]]


async def run_on_card(
    deps: Deps,
    client: AsyncWebClient,
    click: Click,
    request: Request,
    opening: str,
    run: Run,
    refused_to: str = "",
) -> None:
    """A run told in its card's thread (`opening` first), its outcome there and on the card;
    a refusal is addressed to `refused_to` (a mention) when given."""
    reporter = ThreadReporter(
        client, click.channel, click.ts, pauses=Pauses(deps.workflow), request_id=request.id
    )
    said = asyncio.create_task(reporter.say(opening))
    try:
        result: RunOutcome | Busy | Refused = await run(reporter)
    except HabotError as e:  # the store failed before the first command: nothing ran
        result = Refused(f"the run could not start ({e})")
    except BaseException:  # a shutdown cancelled the run: nothing of it goes on detached
        said.cancel()
        await asyncio.gather(said, return_exceptions=True)
        raise
    await said
    if isinstance(result, Busy):
        await reporter.say(
            f":no_entry: {request.cluster} is busy: {result.lock.runbook} "
            f"(request {result.lock.request_id}) holds it; nothing ran."
        )
    elif isinstance(result, Refused):
        await reporter.say(f"{refused_to}:no_entry: {result.reason}; nothing ran.")
    else:
        await client.chat_postMessage(
            channel=click.channel,
            thread_ts=click.ts,
            text=approval_blocks.outcome_text(result),
            blocks=approval_blocks.outcome_blocks(result),
        )
        raised = await deps.workflow.alerts_of_run(request)
        if raised:
            await reporter.say(approval_blocks.alerts_of_run(raised, result.succeeded))
    outcome = None if isinstance(result, Busy | Refused) else result
    deps.changed()
    await _update(deps, client, click, await deps.workflow.request_of(request.id), outcome)


async def _update(
    deps: Deps,
    client: AsyncWebClient,
    click: Click,
    request: Request | None,
    outcome: RunOutcome | None = None,
) -> None:
    if request is None:
        return
    destructive = deps.workflow.destructive(request)
    await client.chat_update(
        channel=click.channel,
        ts=click.ts,
        text=f"{request.runbook}: {request.state.value}",
        blocks=approval_blocks.updated_card(
            click.blocks, request, destructive, outcome, now=deps.clock()
        ),
    )


async def _tell(client: AsyncWebClient, click: Click, text: str) -> None:
    await client.chat_postEphemeral(
        channel=click.channel, user=click.user, text=f":no_entry: {text}"
    )
