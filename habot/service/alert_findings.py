"""What a poll finds besides the rules' matches, and how a match is named: nodes habot cannot
reach and sources it cannot read (N polls in a row), the status's own findings, a clone's
instance named as its clone — and what a status says of an alert's condition."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from habot.alerts.lifecycle import Alert, State
from habot.alerts.logline import LogLine
from habot.alerts.rules import Catalogue, Match, Rule, fill, fill_predicate
from habot.alerts.sources import Batch
from habot.cluster.crm_mon import crm_time
from habot.cluster.health import assess
from habot.cluster.model import ClusterStatus, ResourceKind
from habot.cluster.predicates import Predicate, check
from habot.errors import HabotError
from habot.service.clusters import ClusterHandle
from habot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Seen:
    """What one poll saw besides the lines: the status, when the cluster read it (its own
    clock), habot's own conditions that cleared, and whether it is the cluster's first."""

    status: ClusterStatus | None
    at: float
    gone: set[str]
    first: bool


def status_time(status: ClusterStatus | None, zone: str, now: float) -> float:
    """crm_mon's "last updated" (the node's clock, in the nodes' time zone); habot's own
    time when there is none to read."""
    if status is None:
        return now
    read = crm_time(status.summary.last_update, ZoneInfo(zone))
    return read if read is not None else now


def only_history(alert: Alert, now: float) -> bool:
    """Opened and resolved by the same poll, with no card yet: something of the past."""
    return alert.state is State.RESOLVED and not alert.message_ts and alert.first_seen == now


def synthetic(rule: Rule, fields: dict[str, str], node: str, text: str) -> Match:
    line = LogLine(node=node, identifier="habot", level="", text=text)
    return Match(
        rule, fill(rule.key, rule.id, {"node": node, **fields}), {"node": node, **fields}, line
    )


def canonical(match: Match, status: ClusterStatus) -> Match:
    """A clone's instance and its clone are one resource: named as the cluster names it at
    the top level (`dlm` -> `dlm-clone`), so one problem is one card."""
    fields = dict(match.fields)
    name = fields.get("resource")
    found = status.resource(name) if name else None
    if found is not None:
        fields["resource"] = found.id
        active = {n for i in found.instances if name in (i.id, found.id) for n in i.nodes}
        if len(active) > 1 and found.kind is ResourceKind.PRIMITIVE:
            fields["active_on"] = ", ".join(sorted(active))
    peer = next((n.name for n in status.nodes if n.node_id and n.node_id == fields.get("peer")), "")
    if peer:  # corosync names nodes by id
        fields["peer_name"] = peer
    if fields == match.fields:
        return match
    return replace(match, fields=fields, key=fill(match.rule.key, match.rule.id, fields))


def cleared(rule: Rule, alert: Alert, status: ClusterStatus) -> bool:
    """The status shows the alert resolved (its finding gone, its `resolved_when` true)."""
    if rule.finding is not None:
        return rule.finding not in {f.code for f in assess(status)}
    return _holds(rule.resolved_when, rule, alert, status)


def over(rule: Rule, alert: Alert, status: ClusterStatus) -> bool:
    """The status shows the alert's episode over (its `ends_when`, else resolved)."""
    if rule.ends_when is not None:
        return _holds(rule.ends_when, rule, alert, status)
    return cleared(rule, alert, status)


def _holds(predicate: Predicate | None, rule: Rule, alert: Alert, status: ClusterStatus) -> bool:
    if predicate is None:
        return False
    try:
        return check(fill_predicate(predicate, rule.id, alert.field_map), status) is None
    except (HabotError, ValueError):
        return False


def match_all(catalogue: Catalogue, lines: Sequence[LogLine]) -> list[Match]:
    """Each line on its own: one that a rule cannot take is logged and skipped, never the
    end of the batch."""
    found = []
    for line in lines:
        try:
            match = catalogue.match(line)
        except Exception:  # a defect in one rule or line; every other line still counts
            log.exception("%s: line not matched: %r", line.node, line.text[:200])
            continue
        if match is not None:
            found.append(match)
    return found


def findings(catalogue: Catalogue, status: ClusterStatus) -> list[Match]:
    codes = {f.code: f for f in assess(status)}
    return [
        synthetic(rule, {}, "", codes[rule.finding].message)
        for rule in catalogue.rules
        if rule.finding is not None and rule.finding in codes
    ]


def unreachable(
    store: Store,
    catalogue: Catalogue,
    handle: ClusterHandle,
    down: dict[str, str],
    values: dict[str, str],
) -> tuple[list[Match], set[str]]:
    """Nodes habot cannot reach, N polls in a row; and the alert keys of those it can."""
    rule = catalogue.rule("node-unreachable")
    found, fine = [], set()
    for node in handle.config.nodes:
        key = f"unreachable|{handle.name}|{node.name}"
        streak = int(store.get(key) or 0) + 1 if node.name in down else 0
        values[key] = str(streak)
        if rule is None:
            continue
        if not streak:
            fine.add(fill(rule.key, rule.id, {"node": node.name}))
        elif streak >= handle.config.alerts.unreachable_after:
            text = f"{streak} polls in a row: {down[node.name]}"
            found.append(synthetic(rule, {"node": node.name}, node.name, text))
    return found, fine


def silent(
    store: Store,
    catalogue: Catalogue,
    handle: ClusterHandle,
    batches: Sequence[tuple[str, Batch | str]],
    values: dict[str, str],
) -> tuple[list[Match], set[str]]:
    """Sources that answer but cannot be read (not JSON, no such file, journalctl failing),
    N polls in a row: an alert of their own, never silence; a source that fell behind, or
    whose records were skipped or missed: said at once."""
    rule = catalogue.rule("source-unreadable")
    found: list[Match] = []
    fine: set[str] = set()
    for key, result in batches:
        if not isinstance(result, Batch) or rule is None:
            continue  # an unreachable node has its own alert
        _, cluster, node, source = key.split("|", 3)
        where = {"node": node, "source": source.removeprefix("file:")}
        _said_at_once(catalogue, result, where, found, fine)
        streak_key = f"silent|{cluster}|{node}|{source}"
        streak = int(store.get(streak_key) or 0) + 1 if result.problem else 0
        values[streak_key] = str(streak)
        fields = {**where, "reason": ""}
        if not streak:
            fine.add(fill(rule.key, rule.id, fields))
        elif streak >= handle.config.alerts.unreachable_after:
            fields["reason"] = result.problem
            text = f"{streak} polls in a row: {result.problem}"
            found.append(synthetic(rule, fields, node, text))
    return found, fine


def _said_at_once(
    catalogue: Catalogue,
    result: Batch,
    where: dict[str, str],
    found: list[Match],
    fine: set[str],
) -> None:
    node = where["node"]
    behind = catalogue.rule("source-behind")
    if behind is not None:
        if result.backlog:
            text = "more records were waiting than one poll reads (a flood of lines?)"
            found.append(synthetic(behind, where, node, text))
        else:
            fine.add(fill(behind.key, behind.id, where))
    skipped = catalogue.rule("source-skipped")
    if skipped is not None:
        fields = {**where, "reason": result.lost}
        if result.lost:
            found.append(synthetic(skipped, fields, node, result.lost))
        elif not result.problem:
            fine.add(fill(skipped.key, skipped.id, fields))
