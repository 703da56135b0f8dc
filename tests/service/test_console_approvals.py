"""The console cannot impersonate approvers: its user is the OS user, and it approves its own
requests only in single-operator mode, written as such in the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from habot.approvals.model import State
from habot.console.repl import Console
from tests.fakes.cluster import Scene, scene


def console(s: Scene, answers: list[str]) -> tuple[Console, list[str]]:
    out: list[str] = []
    replies = iter(answers)

    async def ask(prompt: str) -> str:
        out.append(prompt)
        return next(replies)

    typed: Callable[[str], Awaitable[str]] = ask
    return Console(s.ops, s.workflow, out.append, typed, user="console:ops"), out


async def test_without_single_operator_mode_nothing_runs_and_it_says_who_may_approve() -> None:
    s = scene(approvers=["UBOB", "S0OPS"])
    c, _ = console(s, [])
    c.approvers = "UBOB, S0OPS"
    reply = await c.answer("/ha runbook fence-test node=nodo2")
    assert reply.startswith("not run: fence-test needs approval by UBOB, S0OPS in Slack")
    assert "console_single_operator: true" in reply
    refused = s.store.requests_in(State.REFUSED)
    assert [r.requester for r in refused] == ["console:ops"]
    events = [(e.event, e.user) for e in s.store.audit_log(10)]
    assert events == [("requested", "console:ops"), ("refused", "console:ops")]
    s.transport.assert_done()  # status reads only


async def test_single_operator_mode_approves_alone_and_the_audit_says_so() -> None:
    s = scene(console_single_operator=True)
    s.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    c, prompts = console(s, ["y"])
    reply = await c.answer("/ha runbook cleanup resource=WebSite")
    assert "succeeded" in reply
    assert any("as console:ops? [y/N]" in line for line in prompts)
    approved = [e for e in s.store.audit_log(20) if e.event == "approved"]
    assert approved[0].user == "console:ops"
    assert "single-operator mode" in approved[0].detail
    s.transport.assert_done()


async def test_a_typed_name_is_no_approver() -> None:
    """Typing another person's name at the prompt is a "no", never their approval."""
    s = scene(console_single_operator=True)
    c, _ = console(s, ["UBOB"])
    assert await c.answer("/ha runbook cleanup resource=WebSite") == "denied: nothing ran"
    assert all(e.user != "UBOB" for e in s.store.audit_log(20))
    assert s.store.requests_in(State.DENIED)[0].decided_by == "console:ops"
    s.transport.assert_done()


async def test_the_console_refuses_when_the_cluster_is_busy() -> None:
    s = scene(console_single_operator=True)
    assert s.store.take_cluster("mycluster", "r0", "fence-test", 0.0) is None
    c, _ = console(s, ["yes"])
    reply = await c.answer("/ha runbook cleanup resource=WebSite")
    assert reply == "refused: fence-test [r0] holds the cluster"
    assert [r.runbook for r in s.store.requests_in(State.REFUSED)] == ["cleanup"]
    assert s.store.requests_in(State.APPROVED) == []


async def test_odd_audit_numbers_are_usage_errors_not_crashes() -> None:
    c, _ = console(scene(), [])
    assert "usage: `/ha audit [N]`" in await c.answer("/ha audit ²")


async def test_the_console_schedules_lists_and_runs_at_the_time() -> None:
    """In single-operator mode the console schedules a run (approved alone), lists it, and
    runs it when its time has come; without that mode it is asked for in Slack."""
    s = scene(console_single_operator=True)
    c, prompts = console(s, ["y"])
    reply = await c.answer("/ha schedule cleanup WebSite in 2h")
    assert reply.startswith("scheduled: cleanup [")
    assert "runs at 2027-01-15 10:00 UTC" in reply
    assert "for 2027-01-15 10:00 UTC as console:ops? [y/N]" in prompts[-1]
    listed = await c.answer("/ha schedule")
    assert "2027-01-15 10:00 UTC  cleanup resource=WebSite" in listed
    assert "approved by console:ops" in listed
    await c.run_due()  # not yet
    s.transport.expect(None, ("pcs", "resource", "cleanup", "WebSite"))
    s.clock.now += 7200
    await c.run_due()
    s.transport.assert_done()
    assert "it is 2027-01-15 10:00 UTC: cleanup" in "".join(prompts)
    assert s.store.requests_in(State.SUCCEEDED)[0].runbook == "cleanup"
    c2, _ = console(scene(), [])  # not in single-operator mode
    assert (await c2.answer("/ha schedule cleanup WebSite in 1h")).startswith(
        "not scheduled: cleanup needs approval by"
    )
