"""Trouble before it hurts, once a day: each online node's failure simulated (what would have
nowhere to run), and the move constraints left behind longer than `alerts.left_behind_h`."""

from __future__ import annotations

import json
import logging

from habot.alerts import daily
from habot.alerts.rules import Catalogue, Match
from habot.cluster.model import ClusterStatus
from habot.errors import HabotError
from habot.service.alert_findings import synthetic
from habot.service.clusters import ClusterHandle, Ops
from habot.service.off_loop import off_loop
from habot.store import Store

log = logging.getLogger(__name__)


async def daily_check(
    ops: Ops,
    store: Store,
    catalogue: Catalogue,
    handle: ClusterHandle,
    status: ClusterStatus,
    values: dict[str, str],
    now: float,
) -> tuple[list[Match], set[str]]:
    """Every poll notes when each move constraint was first seen (in `values`, stored with
    the poll); once a day (from `alerts.daily_check`), each online node's failure is
    simulated: what would have nowhere to run, and the move constraints left longer than
    `left_behind_h`. Returns the findings, and the keys of the daily alerts that no longer
    hold."""
    config = handle.config.alerts
    key = f"constraint-seen|{handle.name}"  # {constraint id: first seen}, those present
    stored = daily.parse_seen(await off_loop(store.get, key))
    seen = daily.first_seen(status, stored, now)
    if seen != stored:  # a constraint new, or gone (a new one of the same id starts anew)
        values[key] = json.dumps(seen, sort_keys=True)
    nowhere = catalogue.rule("nowhere-to-run")
    behind = catalogue.rule("move-left-behind")
    if config.daily_check is None or nowhere is None or behind is None:
        return [], set()
    last = await off_loop(store.get, f"daily|{handle.name}")
    day = daily.due(last, now, config.daily_check, config.log_timezone)
    if day is None:
        return [], set()
    values[f"daily|{handle.name}"] = day
    found, unsure = [], False
    for node in status.online_nodes:
        try:
            report = await ops.whatif(handle.name, "node-fail", node)
        except HabotError as e:
            log.warning("%s: daily check: no simulation of %s failing: %s", handle, node, e)
            unsure = True
            continue
        for resource in report.left_stopped:
            text = f"crm_simulate --node-fail={node}: {resource} stops and starts nowhere"
            found.append(synthetic(nowhere, {"resource": resource}, node, text))
    for left in daily.left_too_long(status, seen, now, config.left_behind_h):
        c = left.constraint
        fields = {"constraint": c.id, "resource": c.resource, "age": left.age}
        text = f"{c.id} ({c.resource}, {c.node}, score {c.score}) seen for {left.age}"
        found.append(synthetic(behind, fields, "", text))
    log.info("%s: daily check for %s: %d findings", handle.name, day, len(found))
    if unsure:  # a node not simulated: what it would have found is not known to be gone
        return found, set()
    open_keys = await off_loop(store.alerts, handle.name)
    raised = {m.key for m in found}
    gone = {a.key for a in open_keys if a.rule == nowhere.id and a.key not in raised}
    return found, gone
