"""`/ha schedule`: a runbook or a verb, at a time with its zone or in a delay; the list; a
cancel. And what a scheduled run compares at its time (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from habot.approvals.schedule import changed, what_moves
from habot.cluster.simulate import PlannedAction
from habot.commands.grammar import RunRunbook, Schedule, parse
from habot.errors import UsageError

AT = datetime(2026, 12, 8, 2, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule", Schedule()),
        ("schedule cluster=web", Schedule(cluster="web")),
        ("schedule cancel r1a2b3", Schedule(cancel="r1a2b3")),
        (
            "schedule failover VirtualIP nodo2 at 2026-12-08T02:00Z",
            Schedule(RunRunbook("failover", (("resource", "VirtualIP"), ("node", "nodo2"))), at=AT),
        ),
        (
            "schedule runbook cleanup resource=WebSite at 2026-12-08T03:00+01:00",
            Schedule(RunRunbook("cleanup", (("resource", "WebSite"),)), at=AT),
        ),
        (
            "schedule cleanup resource=WebSite in 90m cluster=web",
            Schedule(RunRunbook("cleanup", (("resource", "WebSite"),)), in_s=5400, cluster="web"),
        ),
        ("schedule node-maintenance node=nodo1 in PT2H", None),
        ("schedule node-maintenance node=nodo1 in P1DT30M", None),
    ],
)
def test_what_schedule_reads(text: str, expected: Schedule | None) -> None:
    command = parse(text)
    assert isinstance(command, Schedule)
    if expected is not None:
        assert command == expected
    else:
        assert command.in_s in (7200, 86400 + 1800)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("schedule failover VirtualIP nodo2", "usage: `/ha schedule"),
        ("schedule failover VirtualIP nodo2 at tomorrow", "not an ISO 8601 time"),
        ("schedule failover VirtualIP nodo2 at 2026-12-08T02:00", "has no time zone"),
        ("schedule failover VirtualIP nodo2 in 0m", "no delay at all"),
        ("schedule failover VirtualIP nodo2 in PT", "not a delay"),
        ("schedule failover VirtualIP nodo2 in 2 hours", "usage: `/ha schedule"),
        ("schedule cleanup WebSite --dry-run in 1h", "no --dry-run"),
        ("schedule cancel", "usage: `/ha schedule cancel ID`"),
        ("schedule cancel ../../etc", "usage: `/ha schedule cancel ID`"),
        ("schedule failover Virtual;IP nodo2 in 1h", "not a valid resource name"),
    ],
)
def test_what_schedule_refuses(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=None) as e:
        parse(text)
    assert said in str(e.value)


def test_a_preview_is_compared_on_what_it_moves_and_stops() -> None:
    move = PlannedAction("VirtualIP", "move", "nodo1", "nodo2")
    start = PlannedAction("WebSite", "start", "", "nodo2")
    stop = PlannedAction("WebSite", "stop", "nodo1")
    then = what_moves([move, start], ())
    assert then == "VirtualIP: move nodo1 → nodo2"
    assert what_moves([start, move], ()) == then  # order is no change
    assert what_moves([move], ()) == then  # a start alone is no change of what moves
    now = what_moves([move, stop], ["WebFS"])
    assert now != then
    assert changed(then, now) == (
        "the preview changed since it was approved: now also WebFS: left with nowhere to run; "
        "WebSite: stop on nodo1"
    )
    assert "no longer VirtualIP: move nodo1 → nodo2" in changed(then, what_moves([], ()))
    assert what_moves(None, ()) == "(no preview)"
    assert changed(then, what_moves([start], ())) == (
        "the preview changed since it was approved: no longer VirtualIP: move nodo1 → nodo2, "
        "it would move and stop nothing now"
    )
    assert changed(then, "(no preview)").endswith("there is none now")
