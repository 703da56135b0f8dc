"""The daily check (pure parts): when it is due, and which move or ban constraints have been
left behind for too long.

A constraint carries no creation time in the CIB, so its age is counted from the first poll
that saw it (stored with the cursors): "left for at least N hours"."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from habot.cluster.model import ClusterStatus, LocationConstraint


def due(last_day: str | None, now: float, at: str, zone: str) -> str | None:
    """The local day (YYYY-MM-DD) to check now, or None: the check runs once a day, at the
    first poll at or after `at` (HH:MM, in `zone`)."""
    local = datetime.fromtimestamp(now, ZoneInfo(zone))
    day = local.date().isoformat()
    hour, minute = (int(p) for p in at.split(":"))
    if day == last_day or (local.hour, local.minute) < (hour, minute):
        return None
    return day


@dataclass(frozen=True, slots=True)
class LeftBehind:
    constraint: LocationConstraint
    age_s: float

    @property
    def age(self) -> str:
        hours = self.age_s / 3600
        return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} h"


def parse_seen(text: str | None) -> dict[str, float]:
    """The stored first-seen times; anything unreadable is as if never seen."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float) and v == v}


def first_seen(status: ClusterStatus, stored: Mapping[str, float], now: float) -> dict[str, float]:
    """When each move or ban constraint of the status was first seen: as stored, else now
    (constraints no longer there are forgotten)."""
    return {c.id: stored.get(c.id, now) for c in status.move_leftovers}


def left_too_long(
    status: ClusterStatus, seen: Mapping[str, float], now: float, hours: float
) -> list[LeftBehind]:
    """Move and ban constraints seen for longer than `hours` (those with a lifetime expire by
    themselves and are left out)."""
    found = []
    for c in status.move_leftovers:
        age = now - seen.get(c.id, now)
        if age >= hours * 3600 and not c.expires:
            found.append(LeftBehind(c, age))
    return found
