"""Runbook forms in Slack: a Run… button (or a typed command missing a value, or an alert's
remedy) opens a modal at once, filled from the live cluster a moment later; a submission is
checked like the typed command and becomes the usual approval card.

Two answers cannot wait for a job: a submission's field errors and a menu's typed filter
travel in the acknowledgement itself (Slack's protocol), so those two listeners check before
they ack — each bounded by SLACK_BUDGET_S, well inside Slack's 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.commands import grammar
from habot.errors import HabotError, UsageError
from habot.runbooks.plan import PlanError
from habot.service.policy import Actor
from habot.slack import approval_blocks, blocks, form_view
from habot.slack.asking import ask, post_request
from habot.slack.deps import Deps
from habot.slack.failures import FAILURES, said
from habot.slack.form_view import Origin

log = logging.getLogger(__name__)
SLACK_BUDGET_S = 2.0  # what a check inside an acknowledgement may take
Say = Callable[[str], Awaitable[None]]


def register(app: AsyncApp, deps: Deps) -> None:
    app.action(form_view.OPEN)(_run_button(deps))
    app.view(form_view.CALLBACK)(_submission(deps))
    app.options(re.compile("^" + re.escape(form_view.PARAM)))(_suggestions(deps))


def ephemeral(client: AsyncWebClient, channel: str, user: str) -> Say:
    """Tell one person, in the channel they acted from (never raises)."""

    async def say(text: str) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        except FAILURES as e:
            log.warning("could not tell %s in %s: %s", user, channel, said(e))

    return say


async def open_form(
    deps: Deps,
    client: AsyncWebClient,
    trigger: str,
    origin: Origin,
    actor: Actor,
    say: Say,
    prefill: Mapping[str, str] = {},
) -> None:
    """Open the modal at once (a trigger lasts 3 s), then fill it from the live cluster."""
    try:
        cluster = deps.ops.cluster(origin.cluster or None).name
        origin = Origin(cluster, deps.workflow.runbook(origin.runbook).name, origin.channel)
        await deps.forms.allowed(cluster, origin.runbook, actor)
    except HabotError as e:
        await say(f":no_entry: {e}")
        return
    try:
        opened = await client.views_open(trigger_id=trigger, view=form_view.waiting(origin))
    except FAILURES as e:
        await say(_not_opened(origin, e))
        return
    view = opened.get("view") or {}
    try:
        made = await deps.forms.open(cluster, origin.runbook, actor, prefill)
        shown = form_view.modal(origin, made)
    except (HabotError, form_view.FormTooBig) as e:
        shown = form_view.failed(origin, str(e))
    try:
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=shown)
    except FAILURES as e:
        if said(e) == "not_found":  # closed before it was filled: nothing to say
            log.info("form for %s closed before it was filled", origin.runbook)
            return
        await say(
            f":warning: Slack refused the form for {origin.runbook} ({said(e)}); "
            "nothing was requested. Type the command instead: "
            f"`/ha runbook {origin.runbook} key=value …`"
        )


def _not_opened(origin: Origin, e: Exception) -> str:
    if said(e) == "expired_trigger_id":
        return (
            f":warning: The form for {origin.runbook} could not open: Slack allows 3 s between "
            "the click and the form, and that had passed. Nothing was requested; try again."
        )
    return (
        f":warning: The form for {origin.runbook} could not open (Slack: {said(e)}). "
        "Nothing was requested."
    )


def _run_button(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        channel = str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id", "")
        )
        origin = Origin("", str(action.get("value", ""))[:40], channel)
        deps.jobs.start(
            f"form {origin.runbook}",
            open_form(
                deps,
                client,
                str(body.get("trigger_id", "")),
                origin,
                Actor(user, channel),
                ephemeral(client, channel, user),
            ),
        )

    return clicked


def _submission(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = str((body.get("user") or {}).get("id", ""))
        origin = Origin.decode(str(view.get("private_metadata", "")))
        if origin is None:
            await ack(response_action="update", view=_unreadable())
            return
        values = form_view.submitted(view)
        actor = Actor(user, origin.channel)
        try:
            run_at = _run_at(deps, form_view.submitted_when(view))
        except UsageError as e:
            await ack(response_action="errors", errors={form_view.WHEN: str(e)})
            return
        refusal = await _refusal(deps, origin, values, actor, view)
        if refusal is not None:
            await ack(**refusal)
            return
        await ack()
        deps.jobs.start(
            f"form {origin.runbook} submitted",
            _request(deps, client, origin, values, actor, run_at),
        )

    return submitted


def _run_at(deps: Deps, text: str) -> float:
    """The form's time as a run's (0.0: as soon as approved); UsageError says what is wrong."""
    if not text:
        return 0.0
    at, in_s = grammar.when(text)
    run_at = at or deps.clock() + in_s
    deps.workflow.check_time(run_at)
    return run_at


def _unreadable() -> dict[str, Any]:
    return form_view.failed(Origin("", "", ""), "this form cannot be read; open it again")


async def _refusal(
    deps: Deps, origin: Origin, values: dict[str, str], actor: Actor, view: dict[str, Any]
) -> dict[str, Any] | None:
    """The acknowledgement that keeps the form open, or None when it may close."""
    try:
        async with asyncio.timeout(SLACK_BUDGET_S):
            await deps.forms.check(origin.cluster, origin.runbook, values, actor)
    except PlanError as e:
        on_fields = form_view.errors(e.fields, form_view.inputs_of(view))
        if on_fields and set(e.reasons) <= set(e.fields.values()):
            return {"response_action": "errors", "errors": on_fields}
        return _notice(view, f"{e.runbook} cannot run: " + "; ".join(e.reasons))
    except TimeoutError:
        return _notice(
            view,
            f"{origin.cluster} did not answer within {SLACK_BUDGET_S:g} s, so the values could "
            "not be checked. Nothing was requested; submit again.",
        )
    except HabotError as e:
        return _notice(view, f"{e} Nothing was requested.")
    return None


def _notice(view: dict[str, Any], text: str) -> dict[str, Any]:
    return {"response_action": "update", "view": form_view.with_notice(view, text)}


async def _request(
    deps: Deps,
    client: AsyncWebClient,
    origin: Origin,
    values: dict[str, str],
    actor: Actor,
    run_at: float = 0.0,
) -> None:
    """The checked form as a request: planned again (with its preview) and its card posted in
    the channel the form was opened from (with a time, a scheduled run's card); anything that
    stops it is told to the person."""
    say = ephemeral(client, actor.channel, actor.user)
    try:
        proposal = await deps.workflow.propose(origin.cluster, origin.runbook, values, actor=actor)
        if run_at:
            await post_request(deps, client, proposal, actor.user, actor.channel, run_at=run_at)
            refusal = None
        else:
            refusal = await ask(deps, client, proposal, actor)
    except PlanError as e:
        refusal = approval_blocks.refusal(e.runbook, e.reasons)
    except HabotError as e:
        refusal = blocks.error(str(e))
    if refusal is not None:
        await say(refusal)


def _suggestions(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def suggest(ack: AsyncAck, body: dict[str, Any]) -> None:
        """A menu too long to send whole: the entries holding what the person typed."""
        param = str(body.get("action_id", ""))[len(form_view.PARAM) :][:40]
        origin = Origin.decode(str((body.get("view") or {}).get("private_metadata", "")))
        user = str((body.get("user") or {}).get("id", ""))
        names: tuple[str, ...] = ()
        if origin is not None:
            try:
                async with asyncio.timeout(SLACK_BUDGET_S):
                    names = await deps.forms.options(
                        origin.cluster,
                        origin.runbook,
                        param,
                        str(body.get("value", ""))[:100],
                        Actor(user, origin.channel),
                    )
            except (HabotError, TimeoutError) as e:
                log.info("no options for %s: %s", param, e)
        await ack(options=form_view.options(names))

    return suggest
