"""Each cluster at a glance, for one person (their home tab): its status, open alerts, runs in
progress and requests waiting — only the clusters that person may view, and a decision only
where theirs would count. Who opened it lately is kept, so a change can refresh their tab."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from habot.alerts.lifecycle import Alert
from habot.alerts.windows import Window
from habot.approvals.model import Request, State
from habot.errors import HabotError
from habot.service.clusters import StatusReport
from habot.service.off_loop import off_loop
from habot.service.workflow import Workflow

VIEWERS_KEY = "home.viewers"
VIEWERS_MAX = 200  # the newest openers are refreshed; older ones see it fresh when they open
VIEWER_TTL_S = 7 * 86400.0


@dataclass(frozen=True, slots=True)
class Waiting:
    request: Request
    may_decide: bool


@dataclass(frozen=True, slots=True)
class Glance:
    cluster: str
    report: StatusReport | None
    unreadable: str  # why the status could not be read ("" when it was)
    alerts: tuple[Alert, ...]  # open ones, the most severe and newest first
    running: tuple[Request, ...]
    waiting: tuple[Waiting, ...]
    alerts_channel: str
    scheduled: tuple[Request, ...] = ()  # approved ahead, soonest first
    windows: tuple[Window, ...] = ()  # maintenance windows open now


@dataclass(frozen=True, slots=True)
class Overview:
    user: str
    glances: tuple[Glance, ...]
    at: float
    notice: str = ""  # what the person's last click from the tab came to


Reports = Mapping[str, StatusReport | str]  # cluster -> its status, or why it was not read


@dataclass(frozen=True)
class Home:
    workflow: Workflow
    clock: Callable[[], float] = time.time

    async def reports(self) -> dict[str, StatusReport | str]:
        """Every cluster's status, read once for however many tabs are drawn from it."""
        return {name: await self._read(name) for name in self.workflow.ops.clusters}

    async def _read(self, cluster: str) -> StatusReport | str:
        try:
            return await self.workflow.ops.status(cluster)
        except HabotError as e:
            return str(e)

    async def overview(
        self, user: str, reports: Reports | None = None, notice: str = ""
    ) -> Overview:
        """`reports`: statuses already read (for many tabs at once); None: read the clusters
        this person may view, and only those."""
        glances = []
        requests = [
            r
            for state in (State.REQUESTED, State.APPROVED, State.RUNNING, State.SCHEDULED)
            for r in await off_loop(self.workflow.store.requests_in, state)
        ]
        for name in self.workflow.ops.clusters:
            if not await self.workflow.may_view_privately(user, name):
                continue
            report = reports.get(name) if reports is not None else await self._read(name)
            alerts = await off_loop(self.workflow.store.alerts, name)
            mine = [r for r in requests if r.cluster == name]
            waiting = [
                Waiting(r, await self.workflow.may_decide(r, user))
                for r in sorted(mine, key=lambda r: r.created)
                if r.state is State.REQUESTED
            ]
            glances.append(
                Glance(
                    cluster=name,
                    report=report if isinstance(report, StatusReport) else None,
                    unreadable=report if isinstance(report, str) else "",
                    alerts=tuple(sorted(alerts, key=_urgency)),
                    running=tuple(r for r in mine if r.state in (State.APPROVED, State.RUNNING)),
                    waiting=tuple(waiting),
                    alerts_channel=self.workflow.ops.cluster(name).config.alerts_channel or "",
                    scheduled=tuple(
                        sorted(
                            (r for r in mine if r.state is State.SCHEDULED),
                            key=lambda r: r.run_at,
                        )
                    ),
                    windows=tuple(await off_loop(self.workflow.store.windows, name)),
                )
            )
        return Overview(user, tuple(glances), self.clock(), notice)

    async def opened(self, user: str) -> None:
        """Remember that `user` looks at their tab (so changes refresh it)."""
        now = self.clock()
        seen = await self._viewers()
        seen[user[:40]] = now
        newest = sorted(seen.items(), key=lambda kv: -kv[1])[:VIEWERS_MAX]
        await off_loop(self.workflow.store.put, VIEWERS_KEY, json.dumps(dict(newest)))

    async def viewers(self) -> list[str]:
        return list(await self._viewers())

    async def _viewers(self) -> dict[str, float]:
        text = await off_loop(self.workflow.store.get, VIEWERS_KEY)
        try:
            seen = json.loads(text) if text else {}
        except ValueError:
            seen = {}
        now = self.clock()
        return {
            str(u): float(t)
            for u, t in seen.items()
            if isinstance(t, int | float) and now - t < VIEWER_TTL_S
        }


SEVERITY = {"critical": 0, "warning": 1}


def _urgency(alert: Alert) -> tuple[int, float]:
    return (SEVERITY.get(alert.severity, 2), -alert.last_seen)
