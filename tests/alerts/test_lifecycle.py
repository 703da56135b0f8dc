"""Dedup and the alert's life (pure)."""

from __future__ import annotations

from habot.alerts import lifecycle
from habot.alerts.episodes import Flapping, fold
from habot.alerts.lifecycle import Alert, Change, State
from habot.alerts.logline import LogLine
from habot.alerts.rules import load_catalogue

CATALOGUE = load_catalogue()


def observe(current: Alert | None, m, cluster: str, now: float) -> tuple[Alert, Change]:  # type: ignore[no-untyped-def]
    folded = fold(current, m, cluster, now, Flapping())
    return folded.alert, folded.change


def match(text: str, node: str = "nodo1"):  # type: ignore[no-untyped-def]
    found = CATALOGUE.match(LogLine(node=node, identifier="x", level="error", text=text))
    assert found is not None
    return found


def test_same_key_within_the_window_counts_on_the_same_card() -> None:
    m = match("Resource start-up disabled since no STONITH resources have been defined")
    alert, change = observe(None, m, "mycluster", 1000)
    assert change is Change.POST
    alert, change = observe(alert, m, "mycluster", 1030)
    assert (change, alert.count, alert.first_seen, alert.last_seen) == (
        Change.UPDATE,
        2,
        1000,
        1030,
    )


def test_after_the_window_or_resolution_it_is_a_new_card() -> None:
    m = match("Node nodo2 state is now lost")
    alert, _ = observe(None, m, "mycluster", 1000)
    _, change = observe(alert, m, "mycluster", 1000 + 3601)
    assert change is Change.POST
    resolved = lifecycle.resolve(alert, 1100)
    assert resolved.state is State.RESOLVED
    _, change = observe(resolved, m, "mycluster", 1200)
    assert change is Change.POST


def test_snooze_expires_and_acknowledge_sticks() -> None:
    m = match("Node nodo2 state is now lost")
    alert, _ = observe(None, m, "mycluster", 1000)
    snoozed = lifecycle.snooze(alert, "UBOB", 2000)
    still, _ = observe(snoozed, m, "mycluster", 1500)
    assert still.state is State.SNOOZED
    woke, _ = observe(snoozed, m, "mycluster", 2500)
    assert woke.state is State.OPEN
    acked = lifecycle.acknowledge(alert, "UBOB")
    again, _ = observe(acked, m, "mycluster", 1100)
    assert again.state is State.ACKNOWLEDGED
    assert again.title == "nodo2 left the cluster"
