"""What a person does with an alert card: run its remedy (through the approval flow), snooze
it, acknowledge it — from an allowed channel, on the alert's own card, every action audited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from habot.alerts import lifecycle
from habot.alerts.lifecycle import Alert
from habot.alerts.rules import Catalogue, fill
from habot.errors import UsageError
from habot.service.alert_poller import Poller
from habot.service.off_loop import off_loop
from habot.service.policy import Actor
from habot.service.workflow import CARD_WAIT_S, CARD_WAIT_TRIES, Proposal, Workflow

SNOOZE_S = 3600.0


@dataclass(frozen=True)
class AlertActions:
    workflow: Workflow
    catalogue: Catalogue
    poller: Poller | None = None  # delivers the changed card (None: the next poll does)
    clock: Callable[[], float] = field(default=time.time)

    async def find(self, ref: str, actor: Actor, message_ts: str) -> Alert:
        """The alert a click concerns; UsageError with the reason when the click does not
        count (a channel or a person the policy refuses, another message, an alert no longer
        known)."""
        if not self.workflow.config.channel_allowed(actor.channel):
            raise UsageError(
                f"habot is not enabled in this channel ({actor.channel[:40]}): "
                "its ID is not in `allowed_channels`."
            )
        alert = await off_loop(self.workflow.store.alert_by_ref, ref[:40])
        for _ in range(CARD_WAIT_TRIES):  # shown by Slack, its place not yet stored: wait
            if alert is None or alert.message_ts:
                break
            await asyncio.sleep(CARD_WAIT_S)
            alert = await off_loop(self.workflow.store.alert_by_ref, ref[:40])
        if alert is None:
            raise UsageError("that alert is no longer known")
        await self.workflow.may("view", actor, alert.cluster)
        if (actor.channel, message_ts) != (alert.channel, alert.message_ts):
            raise UsageError("only the alert's own card acts on it")
        return alert

    async def remedy(self, alert: Alert, actor: Actor) -> Proposal:
        """The plan of the alert's remedy runbook, with the parameters the alert carries
        (PlanError when it cannot run now); the request itself is made by the caller."""
        runbook, params = self.remedy_of(alert)
        proposal = await self.workflow.propose(alert.cluster, runbook, params, actor=actor)
        await self._audit(alert, "alert remedy", actor.user, f"{alert.key}: {runbook}")
        return proposal

    def remedy_of(self, alert: Alert) -> tuple[str, dict[str, str]]:
        """The alert's remedy runbook and the values the alert carries for it (UsageError when
        its rule names none); values the alert does not know are left out, for the form."""
        rule = self.catalogue.rule(alert.rule)
        if rule is None or rule.runbook is None:
            raise UsageError("this alert has no remedy runbook")
        params = {k: fill(v, rule.id, alert.field_map) for k, v in rule.runbook.params.items()}
        return rule.runbook.name, params

    async def remedy_form(self, alert: Alert, actor: Actor) -> tuple[str, dict[str, str]]:
        """`remedy_of`, for a form a person fills in (audited: the form was opened from it)."""
        runbook, params = self.remedy_of(alert)
        await self._audit(alert, "alert remedy form", actor.user, f"{alert.key}: {runbook}")
        return runbook, {k: v for k, v in params.items() if "?" not in v}

    async def snooze(self, alert: Alert, user: str, seconds: float = SNOOZE_S) -> None:
        until = self.clock() + seconds
        await self._change(alert, lambda a: lifecycle.snooze(a, user, until), "snoozed", user)

    async def acknowledge(self, alert: Alert, user: str) -> None:
        await self._change(alert, lambda a: lifecycle.acknowledge(a, user), "acknowledged", user)

    async def _change(
        self, alert: Alert, change: Callable[[Alert], Alert], event: str, user: str
    ) -> None:
        """Atomically on the stored alert (a poll in between never undoes it); the card follows
        through the same delivery as the poll's, so the two never overtake each other."""
        now = self.clock()
        await off_loop(
            self.workflow.store.change_alert,
            alert.cluster,
            alert.key,
            lambda a: lifecycle.to_deliver(change(a), now),
        )
        await self._audit(alert, f"alert {event}", user, alert.key)
        if self.poller is not None:
            await self.poller.deliver(alert.cluster)

    async def _audit(self, alert: Alert, event: str, user: str, detail: str) -> None:
        await off_loop(
            self.workflow.store.audit,
            at=self.clock(),
            cluster=alert.cluster,
            event=event,
            user=user,
            detail=detail,
        )
