"""Alert cards out, each on its own: what a poll stored as still to post or update goes to
the sink; a card that fails is kept and retried with backoff, one deleted in Slack is posted
afresh, and a post cut short by a stop is looked for before it is made again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from habot.alerts import lifecycle
from habot.alerts.lifecycle import POST_TIMEOUT_S, Alert, Delivery
from habot.errors import HabotError
from habot.service.off_loop import off_loop
from habot.store import Store

log = logging.getLogger(__name__)


class DeliveryError(HabotError):
    """A card could not be posted or updated. `gone`: the card no longer exists (deleted, or
    a database restored from elsewhere); `definite`: the service said no (nothing was
    posted), as opposed to a lost answer (it may have been)."""

    def __init__(self, message: str, *, gone: bool = False, definite: bool = True) -> None:
        super().__init__(message)
        self.gone = gone
        self.definite = definite


class AlertSink(Protocol):
    """Where alert cards go (Slack, the console). Failures raise DeliveryError."""

    async def post(self, alert: Alert) -> tuple[str, str]:
        """Show a new alert, marked with `alert.token`; returns (channel, message id)."""

    async def update(self, alert: Alert) -> None: ...

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        """An earlier post of this alert (by its token), if it did reach the channel."""


class Overtaken(Exception):
    """The alert changed (or another delivery marked it) since it was read: not posted."""


@dataclass(frozen=True, slots=True)
class Delivered:
    posted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Courier:
    store: Store
    sink: AlertSink
    clock: Callable[[], float]

    async def deliver(
        self, cluster: str, still_ours: Callable[[], Awaitable[bool]] | None = None
    ) -> Delivered:
        """Each due card on its own: one that fails is kept and retried later, the rest go.
        `still_ours` (the poller's lease, renewed) is asked before each card: a delivery that
        outlives its lease stops, so two replicas never send the same cards."""
        done = Delivered()
        for alert in await off_loop(self.store.alerts_to_deliver, cluster, self.clock()):
            if still_ours is not None and not await still_ours():
                log.warning("%s: the polling lease was lost; delivery stops here", cluster)
                break
            try:
                kind = await self._deliver_one(alert)
            except Overtaken:
                continue  # changed or marked since it was read: its next delivery sends it
            except DeliveryError as e:
                log.warning("%s: card for %s not delivered: %s", cluster, alert.key, e)
                again = await self._retry(alert, e)
                if not (e.gone and again is not None and await self._repost(again)):
                    done.failed.append(alert.key)
                    continue
                kind = Delivery.POST

            (done.posted if kind is Delivery.POST else done.updated).append(alert.key)
        return done

    async def _deliver_one(self, alert: Alert) -> Delivery:
        if alert.delivery is Delivery.UPDATE:
            await self.sink.update(alert)
            await self._settle(alert, alert.channel, alert.message_ts)
            return Delivery.UPDATE
        if alert.delivery is Delivery.POSTING:  # posted before a stop, or not: look first
            found = await self.sink.find(alert)
            if found is not None:
                await self._settle(alert, *found)
                return Delivery.POST
            if alert.retry_at > self.clock():  # its post may be in flight still: not again
                raise Overtaken(alert.key)
        token = alert.token or uuid.uuid4().hex

        def mark(a: Alert) -> Alert | None:  # compare-and-set: as read, or not at all
            if a.version != alert.version:
                return None
            return lifecycle.posting(a, token, self.clock())

        marked = await off_loop(self.store.change_alert, alert.cluster, alert.key, mark)
        if marked is None:
            raise Overtaken(alert.key)
        try:  # bounded: the mark's grace outlasts it, so nobody posts while this one may land
            async with asyncio.timeout(POST_TIMEOUT_S):
                channel, ts = await self.sink.post(marked)
        except TimeoutError as e:
            raise DeliveryError(f"no answer within {POST_TIMEOUT_S:g} s", definite=False) from e
        await self._settle(marked, channel, ts)
        return Delivery.POST

    async def _settle(self, sent: Alert, channel: str, ts: str) -> None:
        """The card is out: stored, unless the alert changed meanwhile (then it goes again,
        to the same card)."""

        def settled(a: Alert) -> Alert:
            if a.version == sent.version:
                return lifecycle.delivered(a, channel, ts)
            return replace(
                a, channel=channel, message_ts=ts, delivery=Delivery.UPDATE, retry_at=0.0
            )

        await off_loop(self.store.change_alert, sent.cluster, sent.key, settled)

    async def _retry(self, alert: Alert, error: DeliveryError) -> Alert | None:
        def later(a: Alert) -> Alert:
            if error.definite and a.delivery is Delivery.POSTING:
                a = replace(a, delivery=Delivery.POST)  # nothing was posted
            return lifecycle.retry_later(a, self.clock(), gone=error.gone)

        return await off_loop(self.store.change_alert, alert.cluster, alert.key, later)

    async def _repost(self, alert: Alert) -> bool:
        """A card that no longer exists in Slack: posted afresh, at once."""
        try:
            await self._deliver_one(alert)
        except DeliveryError as e:
            log.warning("%s: card for %s not posted afresh: %s", alert.cluster, alert.key, e)
            await self._retry(alert, e)
            return False
        return True
