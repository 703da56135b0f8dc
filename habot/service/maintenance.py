"""Maintenance windows: opened and closed by a person, lifted when their time is up (with a
reminder first), each ending with a summary; the alert sink asks which window an alert is
told in. Every start and end is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass, replace

from habot.alerts import windows
from habot.alerts.lifecycle import Alert, began
from habot.alerts.windows import Window, WindowState
from habot.approvals.schedule import at_text
from habot.errors import UsageError
from habot.service.off_loop import off_loop
from habot.service.policy import Actor, PolicyError
from habot.service.workflow import Workflow

MAX_S = 7 * 86400  # no window is left on for longer than a week
DEFAULT_S = 3600.0


@dataclass
class Maintenance:
    workflow: Workflow

    async def start(
        self,
        cluster: str | None,
        actor: Actor,
        *,
        node: str = "",
        resource: str = "",
        for_s: float = DEFAULT_S,
        reason: str = "",
    ) -> Window:
        """A window on the cluster (its node, its resource, or all of it), from now on; the
        node and resource must exist in the live cluster. Needs the `request` permission."""
        flow = self.workflow
        handle = flow.ops.cluster(cluster)
        await flow.may("request", actor, handle.name)
        if not 0 < for_s <= MAX_S:
            raise UsageError("a maintenance window lasts from a minute to 7 days")
        status = (await flow.ops.read(handle)).status
        if node and status.node(node) is None:
            names = ", ".join(n.name for n in status.nodes)
            raise UsageError(f"no node `{node}` in the cluster (nodes: {names})")
        if resource and status.resource(resource) is None:
            raise UsageError(f"no resource `{resource}` in the cluster")
        now = flow.clock()
        window = Window(
            id=flow.new_id(),
            cluster=handle.name,
            node=node,
            resource=resource,
            starts=now,
            ends=now + for_s,
            reason=reason,
            opened_by=actor.user,
            channel=actor.channel,
        )
        await off_loop(flow.store.add_window, window)
        await self._audit(
            window, "maintenance started", actor.user, f"until {at_text(window.ends)}"
        )
        return window

    async def posted(self, window: Window, channel: str, ts: str) -> Window:
        """Where its message went: the thread where what it touches is told. A window ended
        before its message was posted (a stop right after the start) is returned ended, with
        where its message went: its end is told there (it could not be before)."""
        store = self.workflow.store
        placed = replace(window, channel=channel, ts=ts)
        if await off_loop(store.change_window, placed):
            return placed
        now = await off_loop(store.window, window.id)
        if now is None or now.state is not WindowState.ENDED:
            return placed
        ended = replace(now, channel=channel, ts=ts)
        await off_loop(store.change_window, ended, WindowState.ENDED)
        return ended

    async def stop(self, cluster: str | None, actor: Actor) -> list[Window]:
        """Every open window of the cluster ended now, by `actor`."""
        flow = self.workflow
        handle = flow.ops.cluster(cluster)
        await flow.may("request", actor, handle.name)
        ended = []
        for window in await off_loop(flow.store.windows, handle.name):
            done = windows.end(window, flow.clock(), actor.user)
            if await off_loop(flow.store.change_window, done):
                await self._audit(done, "maintenance ended", actor.user, "")
                ended.append(done)
        if not ended:
            raise UsageError(f"no maintenance window is open on {handle.name}")
        return ended

    async def end(self, window: Window, by: str) -> Window | None:
        """One window ended now (None: it had ended already)."""
        done = windows.end(window, self.workflow.clock(), by)
        if not await off_loop(self.workflow.store.change_window, done):
            return None
        await self._audit(done, "maintenance ended", by, "")
        return done

    async def due(self) -> tuple[list[Window], list[Window]]:
        """(windows whose time is up, ended now by this replica; windows to remind of their
        end, each said once across replicas)."""
        flow = self.workflow
        now = flow.clock()
        ended, remind = [], []
        for window in await off_loop(flow.store.windows, None):
            if windows.due_to_end(window, now):
                done = windows.end(window, now)
                if await off_loop(flow.store.change_window, done):
                    await self._audit(done, "maintenance ended", "", "its time was up")
                    ended.append(done)
            elif windows.due_reminder(window, now) and await off_loop(
                flow.store.mark_reminded, window.id
            ):
                remind.append(window)
        return ended, remind

    async def open_windows(self, actor: Actor | None) -> list[Window]:
        found = await off_loop(self.workflow.store.windows, None)
        if actor is None:
            return found
        return [w for w in found if await self._may_view(actor, w.cluster)]

    async def _may_view(self, actor: Actor, cluster: str) -> bool:
        try:
            await self.workflow.may("view", actor, cluster)
        except PolicyError:
            return False
        return True

    async def covering(self, alert: Alert) -> Window | None:
        """The open window an alert is told in instead of posted as a card, if any."""
        found = await off_loop(self.workflow.store.windows, alert.cluster)
        return windows.covering(found, alert, self.workflow.clock())

    async def summary(self, window: Window) -> list[str]:
        """What alerted during the window, and what is still wrong."""
        every = await off_loop(self.workflow.store.alerts, window.cluster, active_only=False)
        until = window.ended_at or self.workflow.clock()
        during = [
            a for a in every if window.starts <= began(a) <= until and windows.touches(window, a)
        ]
        still = [a for a in every if a.active]
        return windows.summary(window, during, still)

    async def _audit(self, window: Window, event: str, user: str, detail: str) -> None:
        what = f"{window.scope}: {window.reason}" if window.reason else window.scope
        await off_loop(
            self.workflow.store.audit,
            at=self.workflow.clock(),
            cluster=window.cluster,
            event=event,
            user=user,
            detail=f"{what}; {detail}" if detail else what,
        )
