"""Alerts raised during a run (pure): what the run expects goes to its thread; what it did not
expect about what it acts on still alerts (and its thread is told); anything else is none of
the run's business; when in doubt, it alerts."""

from __future__ import annotations

from dataclasses import replace

from habot.alerts.lifecycle import Alert
from habot.alerts.runs import ActiveRun, caused, subjects, tie

FENCE = ActiveRun(
    "r7",
    "fence-test",
    "COPS",
    "1700000001.000100",
    frozenset({"nodo2"}),
    frozenset({"node-fenced", "node-lost", "token-loss", "corosync-lost-node"}),
)
MOVE = ActiveRun(
    "r8",
    "failover",
    "COPS",
    "1700000002.000100",
    frozenset({"VirtualIP", "nodo2"}),
    frozenset({"move-constraint-left"}),
)


def alert(key: str, **fields: str) -> Alert:
    return Alert(
        key=key,
        cluster="mycluster",
        rule=key.split(":")[0],
        severity="high",
        title=key,
        node=fields.get("node", ""),
        fields=tuple(fields.items()),
        first_seen=100.0,
        last_seen=100.0,
    )


def test_what_the_run_expects_about_what_it_names_is_its_progress() -> None:
    fenced = tie(alert("node-fenced:nodo2", node="nodo2"), [FENCE])
    assert (fenced.run, fenced.run_expected) == ("r7", True)
    assert (fenced.run_channel, fenced.run_ts) == ("COPS", "1700000001.000100")
    # corosync names the peer by id; habot resolved it to the node the run fences
    lost = tie(alert("corosync-lost:2", node="nodo1", peer_name="nodo2"), [FENCE])
    lost = replace(lost, rule="corosync-lost-node")
    assert subjects(lost) == {"2", "nodo2"}
    assert tie(replace(lost, run=""), [FENCE]).run_expected
    # a finding about nothing in particular, which the move leaves until it clears
    assert tie(alert("move-constraint-left"), [MOVE]).run_expected


def test_an_expected_kind_about_another_node_still_alerts() -> None:
    other = tie(alert("node-lost:nodo1", node="nodo1"), [FENCE])
    assert other.run == ""  # nodo1 is not the node being fenced: a real incident
    seen_from = tie(alert("token-loss:nodo1", node="nodo1"), [FENCE])
    assert seen_from.run == ""  # named after the other node: when in doubt, alert


def test_an_unexpected_alert_about_what_the_run_acts_on_is_tied_but_alerts() -> None:
    failed = tie(alert("resource-failed:VirtualIP:nodo2", resource="VirtualIP"), [MOVE])
    assert (failed.run, failed.run_expected) == ("r8", False)
    unrelated = tie(alert("resource-failed:WebData:nodo1", resource="WebData"), [MOVE])
    assert unrelated.run == ""
    assert tie(alert("move-constraint-left"), [FENCE]).run == ""  # not the fence's doing
    assert tie(alert("move-constraint-left"), []).run == ""


def test_a_posted_alert_is_never_tied_afterwards_and_caused_lists_a_runs_alerts() -> None:
    posted = replace(alert("node-fenced:nodo2", node="nodo2"), message_ts="1.2", token="t")
    assert tie(posted, [FENCE]).run == ""
    a = tie(alert("node-fenced:nodo2", node="nodo2"), [FENCE])
    b = tie(replace(alert("node-lost:nodo2", node="nodo2"), first_seen=50.0), [FENCE])
    c = alert("node-lost:nodo1", node="nodo1")
    assert [x.key for x in caused([a, b, c], "r7")] == ["node-lost:nodo2", "node-fenced:nodo2"]
