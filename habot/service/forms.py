"""Runbook forms as use cases: who may open one, its menus from the live cluster, what a
typed filter finds, and the check of what was submitted (the same plan the typed command
makes). Nothing here requests anything: a checked form goes through `Workflow.propose`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from habot.runbooks import form
from habot.runbooks.form import Form
from habot.service.policy import Actor
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
        await self.allowed(cluster, runbook, actor)
        report = await self.workflow.ops.status(cluster)
        handle = self.workflow.ops.cluster(report.cluster)
        return form.make_form(
            self.workflow.runbook(runbook),
            report.live.status,
            cluster=report.cluster,
            defaults=handle.config.runbook_params,
            prefill=prefill,
        )

    async def options(
        self, cluster: str | None, runbook: str, param: str, typed: str, actor: Actor
    ) -> tuple[str, ...]:
        """A menu's entries holding `typed`, at most one answer's worth."""
        await self.allowed(cluster, runbook, actor)
        spec = self.workflow.runbook(runbook).parameters.get(param)
        if spec is None:
            return ()
        report = await self.workflow.ops.status(cluster)
        return form.matching(form.entries(spec, report.live.status), typed)

    async def check(
        self, cluster: str | None, runbook: str, values: Mapping[str, str], actor: Actor
    ) -> None:
        """What the typed command would refuse, refused the same way (PlanError with each
        parameter's reason, PolicyError, UsageError, ClusterUnreachable); nothing is stored."""
        await self.workflow.propose(cluster, runbook, values, preview=False, actor=actor)
