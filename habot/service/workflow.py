"""The approval workflow: propose (plan + preview), request, approve or deny, then run once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from habot.alerts import runs
from habot.approvals import model, schedule
from habot.approvals.model import Decision, Request, State
from habot.cluster.live import LiveStatus, simulate
from habot.cluster.simulate import PlannedAction
from habot.config import HabotConfig, NodeConfig
from habot.errors import HabotError, TransportError, UsageError
from habot.log_format import CLUSTER, RUN_ID
from habot.metrics import RUNS
from habot.runbooks.engine import Engine, Reporter, RunOutcome
from habot.runbooks.loader import by_name
from habot.runbooks.model import Runbook
from habot.runbooks.plan import Plan, PlanError, PlannedStep, make_plan
from habot.runbooks.shells import chosen
from habot.service import policy
from habot.service.audit import AuditRecord, RunAudit
from habot.service.clusters import Ops
from habot.service.history import History, timeline
from habot.service.log_window import events_since
from habot.service.off_loop import off_loop
from habot.service.policy import Actor, Directory, Effective, NoGroups
from habot.store import ClusterLock, Recorded, Store, StoreError

log = logging.getLogger(__name__)
STARTS = ("start", "move", "migrate", "restart", "recover", "promote")
HEARTBEAT_S = 5.0  # a running replica says its runs are alive this often
STALE_AFTER_S = 20.0  # a run silent this long lost its replica: any survivor interrupts it
CARD_WAIT_S, CARD_WAIT_TRIES = 0.05, 100  # a click on a card still being recorded: 5 s at most


def replica_id() -> str:
    """This process among the replicas: host, PID and a random part (PIDs repeat)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Proposal:
    runbook: Runbook
    plan: Plan
    preview: tuple[PlannedAction, ...] | None = None
    preview_error: str = ""
    live: LiveStatus | None = None  # the status the plan was made on
    runs_as: str = "root"  # the node user (and sudo) every command runs as

    @property
    def collateral(self) -> tuple[PlannedAction, ...]:
        """Previewed actions on resources the runbook's parameters do not name."""
        named = set(self.plan.param_map.values())
        return tuple(a for a in self.preview or () if a.resource not in named)

    @property
    def left_stopped(self) -> tuple[str, ...]:
        """Resources the cluster would stop and start nowhere: left with nowhere to run."""
        started = {a.resource for a in self.preview or () if a.action in STARTS}
        return tuple(
            sorted({a.resource for a in self.preview or () if a.action == "stop"} - started)
        )


@dataclass(frozen=True, slots=True)
class Busy:
    lock: ClusterLock


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str


def node_users(nodes: Sequence[NodeConfig]) -> str:
    """`habot via sudo`, or each node's when they differ: `nodo1: root, nodo2: habot`."""
    users = {n.name: n.address().runs_as for n in nodes}
    if len(set(users.values())) == 1:
        return next(iter(users.values()))
    return ", ".join(f"{name}: {who}" for name, who in users.items())


def fingerprint(plan: Plan) -> str:
    """What a plan would run, canonically: two plans with one fingerprint run the same."""

    def step(s: PlannedStep) -> list[object]:
        return [
            s.name,
            s.kind,
            s.target,
            list(s.argv),
            [list(e) for e in s.edits],
            [p.model_dump(exclude_none=True) for p in s.wait],
            [p.model_dump(exclude_none=True) for p in s.unless],
            s.timeout,
            *([s.text] if s.text else []),  # a pause's words (plans without one: as before)
        ]

    return json.dumps(
        [[step(s) for s in plan.steps], [step(s) for s in plan.rollback]], sort_keys=True
    )


