"""Scheduled runs in Slack: asked for with `/ha schedule`, listed, cancelled (from the list or
the card), and run at their time by whichever replica takes them first, told in the card's
thread; a run found past its grace is told missed there, to its requester."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.windows import Window, WindowState
from habot.approvals.model import Request
from habot.approvals.schedule import at_text
from habot.commands.grammar import Schedule
from habot.errors import HabotError, UsageError
from habot.service.maintenance import MAX_S
from habot.service.policy import Actor
from habot.slack import approval_blocks
from habot.slack.asking import post_request
from habot.slack.decisions import Click, run_on_card
from habot.slack.deps import Deps
from habot.slack.failures import said
from habot.slack.maintenance import close

REPEATS = 8  # a for_each group's repetitions, when bounding a window by its runbook
log = logging.getLogger(__name__)

TICK_S = 5  # how often each replica looks for runs whose time has come


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(approval_blocks.CANCEL_SCHEDULED)(_cancel_clicked(deps))


async def answer(
    deps: Deps, command: Schedule, respond: AsyncRespond, client: AsyncWebClient, actor: Actor
) -> None:
    """`/ha schedule …`: list, cancel, or ask for a run at a time (its card in the channel)."""
    if command.cancel:
        await respond(
            response_type="ephemeral", text=await cancel(deps, client, command.cancel, actor)
        )
        return
    if command.run is None:
        waiting = await deps.workflow.scheduled(actor)
        if command.cluster:
            waiting = [r for r in waiting if r.cluster == command.cluster]
        await respond(
            response_type="ephemeral",
            text=f"{len(waiting)} scheduled",
            blocks=approval_blocks.scheduled_list(waiting),
        )
        return
    run = replace(command.run, cluster=command.cluster or command.run.cluster)
    run_at = command.at or deps.clock() + command.in_s
    deps.workflow.check_time(run_at)
    proposal = await deps.workflow.propose(run.cluster, run.name, dict(run.params), actor=actor)
    await post_request(deps, client, proposal, actor.user, actor.channel, run_at=run_at)


async def cancel(deps: Deps, client: AsyncWebClient, request_id: str, actor: Actor) -> str:
    """Take a scheduled run back; its card says so. The answer for the person."""
    try:
        decision = await deps.workflow.cancel_scheduled(request_id, actor.user, actor.channel)
    except UsageError as e:
        return f":warning: {e}"
    if decision.refusal:
        return f":no_entry: {decision.refusal}"
    deps.changed()
    await _card_says(deps, client, decision.request)
    request = decision.request
    return f":no_entry_sign: {request.runbook} at {at_text(request.run_at)} is cancelled"


def _cancel_clicked(deps: Deps) -> Any:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        request_id = str(action.get("value", ""))[:40]

        async def work() -> None:
            said = await cancel(deps, client, request_id, Actor(user, channel))
            if channel:
                await client.chat_postEphemeral(channel=channel, user=user, text=said)

        deps.jobs.start(f"cancel {request_id}", work())

    return clicked


async def run_due(deps: Deps, client: AsyncWebClient) -> list[str]:
    """Runs whose time has come, taken by this replica, started (each told in its card's
    thread); runs found too late, told missed. Their ids."""
    mine, missed = await deps.workflow.due_runs()
    for request in missed:
        await _missed(deps, client, request)
    for request in mine:
        deps.jobs.start(f"scheduled {request.id}", _run(deps, client, request))
    if mine or missed:
        deps.changed()
    return [r.id for r in (*mine, *missed)]


async def _run(deps: Deps, client: AsyncWebClient, request: Request) -> None:
    by = ", ".join(f"<@{u}>" for u in request.approvals) or request.decided_by
    click = Click(
        request.id, "", request.channel, request.message_ts, await deps.workflow.card(request.id)
    )
    window = await _window(deps, client, request)
    try:
        await run_on_card(
            deps,
            client,
            click,
            request,
            f"It is {at_text(request.run_at)}: {request.runbook} as scheduled (approved by "
            f"{by}). Planned and previewed again on the live cluster before anything runs."
            + (
                f" Until it ends, alerts about {window.scope} are told in this thread."
                if window is not None
                else ""
            ),
            lambda reporter: deps.workflow.run_scheduled(request, reporter),
            refused_to=f"<@{request.requester}> ",
        )
    finally:
        if window is not None and (ended := await deps.maintenance.end(window, "")) is not None:
            await close(deps, client, ended)


async def _window(deps: Deps, client: AsyncWebClient, request: Request) -> Window | None:
    """A scheduled run on a node or a resource is a maintenance window on it while it runs
    (its card's thread takes the alerts about it: a node rebooted at 02:00 notifies nobody);
    None for a run that names neither, or when no window could be opened (said in the log)."""
    params = dict(request.params)
    node, resource = params.get("node", ""), params.get("resource", "")
    if not (node or resource) or not request.message_ts:
        return None
    runbook = deps.workflow.runbook(request.runbook)
    # Ended when the run ends; this is the bound if habot stops meanwhile (a for_each group
    # counted as REPEATS repetitions; MAX_S caps it all).
    lasts = (
        sum(
            leaf.timeout * (REPEATS if s.steps is not None else 1)
            for s in (*runbook.steps, *runbook.rollback)
            for leaf in s.leaves()
        )
        + 600
    )
    try:
        window = await deps.maintenance.start(
            request.cluster,
            Actor(request.requester, request.channel),
            node=node,
            resource=resource,
            for_s=min(lasts, MAX_S),
            reason=f"scheduled {request.runbook} [{request.id}]",
        )
    except HabotError as e:
        log.warning("request %s: no maintenance window for its run: %s", request.id, e)
        return None
    placed = await deps.maintenance.posted(window, request.channel, request.message_ts)
    if placed.state is WindowState.ENDED:  # someone ended it at once: its end told, no window
        await close(deps, client, placed)
        return None
    return placed


async def _missed(deps: Deps, client: AsyncWebClient, request: Request) -> None:
    grace = deps.workflow.config.schedule_grace_s
    text = (
        f"<@{request.requester}> :warning: {request.runbook} was scheduled for "
        f"{at_text(request.run_at)}, and no habot was running then (found more than {grace:g} s "
        "late): it did not run, and will not. Schedule it again if it is still wanted."
    )
    try:
        await client.chat_postMessage(
            channel=request.channel, thread_ts=request.message_ts or None, text=text
        )
    except SlackApiError as e:  # the card below says it too
        log.warning("request %s: missed run not told in its thread: %s", request.id, said(e))
    await _card_says(deps, client, request)


async def _card_says(deps: Deps, client: AsyncWebClient, request: Request) -> None:
    if not request.message_ts:
        return
    try:
        await client.chat_update(
            channel=request.channel,
            ts=request.message_ts,
            text=f"{request.runbook}: {request.state.value}",
            blocks=approval_blocks.updated_card(
                await deps.workflow.card(request.id),
                request,
                deps.workflow.destructive(request),
                now=deps.clock(),
            ),
        )
    except (SlackApiError, HabotError) as e:  # the state is stored; the card is its picture
        log.warning("request %s: card not updated (%s): %s", request.id, request.state, e)
