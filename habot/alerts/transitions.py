"""What the cluster did, from its own log lines (pure): each transition the scheduler calculated
with the actions it planned and how the controller ended it, and nodes leaving and joining.

The scheduler logs a transition's actions (`Actions: Move VirtualIP ( nodo1 -> nodo2 )`) just
before `Calculated transition 19, saving inputs in …pe-input-18.bz2`; the controller then logs
`Transition 19 (Complete=…, Source=…pe-input-18.bz2): Complete`. Only the DC schedules, but a
DC change or a log read from both nodes shows the same transition twice: one is kept per
(node of the DC, transition, input file). Node membership lines appear on every node: one per
node and state within a few seconds; and a node that has just started logs every peer it finds
as a member — those peers never left, so those lines are not events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from habot.alerts.logline import LogLine
from habot.alerts.patterns import linear

_ACTION = linear(
    r"^Actions: (?P<verb>Move|Start|Stop|Recover|Promote|Demote|Restart|Migrate|Reload|Fence)"
    r" {1,20}(?:\((?P<how>\w{1,16})\) )?(?P<what>\S{1,256}) {0,40}(?P<rest>.{0,300})$"
)
_CALCULATED = linear(
    r"^Calculated transition (?P<n>\d{1,10}), saving inputs in "
    r"\S{0,200}?(?P<input>pe-\w{1,10}-\d{1,10})"
)
_ENDED = linear(
    r"^Transition (?P<n>\d{1,10}) \(Complete=(?P<done>\d{1,10}), Pending=\d{1,10}, "
    r"Fired=\d{1,10}, Skipped=(?P<skipped>\d{1,10}), Incomplete=(?P<left>\d{1,10}), "
    r"Source=\S{0,200}?(?P<input>pe-\w{1,10}-\d{1,10})[^)]{0,20}\): (?P<how>\w{1,20})"
)
_MEMBERSHIP = linear(r"^Node (?P<node>\S{1,128}) state is now (?P<state>lost|member)\b")
SCHEDULER, CONTROLLER = "pacemaker-schedulerd", "pacemaker-controld"
SAME_EVENT_S = 5.0  # one membership change, seen by each node within this
STARTING_S = 30.0  # after a node's own join, the peers it finds are not news
SHOWN_ACTIONS = 6  # actions named in one transition's line; the rest are counted


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    at: float
    kind: str  # transition | node
    text: str


def cluster_events(lines: Sequence[LogLine]) -> list[ClusterEvent]:
    """Transitions (with their actions and end) and membership changes, oldest first."""
    ordered = sorted((ln for ln in lines if ln.at > 0), key=lambda ln: ln.at)
    return sorted([*_transitions(ordered), *_membership(ordered)], key=lambda e: e.at)


def _transitions(lines: Sequence[LogLine]) -> list[ClusterEvent]:
    planned: dict[str, list[str]] = {}  # node -> actions logged since its last transition
    calculated: dict[tuple[str, str, str], tuple[float, list[str]]] = {}
    ended: dict[tuple[str, str, str], str] = {}
    for line in lines:
        text = line.head
        if line.identifier == SCHEDULER:
            if (a := _ACTION.search(text)) is not None:
                planned.setdefault(line.node, []).append(_action(a.groupdict()))
            elif (c := _CALCULATED.search(text)) is not None:
                f = c.groupdict()
                key = (line.node, f["n"] or "", f["input"] or "")
                calculated.setdefault(key, (line.at, planned.pop(line.node, [])))
        elif line.identifier == CONTROLLER and (e := _ENDED.search(text)) is not None:
            f = e.groupdict()
            key = (line.node, f["n"] or "", f["input"] or "")
            how = (f["how"] or "").lower()
            if f["left"] not in (None, "0") or f["skipped"] not in (None, "0"):
                how += f", {f['skipped']} skipped, {f['left']} left undone"
            ended[key] = how
    found = []
    for (node, number, _), (at, actions) in calculated.items():
        if not actions:
            continue  # a transition with nothing to do: every recheck logs one
        shown = ", ".join(actions[:SHOWN_ACTIONS])
        more = f" and {len(actions) - SHOWN_ACTIONS} more" if len(actions) > SHOWN_ACTIONS else ""
        end = ended.get((node, number, _), "")
        text = f"#{number} (DC {node}): {shown}{more}" + (f" — {end}" if end else "")
        found.append(ClusterEvent(at, "transition", text))
    return found


def _action(f: dict[str, str | None]) -> str:
    rest = " ".join((f["rest"] or "").replace("(", " ").replace(")", " ").split())
    how = f" ({f['how']})" if f["how"] else ""
    return f"{f['verb']}{how} {f['what']} {rest}".strip()


def _membership(lines: Sequence[LogLine]) -> list[ClusterEvent]:
    found: list[ClusterEvent] = []
    last: dict[tuple[str, str], float] = {}
    started: dict[str, float] = {}  # node -> when it logged its own join
    for line in lines:
        if line.identifier != CONTROLLER or (m := _MEMBERSHIP.search(line.head)) is None:
            continue
        f = m.groupdict()
        key = (f["node"] or "", f["state"] or "")
        if key == (line.node, "member"):
            started[line.node] = line.at
        elif key[1] == "member" and line.at - started.get(line.node, -STARTING_S) < STARTING_S:
            continue  # a starting node meeting its peers
        if line.at - last.get(key, float("-inf")) > SAME_EVENT_S:
            word = "left the cluster" if key[1] == "lost" else "joined the cluster"
            found.append(ClusterEvent(line.at, "node", f"{key[0]} {word} (seen by {line.node})"))
        last[key] = line.at
    return found