class Workflow:
    def __init__(
        self,
        ops: Ops,
        store: Store,
        runbooks: Mapping[str, Runbook],
        config: HabotConfig,
        *,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12],
        directory: Directory | None = None,
        replica: str | None = None,
        fleet_clock: Callable[[], float] | None = None,
    ) -> None:
        self.replica = replica or replica_id()
        # The clock every replica shares (the database's: Store.now), for heartbeats and
        # sweeps; None: `clock` (one process, or a test's settable clock).
        self.fleet_clock = fleet_clock
        self.ops = ops
        self.store = store
        self.runbooks = dict(runbooks)
        self.config = config
        self.clock = clock
        self.new_id = new_id
        self.directory: Directory = directory or NoGroups()

    async def _fleet_now(self) -> float:
        return await off_loop(self.fleet_clock) if self.fleet_clock else self.clock()

    def runbook(self, name: str) -> Runbook:
        found = by_name(self.runbooks, name)
        if found is None:
            raise UsageError(
                f"no runbook `{name[:40]}` (there are: {', '.join(sorted(self.runbooks))})"
            )
        return found

    def rules(self, cluster: str | None, runbook: str | None = None) -> Effective:
        """The policy in force for a cluster (and a runbook)."""
        name = self.ops.cluster(cluster).name
        return policy.effective(self.config, name, self.runbook(runbook) if runbook else None)

    async def may(
        self, verb: policy.Verb, actor: Actor, cluster: str | None, runbook: str | None = None
    ) -> None:
        """PolicyError, naming the rule and who may, unless `actor` may `verb` there."""
        await policy.check(self.rules(cluster, runbook), verb, actor, self.directory)

    async def propose(
        self,
        cluster: str | None,
        name: str,
        raw: Mapping[str, str],
        *,
        preview: bool = True,
        actor: Actor | None = None,
    ) -> Proposal:
        """Plan against a fresh status; raises PlanError with every reason it cannot run
        (and PolicyError when `actor` may not ask for it)."""
        runbook = self.runbook(name)
        handle = self.ops.cluster(cluster)
        if actor is not None:
            await self.may("request", actor, handle.name, runbook.name)
        live = await self.ops.read(handle)
        defaults = {
            k: v
            for k, v in handle.config.runbook_params.items()
            if k in runbook.parameters and k not in raw
        }
        shell, how = chosen(handle.config.shell, live.status.shells)
        if shell is None:
            raise PlanError(runbook.name, [f"{how}; nothing ran"])
        plan = make_plan(
            runbook,
            {**defaults, **raw},
            live.status,
            cluster=handle.name,
            configured=[n.name for n in handle.config.nodes],
            shell=shell,
        )
        runs_as = node_users(handle.config.nodes)
        if not (preview and plan.preview_edits):
            return Proposal(runbook, plan, live=live, runs_as=runs_as)
        node = next(n.address() for n in handle.config.nodes if n.name == live.answered_by)
        try:
            actions = await simulate(
                handle.transport,
                node,
                plan.preview_edits,
                timeout=handle.config.command_timeout_s,
            )
        except (TransportError, HabotError) as e:
            return Proposal(runbook, plan, preview_error=str(e), live=live, runs_as=runs_as)
        return Proposal(runbook, plan, preview=actions, live=live, runs_as=runs_as)

    async def request(
        self, proposal: Proposal, requester: str, channel: str, run_at: float = 0.0
    ) -> Request:
        """The request, stored and audited. With `run_at`, a scheduled run: approvals may come
        until its time, and its preview now is what it must still do then."""
        now = self.clock()
        plan = proposal.plan
        if run_at:
            self.check_time(run_at)
        request = Request(
            id=self.new_id(),
            cluster=plan.cluster,
            runbook=plan.runbook,
            params=plan.params,
            requester=requester,
            channel=channel,
            created=now,
            expires=run_at or now + self.config.approval_expiry_s,
            approvals_needed=self.rules(plan.cluster, plan.runbook).approvals,
            plan_fingerprint=fingerprint(plan),
            run_at=run_at,
            preview=schedule.what_moves(proposal.preview, proposal.left_stopped) if run_at else "",
        )
        await off_loop(self.store.add_request, request)
        when = f"; scheduled for {schedule.at_text(run_at)}" if run_at else ""
        await self._audit(request, "requested", requester, _params_text(plan) + when)
        return request

    def check_time(self, run_at: float) -> None:
        """A scheduled run's time: ahead of now, within schedule_max_ahead_s."""
        now = self.clock()
        if run_at <= now:
            raise UsageError(f"{schedule.at_text(run_at)} has passed; give a time ahead")
        if run_at - now > self.config.schedule_max_ahead_s:
            days = self.config.schedule_max_ahead_s / 86400
            raise UsageError(f"{schedule.at_text(run_at)} is more than {days:g} days ahead")

    async def due_runs(self) -> tuple[list[Request], list[Request]]:
        """Scheduled runs whose time has come: (those this replica now runs — each taken by
        exactly one replica, compare-and-set — and those found past the grace period, marked
        missed, never run late). Any replica calls it every few seconds."""
        now = await self._fleet_now()
        waiting = await off_loop(self.store.requests_in, State.SCHEDULED)
        mine, missed = [], []
        for request in (r for r in waiting if model.due(r, now)):
            at = schedule.at_text(request.run_at)
            if model.missed(request, now, self.config.schedule_grace_s):
                if await off_loop(
                    self.store.transition, request.id, [State.SCHEDULED], State.MISSED
                ):
                    late = f"{now - request.run_at:.0f} s"
                    await self._audit(
                        request, "missed", "", f"found {late} after its time ({at}); not run late"
                    )
                    missed.append(await self._request(request.id))
            elif await off_loop(
                self.store.transition,
                request.id,
                [State.SCHEDULED],
                State.APPROVED,
                owner=self.replica,
                now=now,
            ):
                await self._audit(request, "due", "", f"{at}; on replica {self.replica}")
                mine.append(await self._request(request.id))
        return mine, missed

    async def run_scheduled(
        self, request: Request, reporter: Reporter
    ) -> RunOutcome | Busy | Refused:
        """A scheduled run at its time: planned and previewed again on the live cluster; it
        runs only if the plan still holds and its preview moves and stops what was approved."""
        try:
            proposal = await self.propose(request.cluster, request.runbook, dict(request.params))
        except (PlanError, HabotError) as e:
            return await self._refuse(request, f"the cluster changed: {e}")
        if proposal.preview_error:
            return await self._refuse(request, f"no preview now ({proposal.preview_error})")
        now = schedule.what_moves(proposal.preview, proposal.left_stopped)
        if now != request.preview:
            return await self._refuse(request, schedule.changed(request.preview, now))
        return await self.run(request, reporter)

    async def scheduled(self, actor: Actor | None) -> list[Request]:
        """Scheduled runs not yet run (waiting for approval or for their time), soonest
        first; with `actor`, only on clusters they may view."""
        waiting = [
            r
            for state in (State.REQUESTED, State.SCHEDULED)
            for r in await off_loop(self.store.requests_in, state)
            if r.run_at
        ]
        if actor is not None:
            waiting = [r for r in waiting if await self._may_view(actor, r.cluster)]
        return sorted(waiting, key=lambda r: (r.run_at, r.id))

    async def cancel_scheduled(self, request_id: str, user: str, channel: str) -> Decision:
        """The requester or an approver takes a scheduled run back before its time."""
        request = await self._request(request_id)
        refusal = None
        if not request.run_at:
            refusal = f"request {request.id} is not a scheduled run"
        elif request.state not in (State.REQUESTED, State.SCHEDULED):
            refusal = f"this scheduled run is {request.state.value} already"
        elif user != request.requester and await self._not_approver(
            self.rules(request.cluster, request.runbook), user, channel
        ):
            refusal = "only its requester or an approver can cancel a scheduled run"
        elif not await off_loop(
            self.store.transition,
            request.id,
            [State.REQUESTED, State.SCHEDULED],
            State.CANCELLED,
            user,
        ):
            refusal = "this scheduled run was decided or started meanwhile"
        decision = Decision(await self._request(request.id), refusal)
        await self._audit(
            request, "cancel refused" if refusal else "cancelled", user, refusal or ""
        )
        return decision

    async def approve(
        self, request_id: str, user: str, *, channel: str, message_ts: str
    ) -> Decision:
        """A click on Approve in `channel`, on the message `message_ts`."""
        request = await self._as_posted(request_id, channel)
        rules = self.rules(request.cluster, request.runbook)
        refusal = self._misplaced(request, channel, message_ts) or await self._not_approver(
            rules, user, channel
        )
        decision = (
            Decision(request, refusal)
            if refusal
            else model.approve(
                request,
                user,
                self.clock(),
                is_approver=True,
                self_approval=bool(rules["self_approval"].value),
            )
        )
        if decision.refusal is None:
            recorded = await off_loop(
                self.store.record_approval,
                decision.request,
                user,
                await self._fleet_now(),
                self.replica,
            )
            current = await self._request(request_id)  # as the transaction left it
            decision = (
                Decision(current, completes=recorded is Recorded.APPROVED)
                if recorded
                else Decision(current, "another click decided this request first")
            )
        await self._audit(
            request,
            "approve refused" if decision.refusal else "approved",
            user,
            decision.refusal
            or f"{len(decision.request.approvals)}/{request.approvals_needed} approvals",
        )
        return decision

    async def may_approve(self, request: Request, user: str, channel: str) -> bool:
        """Whether `user` is an approver of this request's runbook on its cluster."""
        rules = self.rules(request.cluster, request.runbook)
        return await self._not_approver(rules, user, channel) is None

    async def _not_approver(self, rules: Effective, user: str, channel: str) -> str | None:
        try:
            await policy.check(rules, "approve", Actor(user, channel), self.directory)
        except policy.PolicyError as e:
            return str(e)
        return None

    async def approve_alone(self, request_id: str, user: str) -> Decision:
        """The console's operator approves their own request: only in single-operator mode."""
        request = await self._request(request_id)
        if not self.config.console_single_operator:
            decision = Decision(request, "the console is not in single-operator mode")
        elif request.state is not State.REQUESTED:
            decision = Decision(request, f"this request was already {request.state.value}")
        elif not await off_loop(
            self.store.transition,
            request_id,
            [State.REQUESTED],
            State.SCHEDULED if request.run_at else State.APPROVED,
            user,
            owner=self.replica,
            now=await self._fleet_now(),
        ):
            decision = Decision(await self._request(request_id), "the request was decided already")
        else:
            decision = Decision(await self._request(request_id), completes=True)
        await self._audit(
            request,
            "approve refused" if decision.refusal else "approved",
            user,
            decision.refusal or "single-operator mode: the console's operator approved alone",
        )
        return decision

    async def deny(self, request_id: str, user: str, *, channel: str, message_ts: str) -> Decision:
        request = await self._as_posted(request_id, channel)
        refusal = self._misplaced(request, channel, message_ts)
        if refusal:
            return await self._denied(request, Decision(request, refusal), user, "deny refused", "")
        rules = self.rules(request.cluster, request.runbook)
        is_approver = not await self._not_approver(rules, user, channel)
        decision = model.deny(request, user, self.clock(), is_approver=is_approver)
        return await self._denied(request, decision, user, "deny refused", "")

    async def cancel(self, request_id: str, user: str) -> Decision:
        """The requester takes their own request back (the console's "no")."""
        request = await self._request(request_id)
        decision = model.deny(request, user, self.clock(), is_approver=False)
        return await self._denied(request, decision, user, "cancel refused", "by its requester")

    async def _denied(
        self, request: Request, decision: Decision, user: str, refused: str, detail: str
    ) -> Decision:
        """A deny decided by the model, stored compare-and-set, audited either way."""
        if decision.refusal is None and not await off_loop(
            self.store.transition, request.id, [State.REQUESTED], State.DENIED, user
        ):
            decision = Decision(await self._request(request.id), "the request was decided already")
        await self._audit(
            request, refused if decision.refusal else "denied", user, decision.refusal or detail
        )
        return decision

    async def _as_posted(self, request_id: str, channel: str) -> Request:
        """The request, once where its card went is stored. Slack shows the card before its
        poster has the answer and stores it, and another replica may take a click in between:
        that click waits for the card (bounded), rather than being told it is not on it."""
        request = await self._request(request_id)
        for _ in range(CARD_WAIT_TRIES):
            if request.message_ts or request.channel != channel:
                break
            if request.state is not State.REQUESTED:
                break
            await asyncio.sleep(CARD_WAIT_S)
            request = await self._request(request_id)
        return request

    def _misplaced(self, request: Request, channel: str, message_ts: str) -> str | None:
        if not self.config.channel_allowed(channel):
            return f"habot is not enabled in this channel ({channel[:40]})"
        return model.misplaced(request, channel, message_ts)

    async def withdraw(self, request: Request, reason: str) -> None:
        """A request that cannot be decided where it was made: closed, and audited."""
        await off_loop(self.store.transition, request.id, [State.REQUESTED], State.REFUSED)
        await self._audit(request, "refused", request.requester, reason)

    async def expire(self, request_id: str) -> Request | None:
        expired = model.expire(await self._request(request_id), self.clock())
        if expired is None or not await off_loop(
            self.store.transition, request_id, [State.REQUESTED], State.EXPIRED
        ):
            return None
        await self._audit(expired, "expired", "", "no decision before the expiry")
        return expired

    async def run(self, request: Request, reporter: Reporter) -> RunOutcome | Busy | Refused:
        """Re-plan against a fresh status, take the cluster, run; exactly once per request."""
        cluster = CLUSTER.set(request.cluster)  # on every log line of the run
        run = RUN_ID.set(request.id)
        beating = asyncio.create_task(self._beat(), name=f"heartbeat-{request.id}")
        try:
            return await self._run(request, reporter)
        finally:
            beating.cancel()
            RUN_ID.reset(run)
            CLUSTER.reset(cluster)

    async def _run(self, request: Request, reporter: Reporter) -> RunOutcome | Busy | Refused:
        try:
            proposal = await self.propose(
                request.cluster, request.runbook, dict(request.params), preview=False
            )
        except (PlanError, HabotError) as e:
            return await self._refuse(request, f"the cluster changed: {e}")
        if fingerprint(proposal.plan) != request.plan_fingerprint:
            return await self._refuse(
                request,
                "the cluster changed: the plan would no longer be the one that was approved",
            )
        lock = await off_loop(
            self.store.take_cluster, request.cluster, request.id, request.runbook, self.clock()
        )
        if lock is not None and lock.request_id == request.id:  # its own run: not "busy"
            return Refused("this request is running already")
        if lock is not None:
            await off_loop(self.store.transition, request.id, [State.APPROVED], State.REFUSED)
            await self._audit(request, "refused", "", f"busy: {lock.runbook} ({lock.request_id})")
            RUNS.labels(request.runbook, "busy").inc()
            return Busy(lock)
        try:
            now = await self._fleet_now()
            if not await off_loop(self.store.start_run, request.id, self.replica, now):
                return Refused("this request is not approved, or already ran")
            try:
                await self._audit(request, "run started", "", f"on replica {self.replica}")
            except StoreError as e:
                await self._settle(request, State.FAILED, f"audit log not written: {e}")
                return Refused(f"the audit log could not be written ({e})")
            engine = self._engine(request.cluster, proposal.live)
            outcome = await engine.execute(proposal.plan, request.id, reporter)
            final = State.SUCCEEDED if outcome.succeeded else State.FAILED
            await self._settle(request, final, f"{outcome.duration_s:.1f} s")
            RUNS.labels(request.runbook, final.value).inc()
            return outcome
        finally:
            await self._release(request)

    async def _settle(self, request: Request, final: State, detail: str) -> None:
        """The run's end, recorded; a store that fails now is logged — the outcome is still
        reported, and a run left `running` is marked interrupted once it stops heart-beating."""
        try:
            if await off_loop(self.store.transition, request.id, [State.RUNNING], final):
                await self._audit(request, f"run {final.value}", "", detail)
            else:
                log.error(
                    "request %s: ended %s, but was marked interrupted meanwhile",
                    request.id,
                    final.value,
                )
        except StoreError as e:
            log.error("request %s: its end (%s) was not recorded: %s", request.id, final, e)

    async def _release(self, request: Request) -> None:
        try:
            await off_loop(self.store.release_cluster, request.cluster, request.id)
        except StoreError as e:
            log.error("%s: lock of request %s not released: %s", request.cluster, request.id, e)

    async def alerts_of_run(self, request: Request) -> list[str]:
        """What a run's thread should say at its end: the alerts raised while it ran about
        what it acts on — expected (its progress) or not (in the alerts channel)."""
        try:
            known = await off_loop(self.store.alerts, request.cluster, active_only=False)
        except StoreError as e:
            return [f"(alerts not read: {e})"]
        return [
            f"{a.title} ({'expected' if a.run_expected else 'in the alerts channel'})"
            for a in runs.caused(known, request.id)
        ]

    async def request_of(self, request_id: str) -> Request | None:
        return await off_loop(self.store.request, request_id)

    async def posted(self, request_id: str, message_ts: str, card: Sequence[object] = ()) -> None:
        """Where the request's card went (a decision counts only there), and what it shows."""
        await off_loop(self.store.set_message, request_id, message_ts, card)

    async def card(self, request_id: str) -> list[dict[str, Any]]:
        return await off_loop(self.store.card, request_id)

    async def audit_log(self, limit: int, actor: Actor | None) -> list[AuditRecord]:
        """The last `limit` entries of the clusters `actor` may view (their policy's channels
        and viewers); nothing of a cluster they may not see, not even that it exists. None:
        the console's operator, who holds the nodes' keys, sees every cluster."""
        names = tuple(self.ops.clusters)
        visible = (
            names if actor is None else tuple([n for n in names if await self._may_view(actor, n)])
        )
        if actor is not None and not visible:
            await self.may("view", actor, None)  # refused: said as for the default cluster
        entries = await off_loop(self.store.audit_log, limit, None, visible)
        return [AuditRecord.of(e) for e in entries]

    async def history(self, cluster: str | None, since_s: float, actor: Actor | None) -> History:
        """The cluster's last `since_s` seconds as a timeline (the `viewers` policy)."""
        handle = self.ops.cluster(cluster)
        if actor is not None:
            await self.may("view", actor, handle.name)
        now = self.clock()
        live, (logged, unread) = await asyncio.gather(
            self.ops.read(handle), events_since(handle, now - since_s, now)
        )
        alerts = await off_loop(self.store.alerts, handle.name, active_only=False)
        entries = await off_loop(self.store.audit_log, 2000, None, (handle.name,))
        return timeline(
            handle.name,
            live.status,
            alerts,
            [AuditRecord.of(e) for e in entries],
            since=now - since_s,
            until=now,
            zone=handle.config.alerts.log_timezone,
            logged=logged,
            unread=unread,
        )

    async def database_answers(self) -> bool:
        """The readiness probe's question: does the store answer now?"""
        try:
            await off_loop(self.store.ping)
        except StoreError:
            return False
        return True

    async def may_view_privately(self, user: str, cluster: str) -> bool:
        """Whether `user` may see `cluster` where only they see it (the home tab): as a
        viewer in one of its channels they are a member of (any, when it answers anywhere)."""
        channels = self.rules(cluster)["channels"].value
        if channels == "any":
            return await self._may_view(Actor(user, policy.VIA_HOME), cluster)
        for channel in channels if isinstance(channels, tuple | list) else ():
            in_it = user in await self.directory.members(str(channel))
            if in_it and await self._may_view(Actor(user, str(channel)), cluster):
                return True
        return False

    async def may_decide(self, request: Request, user: str) -> bool:
        """Whether an Approve by `user` would count now (the home tab shows it only then)."""
        if request.state is not State.REQUESTED or user in request.approvals:
            return False
        rules = self.rules(request.cluster, request.runbook)
        if user == request.requester and not rules["self_approval"].value:
            return False
        return await self._not_approver(rules, user, request.channel) is None

    async def _may_view(self, actor: Actor, cluster: str) -> bool:
        try:
            await self.may("view", actor, cluster)
        except policy.PolicyError:
            return False
        return True

    async def expire_due(self) -> list[Request]:
        """Every waiting request past its expiry, expired now (each audited)."""
        waiting = await off_loop(self.store.requests_in, State.REQUESTED)
        due = [await self.expire(r.id) for r in waiting if r.expires <= self.clock()]
        return [r for r in due if r is not None]

    def destructive(self, request: Request) -> bool:
        runbook = by_name(self.runbooks, request.runbook)
        return runbook.destructive if runbook is not None else False

    async def busy_with(self, cluster: str) -> ClusterLock | None:
        """Who holds the cluster now, without taking it."""
        return await off_loop(self.store.cluster_lock, cluster)

    async def _beat(self) -> None:
        """From the approval to the run's end: its replica is alive, every HEARTBEAT_S (a
        database that does not answer for a while is logged; the run goes on)."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await off_loop(self.store.heartbeat, self.replica, await self._fleet_now())
            except StoreError as e:
                log.error("heartbeat of replica %s not written: %s", self.replica, e)

    async def interrupt_stale(self) -> list[Request]:
        """Runs whose replica stopped heart-beating (it died, or stopped mid-run): marked
        interrupted by exactly one replica — these are this one's to announce — never re-run.
        Any replica calls it at start and every HEARTBEAT_S."""
        before = await self._fleet_now() - STALE_AFTER_S
        stale = await off_loop(self.store.interrupt_silent, before)
        for request in stale:
            await self._audit(
                request, "interrupted", "", "its habot process stopped while the run was going"
            )
        return stale

    async def abandon(self) -> None:
        """This replica stops: its runs (cut short) are left for the next sweep at once."""
        await off_loop(self.store.abandon_runs, self.replica)

    def _engine(self, cluster: str, snapshot: LiveStatus | None) -> Engine:
        handle = self.ops.cluster(cluster)

        async def read() -> LiveStatus:
            return await self.ops.read(handle)

        return Engine(
            cluster=handle.name,
            transport=handle.transport,
            nodes=[n.address() for n in handle.config.nodes],
            read_status=read,
            audit=RunAudit(self.store, handle.name, self.clock, owner=self.replica),
            snapshot=snapshot,
        )

    async def _refuse(self, request: Request, reason: str) -> Refused:
        await off_loop(self.store.transition, request.id, [State.APPROVED], State.REFUSED)
        await self._audit(request, "refused", "", reason)
        RUNS.labels(request.runbook, "refused").inc()
        return Refused(reason)

    async def _request(self, request_id: str) -> Request:
        request = await off_loop(self.store.request, request_id)
        if request is None:
            raise UsageError(f"no request {request_id[:20]}")
        return request

    async def _audit(self, request: Request, event: str, user: str, detail: str) -> None:
        await off_loop(
            self.store.audit,
            at=self.clock(),
            cluster=request.cluster,
            event=event,
            request_id=request.id,
            user=user,
            detail=f"{request.runbook}: {detail}" if detail else request.runbook,
        )


def _params_text(plan: Plan) -> str:
    return " ".join(f"{k}={v}" for k, v in plan.params)
