"""The `/ha` slash command listener: parse, ack at once, hand the work to a tracked job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.commands.grammar import (
    Audit,
    Command,
    Help,
    ListRunbooks,
    Maintain,
    RunbookHelp,
    RunRunbook,
    Schedule,
    ShowHistory,
    ShowPolicy,
    Status,
    WhatIf,
    WhyResource,
    parse,
)
from habot.errors import ClusterError, ClusterUnreachable, HabotError, UsageError
from habot.runbooks.plan import PlanError
from habot.service import describe, policy
from habot.service.clusters import StatusReport
from habot.service.policy import Actor, PolicyError
from habot.slack import approval_blocks, blocks, form_view, forms, maintenance, scheduled
from habot.slack.asking import ask
from habot.slack.deps import Deps

__all__ = ["Deps", "not_here", "register"]
log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    app.command("/ha")(_listener(deps))


def _listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def ha(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        refusal, parsed = _check(deps, command)
        if parsed is None:
            await ack(response_type="ephemeral", text=refusal or blocks.usage())
            return
        quick = _quick_answer(deps, parsed)
        if quick is not None:
            await ack(response_type="ephemeral", text=quick)
            return
        await ack()
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        trigger = str(command.get("trigger_id", ""))
        deps.jobs.start(
            f"/ha {command.get('text', '')}",
            _run(deps, parsed, respond, client, Actor(user, channel), trigger),
        )

    return ha


def _check(deps: Deps, command: dict[str, Any]) -> tuple[str | None, Command | None]:
    """Parse and authorise without raising: (refusal text, command)."""
    channel = str(command.get("channel_id", ""))
    if not deps.workflow.config.channel_allowed(channel):
        return not_here(channel), None
    try:
        return None, parse(str(command.get("text", "")))
    except UsageError as e:
        return blocks.usage(f":warning: {blocks.escape(str(e))}"), None


def _quick_answer(deps: Deps, command: Command) -> str | None:
    """The one answer that needs neither a cluster nor the policy: given in the ack itself."""
    if isinstance(command, Help):
        return blocks.usage()
    return None


def not_here(channel: str) -> str:
    return (
        f":no_entry: habot is not enabled in this channel ({channel[:40]}): "
        "its ID is not in `allowed_channels`."
    )


async def _run(
    deps: Deps,
    command: Command,
    respond: AsyncRespond,
    client: AsyncWebClient,
    actor: Actor,
    trigger: str,
) -> None:
    try:
        if isinstance(command, RunRunbook):
            await _request(deps, command, respond, client, actor, trigger)
            return
        if isinstance(command, Schedule):
            await scheduled.answer(deps, command, respond, client, actor)
            return
        if isinstance(command, Maintain):
            await maintenance.answer(deps, command, respond, client, actor)
            return
        cluster = (
            command.cluster if isinstance(command, Status | ShowPolicy | WhyResource) else None
        )
        runbook = command.name if isinstance(command, RunbookHelp) else None
        if not isinstance(command, Audit):  # the audit log is filtered cluster by cluster
            await deps.workflow.may("view", actor, cluster, runbook)
        if isinstance(command, ShowHistory):
            await _history(deps, command, respond, client, actor)
        elif isinstance(command, Status):
            report = await deps.ops.status(command.cluster)
            file = await _status_file(report, client, actor) if blocks.status_cut(report) else None
            await respond(
                response_type="in_channel",
                text=blocks.status_text(report),
                blocks=blocks.status(report, file=file),
            )
        elif isinstance(command, ListRunbooks):
            runbooks = list(deps.workflow.runbooks.values())
            await respond(
                response_type="ephemeral",
                text=approval_blocks.runbook_list(runbooks),
                blocks=form_view.runbook_list(runbooks),
            )
        else:
            await respond(response_type="ephemeral", text=await _view(deps, command, actor))
    except PolicyError as e:
        await respond(response_type="ephemeral", text=f":no_entry: {e}")  # names and IDs only
    except UsageError as e:
        await respond(response_type="ephemeral", text=blocks.usage(f":warning: {e}"))
    except PlanError as e:
        await respond(response_type="ephemeral", text=approval_blocks.refusal(e.runbook, e.reasons))
    except ClusterUnreachable as e:
        await respond(response_type="in_channel", text=str(e), blocks=blocks.unreachable(e))
    except (ClusterError, HabotError) as e:
        await respond(response_type="ephemeral", text=blocks.error(str(e)))


async def _view(deps: Deps, command: Command, actor: Actor) -> str:
    """The read-only answers, once the policy allowed them."""
    if isinstance(command, ListRunbooks):
        return approval_blocks.runbook_list(list(deps.workflow.runbooks.values()))
    if isinstance(command, RunbookHelp):
        return approval_blocks.runbook_help(deps.workflow.runbook(command.name))
    if isinstance(command, Audit):
        return approval_blocks.audit(await deps.workflow.audit_log(command.limit, actor))
    if isinstance(command, ShowPolicy):
        rules = deps.workflow.rules(command.cluster, command.runbook)
        # the config's own IDs, shown as Slack's references (<#C…>, <@U…>): habot's text
        return "```" + "\n".join(policy.describe(rules)) + "```"
    if isinstance(command, WhyResource):
        report = await deps.ops.why(command.cluster, command.resource)
        return blocks.escape("\n".join(describe.why_lines(report)))
    if isinstance(command, WhatIf):
        happened = await deps.ops.whatif(command.cluster, command.event, command.node)
        return blocks.escape("\n".join(describe.whatif_lines(happened)))
    return blocks.usage()


async def _status_file(report: StatusReport, client: AsyncWebClient, actor: Actor) -> str | None:
    """A status too large for a message: the whole of it as a file in the channel (its
    name; None when Slack refused it — the message then says what it left out)."""
    name = f"status-{report.cluster}.txt"
    try:
        await client.files_upload_v2(
            channel=actor.channel,
            filename=name,
            content="\n".join(describe.status_lines(report)) + "\n",
            title=f"{report.cluster}: the whole status",
        )
    except SlackApiError as e:
        log.warning("status of %s not uploaded: %s", report.cluster, e.response.get("error"))
        return None
    return name


async def _history(
    deps: Deps, command: ShowHistory, respond: AsyncRespond, client: AsyncWebClient, actor: Actor
) -> None:
    """The newest events as the answer; a longer window as a file in the channel, too."""
    past = await deps.workflow.history(command.cluster, command.since_s, actor)
    text = blocks.code_block("\n".join(describe.history_lines(past)), 100_000)
    if past.more:
        name = f"history-{past.cluster}.txt"
        try:
            await client.files_upload_v2(
                channel=actor.channel,
                filename=name,
                content="\n".join(describe.history_lines(past, whole=True)) + "\n",
                title=f"{past.cluster}: the whole window ({len(past.everything)} events)",
            )
            text += f"\nThe whole window ({len(past.everything)} events) is in `{name}`, here."
        except SlackApiError as e:
            said = e.response.get("error") if e.response is not None else e
            text += f"\n:warning: the whole window could not be uploaded ({said})."
    await respond(response_type="ephemeral", text=text)


async def _request(
    deps: Deps,
    command: RunRunbook,
    respond: AsyncRespond,
    client: AsyncWebClient,
    actor: Actor,
    trigger: str,
) -> None:
    """A runbook with every value given is requested now; one missing a value opens its form."""
    params = dict(command.params)
    missing = deps.forms.missing(command.cluster, command.name, params)
    if missing and trigger and not command.dry_run:

        async def say(text: str) -> None:
            await respond(response_type="ephemeral", text=text)

        origin = form_view.Origin(command.cluster or "", command.name, actor.channel)
        await forms.open_form(deps, client, trigger, origin, actor, say, prefill=params)
        return
    proposal = await deps.workflow.propose(command.cluster, command.name, params, actor=actor)
    if command.dry_run:
        await respond(
            response_type="ephemeral",
            text=f"{proposal.plan.runbook} (dry run)",
            blocks=approval_blocks.dry_run(proposal),
        )
        return
    refusal = await ask(deps, client, proposal, actor)
    if refusal is not None:
        await respond(response_type="ephemeral", text=refusal)
