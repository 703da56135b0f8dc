"""Scheduled runs (pure): what a preview moves and stops, compared when the time comes, and
the words for a run's time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from habot.cluster.simulate import PlannedAction

# What a scheduled run must still do at its time: an action of these kinds that appears,
# disappears or changes its nodes means the run is no longer the one approved.
WATCHED = ("move", "migrate", "stop", "demote")
NOTHING = "(moves and stops nothing)"
NO_PREVIEW = "(no preview)"


def what_moves(actions: Iterable[PlannedAction] | None, left_stopped: Iterable[str]) -> str:
    """The preview's moves and stops, and what it would leave with nowhere to run, one per
    line and sorted: equal text, equal effect on what runs where."""
    if actions is None:
        return NO_PREVIEW
    lines = {a.describe() for a in actions if a.action in WATCHED}
    lines |= {f"{r}: left with nowhere to run" for r in left_stopped}
    return "\n".join(sorted(lines)) or NOTHING


def changed(then: str, now: str) -> str:
    """Why a scheduled run does not run: what its preview says now that it did not."""
    if NO_PREVIEW in (then, now):
        return "the preview changed since it was approved: " + (
            "there is none now" if now == NO_PREVIEW else "there was none then"
        )
    before, after = set(then.splitlines()) - {NOTHING}, set(now.splitlines()) - {NOTHING}
    parts = []
    if after - before:
        parts.append("now also " + "; ".join(sorted(after - before)))
    if before - after:
        parts.append("no longer " + "; ".join(sorted(before - after)))
    if not after:
        parts.append("it would move and stop nothing now")
    return "the preview changed since it was approved: " + ", ".join(parts)


def at_text(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M UTC")
