"""The `/ha` slash command listener: parse, ack at once, hand the work to a tracked job."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.rules import Catalogue
from habot.commands.grammar import (
    Audit,
    Command,
    Help,
    ListRunbooks,
    RunbookHelp,
    RunRunbook,
    ShowHistory,
    ShowPolicy,
    Status,
    WhatIf,
    WhyResource,
    parse,
)
from habot.errors import ClusterError, ClusterUnreachable, HabotError, UsageError
from habot.jobs import Jobs
from habot.runbooks.plan import PlanError
from habot.service import describe, policy
from habot.service.alert_actions import AlertActions
from habot.service.alert_poller import Poller
from habot.service.clusters import Ops
from habot.service.policy import Actor, PolicyError
from habot.service.workflow import Proposal, Workflow
from habot.slack import approval_blocks, blocks


@dataclass(frozen=True)
class Deps:
    ops: Ops
    jobs: Jobs
    workflow: Workflow
    clock: Callable[[], float] = time.time
    catalogue: Catalogue = field(default_factory=lambda: Catalogue(()))
    poller: Poller | None = None  # delivers alert cards after a button changed an alert

    @property
    def alerts(self) -> AlertActions:
        return AlertActions(self.workflow, self.catalogue, self.poller, self.clock)


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
        deps.jobs.start(
            f"/ha {command.get('text', '')}", _run(deps, parsed, respond, client, user, channel)
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
    user: str,
    channel: str,
) -> None:
    actor = Actor(user, channel)
    try:
        if isinstance(command, RunRunbook):
            await _request(deps, command, respond, client, actor)
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
            await respond(
                response_type="in_channel",
                text=blocks.status_text(report),
                blocks=blocks.status(report),
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
        return "```" + "\n".join(policy.describe(rules)) + "```"
    if isinstance(command, WhyResource):
        report = await deps.ops.why(command.cluster, command.resource)
        return blocks.escape("\n".join(describe.why_lines(report)))
    if isinstance(command, WhatIf):
        happened = await deps.ops.whatif(command.cluster, command.event, command.node)
        return blocks.escape("\n".join(describe.whatif_lines(happened)))
    return blocks.usage()


async def _history(
    deps: Deps, command: ShowHistory, respond: AsyncRespond, client: AsyncWebClient, actor: Actor
) -> None:
    """The newest events as the answer; a longer window as a file in the channel, too."""
    past = await deps.workflow.history(command.cluster, command.since_s, actor)
    text = "```" + blocks.escape("\n".join(describe.history_lines(past))) + "```"
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
) -> None:
    user, channel = actor.user, actor.channel
    proposal = await deps.workflow.propose(
        command.cluster, command.name, dict(command.params), actor=actor
    )
    if command.dry_run:
        await respond(
            response_type="ephemeral",
            text=f"{proposal.plan.runbook} (dry run)",
            blocks=approval_blocks.dry_run(proposal),
        )
        return
    busy = await deps.workflow.busy_with(proposal.plan.cluster)
    if busy is not None:
        await respond(
            response_type="ephemeral",
            text=blocks.error(
                f"{proposal.plan.cluster} is busy: {busy.runbook} (request {busy.request_id}) "
                "is running; try again when it ends"
            ),
        )
        return
    await post_request(deps, client, proposal, user, channel)


async def post_request(
    deps: Deps, client: AsyncWebClient, proposal: Proposal, user: str, channel: str
) -> None:
    """Store the request and post its approval card (from `/ha` or an alert's button)."""
    request = await deps.workflow.request(proposal, user, channel)
    card = approval_blocks.request_card(proposal, request)
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            text=f"{request.runbook} on {request.cluster}: approval needed",
            blocks=card,
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as e:
        said = (
            e.response.get("error", "refused") if isinstance(e, SlackApiError) else type(e).__name__
        )
        why = f"the approval card could not be posted here (Slack: {str(said)[:60]})"
        await deps.workflow.withdraw(request, why)  # closed and audited: nobody can approve it
        raise UsageError(f"{why}; nothing was requested (request {request.id} withdrawn)") from e
    await deps.workflow.posted(request.id, str(posted["ts"]), card)
