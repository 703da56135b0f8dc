"""What runs is what the approver saw: targets, scratch files, the audit log — on the scripted
transport (no lab), with the real workflow, engine and store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from habot import log_format
from habot.approvals.model import Request, State
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import STATUS, LiveStatus
from habot.cluster.scratch import MKTEMP
from habot.errors import TransportError
from habot.runbooks.engine import Engine, RunOutcome, StepOutcome
from habot.runbooks.model import Runbook
from habot.runbooks.plan import PlanError, PlannedStep, make_plan
from habot.service.audit import RunAudit
from habot.service.workflow import Busy, Refused
from habot.store import Store, StoreError
from tests.fakes.cluster import Scene, scene

PRIVATE = "/tmp/habot.Ab3dEf9hIj"


class Recorder:
    """The thread of a run, as a list."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[StepOutcome] = []

    async def step_started(self, index: int, step: PlannedStep, rollback: bool) -> None:
        self.started.append(("rollback " if rollback else "") + step.name)

    async def step_finished(self, outcome: StepOutcome) -> None:
        self.finished.append(outcome)


class FlakyStore(Store):
    """The real store, except that chosen audit writes fail (a full disk, a locked file)."""

    def __init__(self, fail_when: Any) -> None:
        super().__init__(":memory:")
        self.fail_when = fail_when

    def audit(self, **entry: Any) -> None:
        if self.fail_when(entry):
            raise StoreError("the database cannot be written: disk I/O error")
        super().audit(**entry)

    def audit_as_owner(self, owner: str, **entry: Any) -> bool:
        if self.fail_when(entry):
            raise StoreError("the database cannot be written: disk I/O error")
        return super().audit_as_owner(owner, **entry)


UNDOABLE = Runbook.model_validate(
    {
        "name": "undoable",
        "summary": "disable then enable WebSite; undo enables it",
        "approval": "one",
        "steps": [
            {"name": "disable", "run": ["pcs", "resource", "disable", "WebSite"]},
            {"name": "enable", "run": ["pcs", "resource", "enable", "WebSite"]},
        ],
        "on_failure": "rollback",
        "rollback": [{"name": "undo", "run": ["pcs", "resource", "enable", "WebSite"]}],
    }
)


async def approved(s: Scene, name: str, **params: str) -> Request:
    proposal = await s.workflow.propose(None, name, params, preview=False)
    request = await s.workflow.request(proposal, "UALICE", "COPS")
    s.store.set_message(request.id, "1700000001.000100")
    decision = await s.workflow.approve(
        request.id, "UBOB", channel="COPS", message_ts="1700000001.000100"
    )
    assert decision.complete, decision.refusal
    return decision.request


async def run(s: Scene, name: str, **params: str) -> tuple[Any, Recorder]:
    request = await approved(s, name, **params)
    recorder = Recorder()
    return await s.workflow.run(request, recorder), recorder


# -- 3. a step runs only on a node habot is configured for ------------------------------------


async def test_a_target_outside_the_config_is_refused_before_any_card() -> None:
    s = scene(nodes=("nodo1",))  # the cluster has nodo1 and nodo2
    with pytest.raises(PlanError, match="'nodo2' is a node of the cluster but not in habot"):
        await s.workflow.propose(None, "fence-test", {"node": "nodo2"}, preview=False)
    assert s.store.audit_log() == []  # no request, no card
    s.transport.assert_done()


async def test_the_engine_never_runs_a_step_elsewhere() -> None:
    """A plan made without the config (an older habot) still never runs on another node."""
    s = scene(nodes=("nodo1",))
    live = await s.ops.read(s.ops.cluster(None))
    runbook = s.workflow.runbooks["fence-test"]
    plan = make_plan(runbook, {"node": "nodo2"}, live.status, cluster="mycluster")
    assert plan.steps[0].target == "nodo2"
    engine = Engine(
        cluster="mycluster",
        transport=s.transport,
        nodes=[n.address() for n in s.config.clusters["mycluster"].nodes],
        read_status=lambda: s.ops.read(s.ops.cluster(None)),
        audit=RunAudit(s.store, "mycluster", s.clock),
    )
    outcome = await engine.execute(plan, "r1", Recorder())
    assert not outcome.succeeded
    assert "not in habot's config" in outcome.steps[0].detail
    assert ("pcs", "cluster", "stop") not in s.transport.ran()
    s.transport.assert_done()


