"""Plain-words lines for runbooks, plans and runs, shared by Slack and the console (pure)."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from habot.alerts.lifecycle import Alert, State, began, ended
from habot.approvals import model as approvals
from habot.approvals.schedule import at_text
from habot.cluster import describe as cluster_text
from habot.cluster.health import Severity
from habot.cluster.model import ClusterStatus
from habot.cluster.predicates import RUNNING
from habot.runbooks.engine import CommandRecord, RunOutcome, StepOutcome
from habot.runbooks.model import Loop, Parameter, Runbook, Step
from habot.service.audit import AuditRecord
from habot.service.clusters import StatusReport, WhatIfReport, WhyReport
from habot.service.history import History
from habot.service.workflow import Proposal

APPROVAL = {0: "no approval", 1: "one approver", 2: "two distinct approvers"}


def approvals_text(needed: int) -> str:
    return APPROVAL.get(needed, f"{needed} distinct approvers")


def runbook_line(rb: Runbook) -> str:
    params = " ".join(
        f"{k}=<{p.type.value}>" if p.default is None else f"[{k}={p.default}]"
        for k, p in rb.parameters.items()
    )
    return f"{rb.name} {params}".strip() + f" — {rb.summary}"


def runbook_help(rb: Runbook) -> list[str]:
    lines = [f"{rb.name}: {rb.summary}"]
    if rb.description:
        lines += ["", rb.description.strip()]
    lines += [
        "",
        f"Approval: {approvals_text(rb.approvals_needed)}"
        + (" (destructive)" if rb.destructive else ""),
    ]
    if rb.parameters:
        lines += ["Parameters:"] + [_param_line(k, p) for k, p in rb.parameters.items()]
    lines += ["Steps:"] + [f"  {i}. {_step_name(s)}" for i, s in enumerate(rb.steps, 1)]
    return lines


def _step_name(step: Step) -> str:
    if step.steps is None:
        return step.name
    each = "node" if step.for_each is Loop.NODES else "resource running on one node"
    return f"{step.name}, for each {each}: " + "; ".join(s.name for s in step.steps)


def _param_line(key: str, param: Parameter) -> str:
    default = f", default {param.default}" if param.default is not None else ""
    return f"  {key} ({param.type.value}{default})" + (f": {param.help}" if param.help else "")


def plan_lines(proposal: Proposal) -> list[str]:
    plan = proposal.plan
    lines = [f"{i}. {s.name} — {s.describe()}" for i, s in enumerate(plan.steps, 1)]
    if plan.rollback:
        lines.append("On failure: " + "; ".join(s.describe() for s in plan.rollback))
    return lines


PREVIEW_SHOWN = 15  # lines of a transition shown on a card; the rest summed up


def preview_lines(proposal: Proposal) -> list[str]:
    """What the cluster would do (crm_simulate on the shadow CIB), the steps that cannot be
    simulated, and what would be left with nowhere to run — at most PREVIEW_SHOWN actions."""
    lines: list[str] = []
    if proposal.preview_error:
        lines = [f"preview unavailable: {proposal.preview_error}"]
    elif proposal.preview is not None and not proposal.preview:
        lines = ["the cluster would change nothing"]
    elif proposal.preview is not None:
        named = set(proposal.plan.param_map.values())
        created = created_by(proposal)
        actions = [
            a.describe()
            + (
                " (created by this runbook)"
                if a.resource in created
                else ""
                if a.resource in named
                else " (not named in the request)"
            )
            for a in proposal.preview
        ]
        lines = actions[:PREVIEW_SHOWN]
        if len(actions) > PREVIEW_SHOWN:
            lines.append(
                f"… and {len(actions) - PREVIEW_SHOWN} more actions ({len(actions)} in all)"
            )
    for resource in proposal.left_stopped:
        lines.append(f"⚠ {resource} would be left with nowhere to run")
    lines += constraint_lines(proposal)
    lines += fail_count_lines(proposal)
    lines += [f"not simulated: {step}" for step in proposal.plan.unsimulated]
    return lines


def constraint_lines(proposal: Proposal) -> list[str]:
    """The move and ban constraints the plan adds or removes, by name (read off its steps
    and, for what a clear removes, the live status)."""
    live = proposal.live.status.constraints if proposal.live else ()
    lines = []
    for step in proposal.plan.steps:
        argv = step.pcs or step.argv  # a crmsh step's pcs form: one reading for both shells
        if argv[:3] == ("pcs", "resource", "ban") and len(argv) >= 5:
            lasts = [a.split("=", 1)[1] for a in argv[5:] if a.startswith("lifetime=")]
            until = f", expiring after {lasts[0]}" if lasts else ""
            lines.append(f"adds cli-ban-{argv[3]}-on-{argv[4]}{until}")
        elif argv[:3] == ("pcs", "resource", "clear") and len(argv) >= 4 and not step.unless:
            node = argv[4] if len(argv) >= 5 else None
            gone = [
                c.id
                for c in live
                if c.is_move_leftover and c.resource == argv[3] and node in (None, c.node)
            ]
            lines.append(
                f"removes {', '.join(gone)}" if gone else "removes no constraint (none is left)"
            )
    return lines


def fail_count_lines(proposal: Proposal) -> list[str]:
    """For a cleanup or refresh: the fail counts it clears, as they are now (the run's last
    step shows them gone)."""
    if proposal.live is None:
        return []
    lines = []
    for step in proposal.plan.steps:
        argv = step.pcs or step.argv  # a crmsh step's pcs form: one reading for both shells
        if argv[:3] not in (("pcs", "resource", "cleanup"), ("pcs", "resource", "refresh")):
            continue
        if len(argv) < 4:
            continue
        node = next((a.split("=", 1)[1] for a in argv[4:] if a.startswith("node=")), None)
        counts = [
            f"{f.count if f.count < 1_000_000 else 'INFINITY'} on {f.node}"
            for f in proposal.live.status.fail_counts
            if f.resource == argv[3] and node in (None, f.node)
        ]
        now = ", ".join(counts) if counts else "none"
        lines.append(f"fail counts of {argv[3]} now: {now} (cleared by this run)")
    return lines


# crm_simulate's action words, as what happens to the resource
DOES = {
    "move": "moves",
    "migrate": "moves",
    "start": "starts",
    "stop": "stops",
    "promote": "promotes",
    "demote": "demotes",
    "restart": "restarts",
    "recover": "recovers",
}
NAMES_SHOWN = 20


def created_by(proposal: Proposal) -> set[str]:
    """Resources the preview acts on that the live cluster does not have yet: the runbook
    creates them (gfs2-activate's dlm)."""
    if proposal.live is None:
        return set()
    status = proposal.live.status
    return {a.resource for a in proposal.preview or () if status.resource(a.resource) is None}


def collateral_line(proposal: Proposal) -> str | None:
    """What else the cluster would do, in words: each resource the request did not name by
    what happens to it — "Also: moves WebSite; starts WebData-clone; creates dlm"."""
    created = created_by(proposal)
    by_verb: dict[str, set[str]] = {}
    for action in proposal.collateral:
        verb = "creates" if action.resource in created else DOES.get(action.action, action.action)
        by_verb.setdefault(verb, set()).add(action.resource)
    if not by_verb:
        return None
    order = [*DOES.values(), "creates"]
    parts = [
        f"{verb} {_names(sorted(by_verb[verb]))}"
        for verb in sorted(by_verb, key=lambda v: order.index(v) if v in order else len(order))
    ]
    return "Also: " + "; ".join(parts)


def _names(names: list[str]) -> str:
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def step_line(outcome: StepOutcome) -> str:
    mark = {"ok": "✓", "failed": "✗", "skipped": "↷"}[outcome.status]
    head = f"{mark} {'rollback ' if outcome.rollback else ''}{outcome.index}. {outcome.name}"
    detail = f" — {outcome.detail}" if outcome.detail else ""
    return f"{head} ({outcome.duration_s:.1f} s){detail}"


def command_line(record: CommandRecord) -> str:
    rc = "unreachable" if record.rc is None else f"exit {record.rc}"
    return f"{record.node}$ {shlex.join(record.argv)} → {rc} in {record.duration_s:.2f} s"


def outcome_line(outcome: RunOutcome) -> str:
    if outcome.succeeded:
        return f"{outcome.runbook} succeeded in {outcome.duration_s:.1f} s"
    failed = outcome.failed_step
    where = f" at step {failed.index} ({failed.name})" if failed else ""
    rolled = ", rolled back" if outcome.rolled_back else ""
    return f"{outcome.runbook} FAILED{where}{rolled} after {outcome.duration_s:.1f} s"


def audit_line(entry: AuditRecord) -> str:
    when = datetime.fromtimestamp(entry.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
    who = f" {entry.user}" if entry.user else ""
    node = f"{entry.node_user.split()[0]}@{entry.node}" if entry.node_user else entry.node
    via = " (sudo)" if entry.node_user.endswith("via sudo") else ""
    what = f" {node}$ {shlex.join(entry.argv)}{via} → rc {entry.rc}" if entry.argv else ""
    detail = f" {entry.detail}" if entry.detail and not entry.argv else ""
    return f"{when} [{entry.request_id or '-'}] {entry.event}{who}{what}{detail}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


HEALTH = {None: "healthy", Severity.WARNING: "WARNING", Severity.CRITICAL: "CRITICAL"}


def status_lines(report: StatusReport) -> list[str]:
    """`/ha status` as plain text, whole: the console's answer, and the file Slack gets when
    the cluster is too large for a message."""
    st = report.live.status
    lines = [
        f"== {report.cluster}: {HEALTH[report.health]} ==",
        cluster_text.headline(st) + f" ({read_from(report)})",
    ]
    lines += [f"  {node}: not answering ({why})" for node, why in report.live.unreachable.items()]
    lines += ["", "Nodes:"] + [f"  {cluster_text.node_line(n)}" for n in st.nodes]
    lines += ["", "Resources:"]
    lines += [f"  {line}" for r in st.resources for line in cluster_text.resource_lines(r)]
    if not st.resources:
        lines.append("  (none configured)")
    if st.failed_actions:
        lines += ["", "Failed actions:"]
        lines += [
            f"  {a.resource} {a.operation} on {a.node}: {a.exit_status}"
            f"{f' ({a.exit_reason})' if a.exit_reason else ''} at {a.last_change}"
            for a in st.failed_actions
        ]
    if report.findings:
        lines += ["", "Warnings:"]
        for f in report.findings:
            lines += [f"  [{f.severity.value}] {f.message}", f"      fix: {f.fix}"]
    return lines


def lasted(alert: Alert) -> str:
    """How long the problem has lasted — from its episode's first line to the status (or
    the node's return) that showed it over, by the cluster's own clock — and when it was
    last seen (habot's own observations: by habot's clock)."""
    start, last = began(alert), ended(alert)
    if alert.state is State.RESOLVED:
        again = " · it happened again: see the newer card" if alert.superseded else ""
        return f"lasted {span(last - start)}, from {_when(start)} to {_when(last)}{again}"
    if alert.ended_at:
        return (
            f"ended {_when(alert.ended_at)} after {span(alert.ended_at - start)} · resolves "
            "if it stays so"
        )
    so_far = span(max(alert.last_seen, alert.line_last) - start)
    return f"since {_when(start)} ({so_far} so far) · last seen {_when(last)}"


def how_long(alert: Alert) -> str:
    """The same, in a few words for a one-line text."""
    start, last = began(alert), ended(alert)
    if alert.state is State.RESOLVED:
        return f"resolved; lasted {span(last - start)}"
    if alert.ended_at:
        return f"ended after {span(alert.ended_at - start)}"
    return f"for {span(max(alert.last_seen, alert.line_last) - start)}, last seen {_when(last)}"


def recurrence(alert: Alert) -> str:
    """How often this happened lately (its key's episodes within the flapping window): ""
    the first time; "2nd time in 40 s (before: 10:01:02 UTC)"; or, flapping, one card for
    all of it."""
    if not alert.episodes:
        return ""
    count = len(alert.episodes) + 1
    window = span(max(alert.episode_at or began(alert), alert.line_last) - alert.episodes[0])
    if alert.flapping:
        return f"flapping: {count} times in {window}; one card counts them, quiet resolves it"
    before = ", ".join(_clock(t) for t in alert.episodes[-3:])
    return f"{ordinal(count)} time in {window} (before: {before})"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")


def why_lines(report: WhyReport) -> list[str]:
    """`/ha why`, as lines: where it runs, each reason with its fix, the placement scores."""
    why = report.why
    where = ", ".join(why.running_on) if why.running_on else "nowhere"
    lines = [f"{why.resource} runs on {where} ({report.cluster}, read from {report.answered_by})"]
    if why.reasons:
        lines.append("Why:")
        for reason in why.reasons:
            fix = f" → `{reason.fix}`" if reason.fix else ""
            lines.append(f"  • {reason.text}{fix}")
    elif not why.running_on:
        lines.append("No constraint, node state or failure explains it: see the scores.")
    if why.scores:
        shown = ", ".join(f"{node} {_score_text(score)}" for node, score in why.scores)
        lines.append(f"Placement scores: {shown}")
    return lines


def node_lines(cluster: str, status: ClusterStatus, node: str) -> list[str]:
    """What a node is doing: its state, what runs there, and the question to ask next."""
    found = status.node(node)
    if found is None:
        return [f"{node} is not a node of {cluster}"]
    dc = ", the DC" if found.is_dc else ""
    here = sorted(
        r.id for r in status.resources if node in r.nodes_in_role(*RUNNING) and not r.is_fencing
    )
    return [
        f"{node} is {found.state.value}{dc} ({cluster})",
        f"Runs: {', '.join(here) if here else 'nothing'}",
        f"If it failed: `/ha whatif node-fail {node}`; in standby: `/ha whatif standby {node}`",
    ]


def _score_text(score: int) -> str:
    if score >= 1_000_000:
        return "INFINITY"
    return "-INFINITY" if score <= -1_000_000 else str(score)


def whatif_lines(report: WhatIfReport) -> list[str]:
    """`/ha whatif`, as lines: what would stop, start or move, and what would be left."""
    what = "failed" if report.event == "node-fail" else "were put in standby"
    head = f"If {report.node} {what} ({report.cluster}):"
    if not report.actions:
        return [head, "  the cluster would change nothing"]
    lines = [head] + [f"  • {a.describe()}" for a in report.actions[:PREVIEW_SHOWN]]
    if len(report.actions) > PREVIEW_SHOWN:
        lines.append(f"  … and {len(report.actions) - PREVIEW_SHOWN} more actions")
    lines += [f"  ⚠ {r} would be left with nowhere to run" for r in report.left_stopped]
    return lines


def history_lines(history: History, *, whole: bool = False) -> list[str]:
    """The timeline as lines: the newest events (a message), or the whole window (a file)."""
    hours = round((history.until - history.since) / 3600, 2)
    lines = [f"{history.cluster}: the last {hours:g} h, newest first"]
    lines += [f"  ⚠ logs not read: {u}" for u in history.unread]
    events = history.everything if whole else history.events
    if not events:
        return [*lines, "  nothing happened that the cluster or habot recorded"]
    for event in events:
        lines.append(f"  {_when(event.at)}  {event.kind:<10} {event.text}")
    if history.more and not whole:
        lines.append(f"  … and {history.more} earlier events")
    return lines


def read_from(report: StatusReport) -> str:
    """Where a status answer came from, and when: read now, or the live view's age; and the
    shell habot's steps speak there."""
    where = f"read from {report.live.answered_by}"
    shell = f"; shell {report.shell}" if report.shell else ""
    if report.age_s is None:
        return where + shell
    return (
        f"{where} {report.age_s:.0f} s ago, kept current by following every node's journal" + shell
    )


def scheduled_lines(requests: list[approvals.Request]) -> list[str]:
    """`/ha schedule`: what is scheduled, cluster by cluster, soonest first."""
    if not requests:
        return ["nothing is scheduled"]
    lines = []
    for cluster in sorted({r.cluster for r in requests}):
        lines.append(f"{cluster}:")
        for r in (x for x in requests if x.cluster == cluster):
            params = "".join(f" {k}={v}" for k, v in r.params)
            lines.append(f"  {at_text(r.run_at)}  {r.runbook}{params}  [{r.id}]")
            lines.append(f"      asked by {r.requester}; {scheduled_state(r)}")
    return lines


def scheduled_state(request: approvals.Request) -> str:
    if request.state is approvals.State.SCHEDULED:
        return f"approved by {', '.join(request.approvals) or request.decided_by}"
    return f"waiting for approval ({len(request.approvals)}/{request.approvals_needed})"
