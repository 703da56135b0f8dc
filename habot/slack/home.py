"""The home tab: published for a person when they open it, and again for everyone who opened
it lately after a request, a decision, a run's end or an alert card (coalesced: one refresh
at a time, each cluster read once for all of them). Approve and Deny there decide as the
request's own card does, and the card in its channel follows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from habot.jobs import Jobs
from habot.service.home import Home, Reports
from habot.slack import home_view
from habot.slack.decisions import Click, decide
from habot.slack.deps import Deps
from habot.slack.failures import FAILURES, said

log = logging.getLogger(__name__)
SETTLE_S = 1.0  # changes within this are one refresh


@dataclass
class HomeTabs:
    home: Home
    client: AsyncWebClient
    jobs: Jobs
    settle_s: float = SETTLE_S
    _pending: bool = False
    _running: bool = False
    published: int = 0  # tabs published, for the metrics and the tests
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, user: str, notice: str = "", reports: Reports | None = None) -> None:
        """Draw `user`'s tab now (never raises: a tab Slack refuses is logged)."""
        try:
            overview = await self.home.overview(user, reports, notice)
            await self.client.views_publish(user_id=user, view=home_view.home(overview))
            self.published += 1
        except FAILURES as e:
            log.warning("home tab of %s not published: %s", user, said(e))

    def changed(self) -> None:
        """Something a tab shows changed: refresh every recent viewer's, soon and once."""
        self._pending = True
        if not self._running:
            self._running = True
            self.jobs.start("refresh home tabs", self._refresh())

    def stop(self) -> None:
        """At shutdown: a refresh still settling is dropped (each tab is drawn afresh when
        its person opens it), so stopping never waits out the settling time."""
        self._stopped.set()

    async def _refresh(self) -> None:
        try:
            while self._pending:
                try:
                    async with asyncio.timeout(self.settle_s):
                        await self._stopped.wait()
                    return  # stopping: dropped
                except TimeoutError:
                    pass
                self._pending = False
                viewers = await self.home.viewers()
                if not viewers:
                    continue
                reports = await self.home.reports()
                for user in viewers:
                    await self.publish(user, reports=reports)
        finally:
            self._running = False


def register(app: AsyncApp, deps: Deps, tabs: HomeTabs) -> None:
    app.event("app_home_opened")(_opened(deps, tabs))
    app.action(home_view.APPROVE)(_decision(deps, tabs, approve=True))
    app.action(home_view.DENY)(_decision(deps, tabs, approve=False))


def _opened(deps: Deps, tabs: HomeTabs) -> Callable[..., Awaitable[None]]:
    async def opened(event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return  # the messages tab: nothing to draw
        user = str(event.get("user", ""))[:40]
        deps.jobs.start(f"home tab of {user}", _open(tabs, user))

    return opened


async def _open(tabs: HomeTabs, user: str) -> None:
    await tabs.home.opened(user)
    await tabs.publish(user)


def _decision(deps: Deps, tabs: HomeTabs, *, approve: bool) -> Callable[..., Awaitable[None]]:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        request_id = str(((body.get("actions") or [{}])[0]).get("value", ""))[:40]
        user = str((body.get("user") or {}).get("id", ""))
        deps.jobs.start(
            f"home {'approve' if approve else 'deny'} {request_id}",
            _decide(deps, tabs, client, request_id, user, approve),
        )

    return clicked


async def _decide(
    deps: Deps,
    tabs: HomeTabs,
    client: AsyncWebClient,
    request_id: str,
    user: str,
    approve: bool,
) -> None:
    """As a click on the request's own card: the same checks, the card updated, the run in
    its thread; a refusal is told on the person's tab."""
    request = await deps.workflow.request_of(request_id)
    if request is None or not request.message_ts:
        await tabs.publish(user, f"Request {request_id} is not known (or has no card).")
        return

    async def tell(text: str) -> None:
        await tabs.publish(user, f"Request {request_id} ({request.runbook}): {text}")

    click = Click(
        request_id=request.id,
        user=user,
        channel=request.channel,
        ts=request.message_ts,
        blocks=await deps.workflow.card(request.id),
    )
    await decide(deps, client, click, approve, tell)