# -- 4. private scratch directories ----------------------------------------------------------


async def test_the_preview_uses_a_private_directory_and_removes_it() -> None:
    s = scene()
    s.transport.expect("nodo1", MKTEMP, stdout=f"{PRIVATE}\n".encode())
    s.transport.expect("nodo1", ("pcs", "cluster", "cib", f"{PRIVATE}/cib.xml"))
    s.transport.expect(
        "nodo1",
        (
            "pcs",
            "-f",
            f"{PRIVATE}/cib.xml",
            "resource",
            "move-with-constraint",
            "VirtualIP",
            "nodo2",
        ),
        rc=1,
        stderr=b"Error: cannot move",
    )
    s.transport.expect("nodo1", ("rm", "-rf", "--", PRIVATE))
    proposal = await s.workflow.propose(
        None, "failover", {"resource": "VirtualIP", "node": "nodo2"}
    )
    assert "cannot move" in proposal.preview_error
    s.transport.assert_done()
    assert not any("/tmp/habot-" in a for argv in s.transport.ran() for a in argv)


CIB_STEP = Runbook.model_validate(
    {
        "name": "shadow",
        "summary": "one shadow-CIB step",
        "approval": "one",
        "steps": [{"name": "edit", "cib": [["resource", "disable", "WebSite"]]}],
    }
)


@pytest.mark.parametrize("failure", ["rc", "unreachable"])
async def test_a_cib_step_cleans_its_private_directory_whatever_happens(failure: str) -> None:
    s = scene()
    s.workflow.runbooks["shadow"] = CIB_STEP
    s.transport.expect(None, MKTEMP, stdout=f"{PRIVATE}\n".encode())
    s.transport.expect(None, ("pcs", "cluster", "cib", f"{PRIVATE}/cib.xml"))
    s.transport.expect(None, ("cp", "--", f"{PRIVATE}/cib.xml", f"{PRIVATE}/cib-original.xml"))
    edit = ("pcs", "-f", f"{PRIVATE}/cib.xml", "resource", "disable", "WebSite")
    if failure == "rc":
        s.transport.expect(None, edit, rc=1, stderr=b"Error: no such resource")
    else:
        s.transport.expect(None, edit, raises=TransportError("nodo1", "connection lost"))
    s.transport.expect(None, ("rm", "-rf", "--", PRIVATE))
    outcome, _ = await run(s, "shadow")
    assert isinstance(outcome, RunOutcome)
    assert not outcome.succeeded
    assert "cib-push" not in str(s.transport.ran())
    s.transport.assert_done()


async def test_mktemp_output_that_is_not_a_private_directory_stops_the_step() -> None:
    s = scene()
    s.workflow.runbooks["shadow"] = CIB_STEP
    s.transport.expect(None, MKTEMP, stdout=b"/etc\n")
    outcome, _ = await run(s, "shadow")
    assert not outcome.succeeded
    assert "cannot make a private directory" in outcome.steps[0].detail
    s.transport.assert_done()


# -- 5. the audit log leads ------------------------------------------------------------------


async def test_each_command_is_in_the_audit_log_before_it_starts() -> None:
    s = scene()
    s.workflow.runbooks["undoable"] = UNDOABLE
    seen: list[list[str]] = []

    def look(node: object, argv: tuple[str, ...]) -> None:
        seen.append([f"{e.event} {' '.join(e.argv)}" for e in s.store.audit_log(50)])

    disable = ("pcs", "resource", "disable", "WebSite")
    s.transport.expect(None, disable, before=look)
    s.transport.expect(None, ("pcs", "resource", "enable", "WebSite"))
    outcome, _ = await run(s, "undoable")
    assert outcome.succeeded
    assert seen[0][-1] == "command started pcs resource disable WebSite"
    events = [(e.event, e.argv) for e in s.store.audit_log(50)]
    assert events.index(("command started", disable)) < events.index(("command", disable))


