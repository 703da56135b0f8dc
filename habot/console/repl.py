"""`habot console`: type `/ha ...` at a prompt; answers come from the same use cases as Slack,
and approvals are asked for at the terminal."""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from habot.alerts.lifecycle import Alert
from habot.alerts.rules import Catalogue
from habot.approvals.schedule import at_text
from habot.commands.grammar import (
    Audit,
    Command,
    Help,
    ListRunbooks,
    Maintain,
    RunbookHelp,
    RunRunbook,
    Schedule,
    ShowHistory,
    ShowPolicy,
    Status,
    WhatIf,
    WhyResource,
    parse,
)
from habot.console import text
from habot.errors import ClusterError, ClusterUnreachable, HabotError, UsageError
from habot.runbooks.engine import RunOutcome, StepOutcome
from habot.runbooks.plan import PlanError, PlannedStep
from habot.service import describe, pauses, policy
from habot.service.clusters import Ops
from habot.service.maintenance import Maintenance
from habot.service.policy import Actor
from habot.service.workflow import Busy, Refused, Workflow

PROMPT = "habot> "
Write = Callable[[str], None]
Ask = Callable[[str], Awaitable[str]]


@dataclass
class ConsoleReporter:
    write: Write
    ask: Ask | None = None  # a pause asks at the prompt

    async def pause(self, index: int, step: PlannedStep) -> tuple[bool, str]:
        """The step's words at the prompt: `continue` goes on; anything else, or no answer
        within its timeout, aborts (the rollback runs)."""
        if self.ask is None:
            return False, "nobody can answer a pause here"
        try:
            async with asyncio.timeout(step.timeout):
                said = await self.ask(f"  {index}. {step.text}\n  continue or abort? ")
        except TimeoutError:
            return pauses.outcome(pauses.TIMEOUT, "", step.timeout)
        choice = pauses.CONTINUE if said.strip().lower() in ("c", "continue") else pauses.ABORT
        return pauses.outcome(choice, "the console", step.timeout)

    async def step_started(self, index: int, step: PlannedStep, rollback: bool) -> None:
        self.write(f"  … {'rollback ' if rollback else ''}{index}. {step.name}\n")

    async def step_finished(self, outcome: StepOutcome) -> None:
        for record in outcome.commands:
            self.write(f"      {describe.command_line(record)}\n")
        self.write(f"  {describe.step_line(outcome)}\n")


@dataclass
class ConsoleAlertSink:
    """Alerts printed as they arrive (the console has no cards: an update is a line too)."""

    write: Write
    catalogue: Catalogue

    async def post(self, alert: Alert) -> tuple[str, str]:
        self.write("\n" + text.alert(alert, self.catalogue.rule(alert.rule), new=True) + "\n")
        return "console", f"{alert.key}@{alert.first_seen}"

    async def update(self, alert: Alert) -> None:
        self.write("\n" + text.alert(alert, self.catalogue.rule(alert.rule), new=False) + "\n")

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        return None  # a terminal keeps no history: printed again after a restart


