"""A planned stop is not a failure (pure): between a node's clean stop (its shutdown was
requested, corosync exited normally) and its return ("state is now member"), its peers'
"lost" and "link down" lines about it raise nothing — for PLANNED_STOP_S at most."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from habot.alerts.rules import Match

PLANNED_STOP_S = 300.0


def quiet(
    matches: Sequence[Match], stopped: Mapping[str, float], now: float
) -> tuple[list[Match], dict[str, float]]:
    """(the matches that still count, the nodes stopped cleanly and since when), taking the
    lines in the order they were logged; `stopped` is what earlier polls saw."""
    stops = dict(stopped)
    kept = []
    for m in sorted(matches, key=lambda m: m.line.at or now):
        at = m.line.at or now
        if m.rule.marks == "stop":
            stops[m.fields.get("stopping") or m.fields["node"]] = at
        elif m.rule.marks == "rejoin":
            stops.pop(m.fields.get("rejoined", ""), None)
        elif not _planned(m, stops, at):
            kept.append(m)
    return kept, {n: t for n, t in stops.items() if now - t <= PLANNED_STOP_S}


def _planned(m: Match, stops: Mapping[str, float], at: float) -> bool:
    concern = m.fields.get(m.rule.quiet_when_stopping or "", "")
    since = stops.get(concern) if concern else None
    return since is not None and 0 <= at - since <= PLANNED_STOP_S