@pytest.mark.parametrize("which", ["command started", "command"])
async def test_a_store_error_mid_run_fails_the_run_rolls_back_and_frees_the_cluster(
    which: str,
) -> None:
    failed = []

    def fail_once(entry: dict[str, Any]) -> bool:
        hit = entry["event"] == which and tuple(entry.get("argv", ()))[2:3] == ("disable",)
        if hit and not failed:
            failed.append(entry)
            return True
        return False

    s = scene(store=FlakyStore(fail_once))
    s.workflow.runbooks["undoable"] = UNDOABLE
    if which == "command":  # the result could not be written: it ran, and nothing after it
        s.transport.expect(None, ("pcs", "resource", "disable", "WebSite"))
    s.transport.expect(None, ("pcs", "resource", "enable", "WebSite"))  # the rollback
    outcome, thread = await run(s, "undoable")
    s.transport.assert_done()
    assert isinstance(outcome, RunOutcome)
    assert not outcome.succeeded
    assert outcome.rolled_back
    assert "the audit log could not be written" in thread.finished[0].detail
    assert thread.started == ["disable", "rollback undo"]
    request = s.store.request(outcome.request_id)
    assert request is not None
    assert request.state is State.FAILED
    assert await s.workflow.busy_with("mycluster") is None  # the lock is free


async def test_a_busy_cluster_refuses_the_request_for_every_frontend() -> None:
    s = scene()
    s.workflow.runbooks["undoable"] = UNDOABLE
    assert s.store.take_cluster("mycluster", "other", "fence-test", 0.0) is None
    result = await s.workflow.run(await approved(s, "undoable"), Recorder())
    assert isinstance(result, Busy)
    states = [r.state for r in s.store.requests_in(State.REFUSED)]
    assert states == [State.REFUSED]
    assert all(argv == STATUS for argv in s.transport.ran())  # status reads only


async def test_an_audit_log_that_cannot_be_written_at_the_start_runs_nothing() -> None:
    s = scene(store=FlakyStore(lambda e: e["event"] == "run started"))
    s.workflow.runbooks["undoable"] = UNDOABLE
    result = await s.workflow.run(await approved(s, "undoable"), Recorder())
    assert isinstance(result, Refused)
    assert "audit log" in result.reason
    s.transport.assert_done()
    assert await s.workflow.busy_with("mycluster") is None


# -- logs: a run's context is its own ---------------------------------------------------------


async def test_a_runs_log_context_is_set_during_the_run_and_gone_after() -> None:
    s = scene()
    seen: list[tuple[str, str]] = []
    s.transport.expect(
        None,
        ("pcs", "resource", "cleanup", "WebSite"),
        before=lambda node, argv: seen.append((log_format.CLUSTER.get(), log_format.RUN_ID.get())),
    )
    outcome, _ = await run(s, "cleanup", resource="WebSite")
    assert outcome.succeeded
    assert seen == [("mycluster", "r1")]  # every log line of the run carries both
    assert (log_format.CLUSTER.get(), log_format.RUN_ID.get()) == ("", "")  # none after it
    s.transport.assert_done()


# -- 6. a run swept as interrupted stops: every command is fenced by ownership ---------------

TWO_STEPS = Runbook.model_validate(
    {
        "name": "two-steps",
        "summary": "two commands and a rollback",
        "approval": "one",
        "parameters": {"resource": {"type": "resource"}},
        "steps": [
            {"name": "first", "run": ["pcs", "resource", "disable", "{{ resource }}"]},
            {"name": "second", "run": ["pcs", "resource", "enable", "{{ resource }}"]},
        ],
        "on_failure": "rollback",
        "rollback": [{"name": "undo", "run": ["pcs", "resource", "cleanup", "{{ resource }}"]}],
    }
)


