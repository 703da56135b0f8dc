"""A planned stop is not a failure, and a crash after a node's return is (pure)."""

from __future__ import annotations

from habot.alerts.logline import LogLine
from habot.alerts.planned import PLANNED_STOP_S, quiet
from habot.alerts.rules import Match, load_catalogue

CATALOGUE = load_catalogue()


def logged(node: str, ident: str, text: str, at: float) -> Match:
    found = CATALOGUE.match(LogLine(node, ident, "notice", text, at))
    assert found is not None, text
    return found


STOP = ("pacemaker-attrd", "Setting shutdown[nodo2]: (unset) -> 1796143021")
BACK = ("pacemaker-attrd", "Node nodo2 state is now member | nodeid=2 previous=lost")
LOST = ("pacemaker-controld", "Node nodo2 state is now lost | nodeid=2")


def keys(matches: list[Match]) -> list[str]:
    return [m.key for m in matches]


def test_lost_after_a_clean_stop_is_quiet() -> None:
    kept, stopped = quiet([logged("nodo1", *STOP, 100), logged("nodo1", *LOST, 104)], {}, 110)
    assert keys(kept) == []
    assert stopped == {"nodo2": 100}


def test_a_crash_after_the_node_came_back_is_not() -> None:
    """Stopped, started again, then crashed — all within five minutes (the lab's reset before
    its crash test does exactly this)."""
    lines = [logged("nodo1", *STOP, 100), logged("nodo1", *BACK, 130), logged("nodo1", *LOST, 200)]
    kept, stopped = quiet(lines, {}, 210)
    assert keys(kept) == ["node-lost:nodo2"]
    assert stopped == {}


def test_a_stop_long_ago_quiets_nothing() -> None:
    kept, _ = quiet([logged("nodo1", *LOST, 1000)], {"nodo2": 1000 - PLANNED_STOP_S - 1}, 1010)
    assert keys(kept) == ["node-lost:nodo2"]


def test_a_stop_remembered_from_an_earlier_poll() -> None:
    kept, _ = quiet([logged("nodo1", *LOST, 150)], {"nodo2": 100}, 160)
    assert keys(kept) == []


def test_another_nodes_stop_quiets_nothing_here() -> None:
    other = ("pacemaker-attrd", "Setting shutdown[nodo1]: (unset) -> 1796143021")
    kept, _ = quiet([logged("nodo2", *other, 100), logged("nodo1", *LOST, 104)], {}, 110)
    assert keys(kept) == ["node-lost:nodo2"]
