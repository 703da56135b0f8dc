"""Runbook forms as use cases: who may open one, its menus from the live cluster, what a
typed filter finds, and the check of what was submitted (the same plan the typed command
makes). Nothing here requests anything: a checked form goes through `Workflow.propose`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from habot.runbooks import form
from habot.runbooks.form import Form
from habot.service.policy import Actor, PolicyError
from habot.service.workflow import Workflow


@dataclass(frozen=True)
class Forms:
    workflow: Workflow

    def missing(self, cluster: str | None, runbook: str, given: Mapping[str, str]) -> bool:
        """Whether the typed command left out a parameter the form would ask for."""
        handle = self.workflow.ops.cluster(cluster)
        found = self.workflow.runbook(runbook)
        return bool(form.missing(found, given, handle.config.runbook_params))

    async def allowed(self, cluster: str | None, runbook: str, actor: Actor) -> None:
        """PolicyError unless `actor` may ask for `runbook` there (checked before a form opens,
        again when it is submitted, and by the request itself)."""
        handle = self.workflow.ops.cluster(cluster)
        await self.workflow.may("request", actor, handle.name, self.workflow.runbook(runbook).name)

    async def open(
        self, cluster: str | None, runbook: str, actor: Actor, prefill: Mapping[str, str] = {}
    ) -> Form:
        """The form, its menus filled from the live cluster — for a person who may view it;
        one who may ask but not view types the names (the cluster is not read for them)."""
        await self.allowed(cluster, runbook, actor)
        handle = self.workflow.ops.cluster(cluster)
        status = None
        if await self.may_view(handle.name, actor):
            status = (await self.workflow.ops.status(handle.name)).live.status
        return form.make_form(
            self.workflow.runbook(runbook),
            status,
            cluster=handle.name,
            defaults=handle.config.runbook_params,
            prefill=prefill,
        )

    async def may_view(self, cluster: str, actor: Actor) -> bool:
        try:
            await self.workflow.may("view", actor, cluster)
        except PolicyError:
            return False
        return True

    async def options(
        self, cluster: str | None, runbook: str, param: str, typed: str, actor: Actor
    ) -> tuple[str, ...]:
        """A menu's entries holding `typed`, at most one answer's worth."""
        await self.allowed(cluster, runbook, actor)
        spec = self.workflow.runbook(runbook).parameters.get(param)
        if spec is None or not await self.may_view(self.workflow.ops.cluster(cluster).name, actor):
            return ()  # no names for who may not view the cluster
        report = await self.workflow.ops.status(cluster)
        return form.matching(form.entries(spec, report.live.status), typed)

    async def check(
        self, cluster: str | None, runbook: str, values: Mapping[str, str], actor: Actor
    ) -> None:
        """What the typed command would refuse, refused the same way (PlanError with each
        parameter's reason, PolicyError, UsageError, ClusterUnreachable); nothing is stored."""
        await self.workflow.propose(cluster, runbook, values, preview=False, actor=actor)