async def test_a_run_swept_while_its_replica_was_paused_runs_no_further_command() -> None:
    """The first command outlives the sweep (the replica was frozen meanwhile): the sweep of
    another replica marks it interrupted, and when this one resumes neither the next step
    nor the rollback starts — the ownership check is in the same transaction as the audit
    entry every command waits for."""
    s = scene()
    s.workflow.runbooks["two-steps"] = TWO_STEPS
    swept: list[Request] = []

    async def sweep_meanwhile() -> None:
        swept.extend(s.store.interrupt_silent(before=s.clock() + 3600))  # another replica

    s.transport.expect(None, ("pcs", "resource", "disable", "WebSite"), delay=0.2)
    request = await approved(s, "two-steps", resource="WebSite")
    running = asyncio.create_task(s.workflow.run(request, Recorder()))
    disable = ("pcs", "resource", "disable", "WebSite")
    for _ in range(100):  # bounded: until the first command is under way
        if disable in s.transport.ran():
            break
        await asyncio.sleep(0.01)
    await sweep_meanwhile()
    outcome = await running
    assert [r.id for r in swept] == [request.id]
    assert isinstance(outcome, RunOutcome)
    assert not outcome.succeeded
    assert not outcome.rolled_back
    assert "no longer owns the run" in outcome.steps[-1].detail
    assert [argv for argv in s.transport.ran() if argv[0] == "pcs"] == [disable]
    final = s.store.request(request.id)
    assert final is not None
    assert final.state is State.INTERRUPTED  # the sweep's word stands
    started = [e for e in s.store.audit_log(50) if e.event == "command started"]
    assert len(started) == 1
    s.transport.assert_done()


def test_a_command_is_recorded_only_by_the_runs_owner() -> None:
    s = scene()
    s.store.add_request(
        Request(
            id="r9",
            cluster="mycluster",
            runbook="cleanup",
            params=(("resource", "WebSite"),),
            requester="UALICE",
            channel="C",
            created=1.0,
            expires=2e9,
            approvals_needed=1,
            plan_fingerprint="f",
        )
    )
    entry = {"at": 1.0, "cluster": "mycluster", "event": "command started", "request_id": "r9"}
    assert not s.store.audit_as_owner("a", **entry)  # only requested: nobody's run
    assert s.store.transition("r9", [State.REQUESTED], State.APPROVED, owner="a", now=1.0)
    assert s.store.start_run("r9", "a", 1.0)
    assert not s.store.audit_as_owner("b", **entry)  # another replica's
    assert s.store.audit_as_owner("a", **entry)
    s.store.interrupt_silent(before=10.0)
    assert not s.store.audit_as_owner("a", **entry)
    assert len(s.store.audit_log(10, request_id="r9")) == 1


# -- 5. a wait sees the cluster as it is now ------------------------------------------------


async def test_a_wait_before_any_command_reads_the_cluster_again() -> None:
    """The status the plan was checked on may serve a check made at once, never a wait that
    polls: a restart whose first step waits for the resource to run must see it start."""
    fixtures = Path(__file__).parents[1] / "fixtures" / "crm_mon"
    stopped = parse_crm_mon((fixtures / "lab_seed_no_stonith.xml").read_bytes())
    running = parse_crm_mon((fixtures / "lab_seed_fenced.xml").read_bytes())
    waits = Runbook.model_validate(
        {
            "name": "waits",
            "summary": "wait until WebSite runs",
            "steps": [
                {
                    "name": "running",
                    "wait": [{"resource_running": {"resource": "WebSite"}}],
                    "timeout": 5,
                }
            ],
        }
    )
    plan = make_plan(waits, {}, stopped, cluster="mycluster")
    reads = []

    async def read() -> LiveStatus:
        reads.append(1)
        return LiveStatus(running if len(reads) > 1 else stopped, "nodo1", {})

    s = scene()
    engine = Engine(
        cluster="mycluster",
        transport=s.transport,
        nodes=[n.address() for n in s.config.clusters["mycluster"].nodes],
        read_status=read,
        audit=RunAudit(s.store, "mycluster", s.clock),
        poll_interval_s=0.01,
        snapshot=LiveStatus(stopped, "nodo1", {}),  # what the plan was checked on
    )
    outcome = await engine.execute(plan, "r1", Recorder())
    assert outcome.succeeded, outcome.steps[0].detail
    assert len(reads) >= 2
