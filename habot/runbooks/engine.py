"""Running a plan: step by step on the live cluster, every command audited and reported."""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from habot.cluster.live import LiveStatus
from habot.cluster.model import ClusterStatus, NodeState
from habot.cluster.predicates import check
from habot.cluster.scratch import (
    helper_cib,
    is_crmsh,
    made_dir,
    mktemp,
    removal,
    shadow_edit,
    shadow_keep,
    shadow_pull,
    shadow_push,
)
from habot.errors import AuditError, ClusterError, RunLost, TransportError
from habot.runbooks.plan import TARGET_KEYWORDS, Plan, PlannedStep
from habot.ssh.transport import NodeAddress, Transport

log = logging.getLogger(__name__)
OUTPUT_KEEP = 20_000  # characters of a command's output kept for the report


@dataclass(frozen=True, slots=True)
class CommandRecord:
    node: str
    argv: tuple[str, ...]
    rc: int | None  # None: the node could not be reached
    duration_s: float
    output: str


@dataclass(frozen=True, slots=True)
class StepOutcome:
    index: int
    name: str
    status: str  # ok | failed | skipped
    commands: tuple[CommandRecord, ...] = ()
    detail: str = ""
    rollback: bool = False
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RunOutcome:
    request_id: str
    runbook: str
    succeeded: bool
    steps: tuple[StepOutcome, ...]
    rolled_back: bool = False
    duration_s: float = 0.0

    @property
    def failed_step(self) -> StepOutcome | None:
        return next((s for s in self.steps if s.status == "failed" and not s.rollback), None)


class Reporter(Protocol):
    async def step_started(self, index: int, step: PlannedStep, rollback: bool) -> None: ...

    async def step_finished(self, outcome: StepOutcome) -> None: ...

    async def pause(self, index: int, step: PlannedStep) -> tuple[bool, str]:
        """Ask a person (step.text), waiting at most step.timeout: (go on?, what was said)."""
        ...


StatusReader = Callable[[], Awaitable[LiveStatus]]


class AuditTrail(Protocol):
    """Where a run's steps and commands are recorded (the service writes the audit log)."""

    async def record(self, event: str, **entry: Any) -> None:
        """One entry; raises AuditError when it cannot be written."""


