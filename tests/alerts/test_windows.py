"""Maintenance windows (pure): what a window touches, when it ends and reminds, its summary."""

from __future__ import annotations

from dataclasses import replace

from habot.alerts.lifecycle import Alert
from habot.alerts.windows import (
    REMIND_BEFORE_S,
    Window,
    WindowState,
    covering,
    due_reminder,
    due_to_end,
    end,
    summary,
    touches,
)

T0 = 1_800_000_000.0


def alert(key: str, logged_on: str = "nodo1", **fields: str) -> Alert:
    """An alert logged on `logged_on`, with `fields` (node=…: the node it is about)."""
    return Alert(
        key=key,
        cluster="mycluster",
        rule=key.split(":")[0],
        severity="critical",
        title=f"{key} seen",
        node=logged_on,
        fields=tuple(fields.items()),
        first_seen=T0,
        last_seen=T0,
    )


def window(node: str = "", resource: str = "", **changes: object) -> Window:
    w = Window("w1", "mycluster", node, resource, T0, T0 + 7200, "patching", "UALICE")
    return replace(w, **changes)  # type: ignore[arg-type]


def test_a_node_window_touches_alerts_about_that_node_whoever_logged_them() -> None:
    on_nodo2 = window(node="nodo2")
    assert touches(on_nodo2, alert("node-lost:nodo2", logged_on="nodo1", node="nodo2"))
    assert touches(on_nodo2, alert("corosync-lost:nodo2", peer_name="nodo2"))
    assert touches(on_nodo2, alert("gfs2-withdraw", logged_on="nodo2"))  # names none: its logger
    # false friends: logged on nodo2 but about nodo1; another cluster's nodo2
    assert not touches(on_nodo2, alert("node-lost:nodo1", logged_on="nodo2", node="nodo1"))
    assert not touches(on_nodo2, replace(alert("x", logged_on="nodo2"), cluster="other"))
    assert not touches(on_nodo2, alert("no-stonith", logged_on="nodo1"))


def test_a_resource_window_and_a_whole_cluster_window() -> None:
    web = window(resource="WebSite")
    assert touches(web, alert("resource-failed:WebSite:nodo1", resource="WebSite", node="nodo1"))
    assert not touches(web, alert("resource-failed:WebFS:nodo1", resource="WebFS", node="nodo1"))
    assert touches(window(), alert("no-stonith"))
    assert window().scope == "the whole cluster"
    assert window(node="nodo1", resource="WebSite").scope == "node nodo1 and resource WebSite"


def test_only_an_open_window_within_its_time_covers() -> None:
    lost = alert("node-lost:nodo2", node="nodo2")
    on_nodo2 = window(node="nodo2")
    assert covering([on_nodo2], lost, T0 + 10) == on_nodo2
    assert covering([on_nodo2], lost, T0 + 7200) is None  # its time is up
    assert covering([end(on_nodo2, T0 + 5)], lost, T0 + 10) is None
    assert covering([on_nodo2], lost, T0 - 1) is None


def test_a_window_reminds_once_before_it_lifts_itself() -> None:
    w = window()
    assert not due_reminder(w, T0 + 7200 - REMIND_BEFORE_S - 1)
    assert due_reminder(w, T0 + 7200 - REMIND_BEFORE_S)
    assert not due_reminder(replace(w, reminded=True), T0 + 7199)
    assert not due_to_end(w, T0 + 7199)
    assert due_to_end(w, T0 + 7200)
    ended = end(w, T0 + 7200)
    assert (ended.state, ended.ended_by) == (WindowState.ENDED, "")
    assert not due_to_end(ended, T0 + 9999)


def test_the_summary_says_what_alerted_and_what_is_still_wrong() -> None:
    lost = alert("node-lost:nodo2", node="nodo2")
    assert summary(window(), [lost], []) == [
        "1 alert(s) during the window:",
        "• node-lost:nodo2 seen",
        "Nothing is wrong now.",
    ]
    lines = summary(window(), [], [lost])
    assert lines[0] == "0 alert(s) during the window."
    assert lines[1:] == ["Still wrong now (1):", "• node-lost:nodo2 seen"]