@dataclass
class Console:
    ops: Ops
    workflow: Workflow
    write: Write
    ask: Ask
    user: str = f"console:{getpass.getuser()}"
    approvers: str = "the configured approvers"

    async def answer(self, line: str) -> str:
        """The reply to one line; never raises for anything a user can type."""
        try:
            return await self._dispatch(parse(line))
        except UsageError as e:
            return text.usage(str(e))
        except PlanError as e:
            return text.refusal(e)
        except ClusterUnreachable as e:
            return text.unreachable(e)
        except (ClusterError, HabotError) as e:
            return f"error: {e}"

    async def _dispatch(self, command: Command) -> str:
        if isinstance(command, Help):
            return text.usage()
        if isinstance(command, Status):
            return text.status(await self.ops.status(command.cluster))
        if isinstance(command, ListRunbooks):
            return text.runbooks(self.workflow.runbooks.values())
        if isinstance(command, RunbookHelp):
            return "\n".join(describe.runbook_help(self.workflow.runbook(command.name)))
        if isinstance(command, Audit):
            return text.audit(await self.workflow.audit_log(command.limit, None))
        if isinstance(command, ShowPolicy):
            return "\n".join(policy.describe(self.workflow.rules(command.cluster, command.runbook)))
        if isinstance(command, WhyResource):
            report = await self.ops.why(command.cluster, command.resource)
            return "\n".join(describe.why_lines(report))
        if isinstance(command, WhatIf):
            happened = await self.ops.whatif(command.cluster, command.event, command.node)
            return "\n".join(describe.whatif_lines(happened))
        if isinstance(command, ShowHistory):
            past = await self.workflow.history(command.cluster, command.since_s, None)
            return "\n".join(describe.history_lines(past, whole=True))
        if isinstance(command, Schedule):
            return await self._schedule(command)
        if isinstance(command, Maintain):
            return await self._maintain(command)
        return await self._run(command)

    async def _maintain(self, command: Maintain) -> str:
        maintenance = Maintenance(self.workflow)
        actor = Actor(self.user, "console")
        if command.action == "start":
            w = await maintenance.start(
                command.cluster,
                actor,
                node=command.node,
                resource=command.resource,
                for_s=command.for_s,
                reason=command.reason,
            )
            return f"maintenance on {w.cluster} ({w.scope}) until {at_text(w.ends)} [{w.id}]"
        if command.action == "stop":
            ended = await maintenance.stop(command.cluster, actor)
            lines = []
            for w in ended:
                lines.append(f"maintenance on {w.cluster} ({w.scope}) ended")
                lines += await maintenance.summary(w)
            return "\n".join(lines)
        found = await maintenance.open_windows(None)
        return (
            "\n".join(
                f"{w.cluster}: {w.scope} until {at_text(w.ends)}, by {w.opened_by}: {w.reason}"
                for w in found
            )
            or "no maintenance window is open"
        )

    async def _schedule(self, command: Schedule) -> str:
        if command.cancel:
            decision = await self.workflow.cancel_scheduled(command.cancel, self.user, "console")
            if decision.refusal:
                return f"refused: {decision.refusal}"
            return f"cancelled: {decision.request.runbook} [{decision.request.id}] will not run"
        if command.run is None:
            waiting = await self.workflow.scheduled(None)
            if command.cluster:
                waiting = [r for r in waiting if r.cluster == command.cluster]
            return "\n".join(describe.scheduled_lines(waiting))
        run = replace(command.run, cluster=command.cluster or command.run.cluster)
        run_at = command.at or self.workflow.clock() + command.in_s
        self.workflow.check_time(run_at)
        proposal = await self.workflow.propose(run.cluster, run.name, dict(run.params))
        self.write(text.proposal(proposal) + "\n")
        request = await self.workflow.request(proposal, self.user, "console", run_at)
        when = at_text(run_at)
        if not self.workflow.config.console_single_operator:
            await self.workflow.withdraw(request, "the console is not in single-operator mode")
            return (
                f"not scheduled: {request.runbook} needs approval by {self.approvers} in Slack "
                f"(ask there: /ha schedule {request.runbook} ... at {when})"
            )
        answer = await self.ask(
            f"schedule {request.runbook} [{request.id}] for {when} as {self.user}? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            await self.workflow.cancel(request.id, self.user)
            return "denied: nothing is scheduled"
        decision = await self.workflow.approve_alone(request.id, self.user)
        if decision.refusal:
            return f"refused: {decision.refusal}"
        return (
            f"scheduled: {request.runbook} [{request.id}] runs at {when} if its plan and preview "
            "still hold then (this console, or any habot serve on the same database, runs it)"
        )

    async def run_due(self) -> None:
        """Scheduled runs whose time has come, run here (a pause in one aborts: the prompt
        belongs to whoever types); missed ones said."""
        mine, missed = await self.workflow.due_runs()
        for request in missed:
            self.write(
                f"\nmissed: {request.runbook} [{request.id}] was scheduled for "
                f"{at_text(request.run_at)}; nothing ran\n"
            )
        for request in mine:
            self.write(f"\nit is {at_text(request.run_at)}: {request.runbook} [{request.id}]\n")
            result = await self.workflow.run_scheduled(request, ConsoleReporter(self.write))
            if isinstance(result, Busy | Refused):
                why = result.reason if isinstance(result, Refused) else "the cluster is busy"
                self.write(f"refused: {why}\n")
            else:
                self.write(_outcome(result) + "\n")

    async def _run(self, command: RunRunbook) -> str:
        if command.usage:  # a verb alone: no form here
            raise UsageError(command.usage)
        proposal = await self.workflow.propose(command.cluster, command.name, dict(command.params))
        self.write(text.proposal(proposal) + "\n")
        if command.dry_run:
            return "(dry run: nothing was requested)"
        request = await self.workflow.request(proposal, self.user, "console")
        if not self.workflow.config.console_single_operator:
            await self.workflow.withdraw(request, "the console is not in single-operator mode")
            return (
                f"not run: {request.runbook} needs approval by {self.approvers} in Slack "
                f"(ask there: /ha runbook {request.runbook} ...). The console approves its "
                "own requests only with `console_single_operator: true` in the config."
            )
        answer = await self.ask(f"run {request.runbook} [{request.id}] as {self.user}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            await self.workflow.cancel(request.id, self.user)
            return "denied: nothing ran"
        decision = await self.workflow.approve_alone(request.id, self.user)
        if decision.refusal:
            return f"refused: {decision.refusal}"
        reporter = ConsoleReporter(self.write, self.ask)
        result = await self.workflow.run(decision.request, reporter)
        if isinstance(result, Busy):
            return f"refused: {result.lock.runbook} [{result.lock.request_id}] holds the cluster"
        if isinstance(result, Refused):
            return f"refused: {result.reason}"
        raised = await self.workflow.alerts_of_run(decision.request)
        return "\n".join([_outcome(result), *(f"  alert during the run: {a}" for a in raised)])


def _outcome(outcome: RunOutcome) -> str:
    return describe.outcome_line(outcome)


async def run(console: Console) -> int:
    interactive = sys.stdin.isatty()
    names = ", ".join(
        f"{c.name} ({', '.join(n.name for n in c.config.nodes)})"
        for c in console.ops.clusters.values()
    )
    console.write(f"habot console on {names}. Type /ha help; Ctrl-D to quit.\n")
    while True:
        if interactive:
            console.write(PROMPT)
        line = await read_line()
        if not line:
            break
        line = line.strip()
        if line in ("quit", "exit"):
            break
        if line:
            console.write(await console.answer(line) + "\n")
    return 0


class Lines:
    """Standard input, a line at a time, read by one thread into a queue: a reader that gives
    up (a pause's timeout) leaves no read behind to swallow the next line typed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.loop = loop
        threading.Thread(target=self._read, name="console-stdin", daemon=True).start()

    def _read(self) -> None:
        while True:
            line = sys.stdin.readline()
            self.loop.call_soon_threadsafe(self.queue.put_nowait, line)
            if not line:  # end of input: said once, then the reading ends
                return

    async def next(self) -> str:
        return await self.queue.get()


_lines: dict[asyncio.AbstractEventLoop, Lines] = {}


async def read_line() -> str:
    loop = asyncio.get_running_loop()
    if loop not in _lines:
        _lines[loop] = Lines(loop)
    return await _lines[loop].next()


async def ask(prompt: str) -> str:
    sys.stdout.write(text.printable(prompt))
    sys.stdout.flush()
    return await read_line()