@dataclass
class Engine:
    cluster: str
    transport: Transport
    nodes: Sequence[NodeAddress]
    read_status: StatusReader
    audit: AuditTrail
    poll_interval_s: float = 1.0
    snapshot: LiveStatus | None = None  # read just before the run; valid until a command runs
    _ran: list[CommandRecord] = field(default_factory=list)  # the current step's commands
    _rolling_back: bool = False
    _lost: bool = False  # a sweep took the run from this replica: nothing more runs

    async def _status(self) -> LiveStatus:
        """A fresh status — or, until the run's first command, the snapshot the plan was just
        checked on: nothing has changed the cluster since."""
        if self.snapshot is not None:
            return self.snapshot
        return await self.read_status()

    async def execute(self, plan: Plan, request_id: str, reporter: Reporter) -> RunOutcome:
        started = time.monotonic()
        outcomes: list[StepOutcome] = []
        failed = False
        for index, step in enumerate(plan.steps, 1):
            outcome = await self._step(index, step, request_id, reporter, rollback=False)
            outcomes.append(outcome)
            if outcome.status == "failed":
                failed = True
                break
        rolled_back = False
        if failed and plan.rollback and not self._lost:
            rolled_back, self._rolling_back = True, True
            for index, step in enumerate(plan.rollback, 1):
                outcomes.append(await self._step(index, step, request_id, reporter, rollback=True))
        return RunOutcome(
            request_id=request_id,
            runbook=plan.runbook,
            succeeded=not failed,
            steps=tuple(outcomes),
            rolled_back=rolled_back,
            duration_s=time.monotonic() - started,
        )

    async def _step(
        self, index: int, step: PlannedStep, request_id: str, reporter: Reporter, *, rollback: bool
    ) -> StepOutcome:
        await reporter.step_started(index, step, rollback)
        started = time.monotonic()
        self._ran = []
        try:
            outcome = await self._perform(index, step, request_id, reporter)
        except (ClusterError, TransportError) as e:
            outcome = StepOutcome(index, step.name, "failed", tuple(self._ran), str(e))
        except RunLost as e:
            self._lost = True
            outcome = StepOutcome(index, step.name, "failed", tuple(self._ran), str(e))
        except AuditError as e:
            detail = f"{e}; the run stops here"
            outcome = StepOutcome(index, step.name, "failed", tuple(self._ran), detail)
        outcome = replace(outcome, rollback=rollback, duration_s=time.monotonic() - started)
        await self._audit(
            event=f"step {outcome.status}",
            request_id=request_id,
            detail=f"{index}. {step.name}: {outcome.detail}"
            if outcome.detail
            else f"{index}. {step.name}",
            duration=outcome.duration_s,
            leads=False,
        )
        await reporter.step_finished(outcome)
        return outcome

    async def _perform(
        self, index: int, step: PlannedStep, request_id: str, reporter: Reporter
    ) -> StepOutcome:
        if step.unless:
            status = (await self._status()).status
            if all(check(p, status) is None for p in step.unless):
                return StepOutcome(index, step.name, "skipped", detail="already done")
        if step.kind == "wait":
            return await self._wait(index, step)
        if step.kind == "pause":
            go_on, said = await reporter.pause(index, step)
            return StepOutcome(index, step.name, "ok" if go_on else "failed", detail=said)
        targets = await self._targets(step.target)
        if step.kind == "cib":
            return await self._cib(index, step, targets[0], request_id)
        for node in targets:
            record = await self._command(node, step.argv, step.timeout, request_id)
            if record.rc != 0:
                return StepOutcome(index, step.name, "failed", tuple(self._ran), _failure(record))
        return StepOutcome(index, step.name, "ok", tuple(self._ran))

    async def _cib(
        self, index: int, step: PlannedStep, node: NodeAddress, request_id: str
    ) -> StepOutcome:
        """The seed's way: `pcs cluster cib F`, `pcs -f F ...` per edit, one cib-push of the
        difference from the pulled copy (what others changed meanwhile stays) — F in a
        private directory of its own on the node, removed whatever the outcome. Through sudo,
        all of it is habot-node's one `cib push` step."""
        if node.sudo:
            argv = helper_cib("push", step.edits)
            record = await self._command(node, argv, step.timeout, request_id)
            if record.rc != 0:
                detail = _failure(record) + " (nothing was pushed)"
                return StepOutcome(index, step.name, "failed", tuple(self._ran), detail)
            return StepOutcome(index, step.name, "ok", tuple(self._ran))
        made = await self._command(node, mktemp(node), step.timeout, request_id)
        private = made_dir(node.name, made.rc, made.output)
        shadow = f"{private}/cib.xml"
        crmsh = is_crmsh(step.edits)
        commands = [
            shadow_pull(shadow, crmsh),
            shadow_keep(shadow),
            *(shadow_edit(shadow, edit) for edit in step.edits),
            shadow_push(shadow, crmsh),
        ]
        try:
            for argv in commands:
                record = await self._command(node, argv, step.timeout, request_id)
                if record.rc != 0:
                    detail = _failure(record) + " (nothing was pushed)"
                    return StepOutcome(index, step.name, "failed", tuple(self._ran), detail)
        finally:
            await self._tidy(node, removal(private), request_id)
        return StepOutcome(index, step.name, "ok", tuple(self._ran))

    async def _tidy(self, node: NodeAddress, argv: Sequence[str], request_id: str) -> None:
        """Clean-up that must not hide the step's own outcome."""
        try:
            await self._command(node, argv, 30, request_id)
        except (TransportError, AuditError) as e:
            log.warning("%s: clean-up %s failed: %s", node.name, shlex.join(argv), e)

    async def _wait(self, index: int, step: PlannedStep) -> StepOutcome:
        deadline = time.monotonic() + step.timeout
        first = True
        while True:
            # The snapshot may answer the first look only: a cluster changes by itself (a
            # transition still under way), so every look after it reads the cluster again.
            status = (await (self._status() if first else self.read_status())).status
            if not first:
                self.snapshot = None  # time has passed: what comes next reads afresh too
            first = False
            reasons = [why for p in step.wait if (why := check(p, status)) is not None]
            if not reasons:
                return StepOutcome(index, step.name, "ok")
            if time.monotonic() >= deadline:
                return StepOutcome(
                    index,
                    step.name,
                    "failed",
                    detail=f"still not so after {step.timeout:g} s: " + "; ".join(reasons),
                )
            await asyncio.sleep(self.poll_interval_s)

    async def _targets(self, target: str) -> list[NodeAddress]:
        """The nodes a step runs on — never a node other than the plan named."""
        by_name = {n.name: n for n in self.nodes}
        if target in by_name:
            return [by_name[target]]
        if target not in TARGET_KEYWORDS:
            raise ClusterError(
                f"step target {target!r} is not in habot's config for {self.cluster}; "
                "it runs nowhere else"
            )
        status = (await self._status()).status
        if target == "dc":
            if status.summary.dc is None or status.summary.dc not in by_name:
                raise ClusterError("the cluster has no DC habot can reach")
            return [by_name[status.summary.dc]]
        online = _online(status, by_name)
        if not online:
            raise ClusterError("no node is online in the cluster")
        return online if target == "all" else online[:1]

    async def _command(
        self, node: NodeAddress, argv: Sequence[str], timeout: float, request_id: str
    ) -> CommandRecord:
        """Audited before it starts (a kill mid-command still leaves its trace) and after."""
        where: dict[str, Any] = {
            "request_id": request_id,
            "node": node.name,
            "node_user": node.runs_as,
        }
        await self._audit(event="command started", argv=argv, **where)
        self.snapshot = None  # from here on the cluster may change
        started = time.monotonic()
        try:
            result = await self.transport.run(node, argv, timeout=timeout)
            output = (result.stdout_text + result.stderr_text)[-OUTPUT_KEEP:]
            record = CommandRecord(
                node.name, tuple(argv), result.exit_status, time.monotonic() - started, output
            )
        except TransportError as e:
            record = CommandRecord(node.name, tuple(argv), None, time.monotonic() - started, str(e))
        self._ran.append(record)
        await self._audit(
            event="command",
            argv=argv,
            **where,
            rc=record.rc,
            duration=record.duration_s,
            detail=record.output[-1000:],
        )
        return record

    async def _audit(self, *, event: str, leads: bool = True, **entry: Any) -> None:
        """Write the audit log. When it cannot be written, a command does not start (the log
        leads) — except during a rollback, which restores the cluster and writes its records
        to the process log instead."""
        try:
            await self.audit.record(event, **entry)
        except RunLost:
            log.error("run lost to a sweep: %s not started: %s", event, entry.get("argv"))
            raise  # never a command more, not even a rollback's
        except AuditError as e:
            log.error("audit log not written (%s): %s %s", e, event, entry)
            if leads and not self._rolling_back:
                raise


def _online(status: ClusterStatus, by_name: dict[str, NodeAddress]) -> list[NodeAddress]:
    return [
        by_name[n.name] for n in status.nodes if n.state is NodeState.ONLINE and n.name in by_name
    ]


def _failure(record: CommandRecord) -> str:
    if record.rc is None:
        return f"{record.node}: {record.output}"
    last = record.output.strip().splitlines()[-1:] or ["(no output)"]
    return f"exit {record.rc} on {record.node}: {last[0][:300]}"
