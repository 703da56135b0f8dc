"""Asking for a run: the approval card posted and stored, from whatever asked (a typed
command, a form, an alert's button)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from habot.errors import UsageError
from habot.service.policy import Actor
from habot.service.workflow import Proposal
from habot.slack import approval_blocks, blocks
from habot.slack.deps import Deps
from habot.slack.failures import FAILURES, said


async def ask(deps: Deps, client: AsyncWebClient, proposal: Proposal, actor: Actor) -> str | None:
    """Post the request's card in the actor's channel; the refusal text when the cluster is
    busy (then nothing is requested)."""
    busy = await deps.workflow.busy_with(proposal.plan.cluster)
    if busy is not None:
        return blocks.error(
            f"{proposal.plan.cluster} is busy: {busy.runbook} (request {busy.request_id}) "
            "is running; try again when it ends"
        )
    await post_request(deps, client, proposal, actor.user, actor.channel)
    return None


async def post_request(
    deps: Deps,
    client: AsyncWebClient,
    proposal: Proposal,
    user: str,
    channel: str,
    run_at: float = 0.0,
) -> None:
    """Store the request and post its approval card (from `/ha`, a form or an alert's button;
    with `run_at`, a scheduled run's)."""
    request = await deps.workflow.request(proposal, user, channel, run_at)
    card = approval_blocks.request_card(proposal, request)
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            text=f"{request.runbook} on {request.cluster}: approval needed",
            blocks=card,
        )
    except FAILURES as e:
        why = f"the approval card could not be posted here (Slack: {said(e)})"
        await deps.workflow.withdraw(request, why)  # closed and audited: nobody can approve it
        deps.changed()
        raise UsageError(f"{why}; nothing was requested (request {request.id} withdrawn)") from e
    await deps.workflow.posted(request.id, str(posted["ts"]), card)
    deps.changed()
