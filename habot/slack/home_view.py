"""Block Kit for the home tab (pure): each cluster the person may view at a glance — health,
nodes, what is not running where it should, open alerts, runs, requests waiting with
Approve/Deny where that person's decision counts — inside a home tab's 100 blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from habot.approvals.schedule import at_text
from habot.cluster import describe
from habot.service import describe as service_text
from habot.service.home import Glance, Overview, Waiting
from habot.slack.blocks import HEALTH, Block, context, escape, header, section

APPROVE = "habot_home_approve"  # value: the request id
DENY = "habot_home_deny"
BLOCKS_MAX = 100
SHOWN_MAX = 5  # alerts, runs, waiting requests: each list's first entries, then a count
ICON = {"critical": ":red_circle:", "warning": ":large_yellow_circle:"}


def home(overview: Overview) -> dict[str, Any]:
    top: list[Block] = [header("habot: the clusters at a glance")]
    if overview.notice:
        top.append(section(f":information_source: {escape(overview.notice)}"))
    stamp = datetime.fromtimestamp(overview.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    foot = context(
        f"Refreshed {stamp}, when you open this tab and after each request, run and alert · "
        "`/ha status` in a channel for the whole picture"
    )
    blocks = list(top)
    left_out = []
    for glance in overview.glances:
        part = [*_cluster(glance), {"type": "divider"}]
        if len(blocks) + len(part) > BLOCKS_MAX - 2:
            left_out.append(glance.cluster)
            continue
        blocks += part
    if not overview.glances:
        blocks.append(
            section(
                "There is no cluster here you may view. habot shows a cluster to its viewers "
                "who are in one of its channels; `/ha policy` there says who may."
            )
        )
    if left_out:
        blocks.append(
            context(f"No room for {', '.join(left_out)}: `/ha status CLUSTER` in a channel.")
        )
    blocks.append(foot)
    return {"type": "home", "blocks": blocks}


def _cluster(g: Glance) -> list[Block]:
    if g.report is None:
        return [
            section(
                f"*{escape(g.cluster)}* · :red_circle: could not be read: {escape(g.unreadable)}"
            ),
            *_alerts(g),
            *_runs(g),
            *_waiting(g),
            *_planned(g),
        ]
    report = g.report
    status = report.live.status
    health = HEALTH[report.health]
    read = escape(service_text.read_from(report))
    nodes = " · ".join(escape(describe.node_line(n)) for n in status.nodes)
    blocks = [
        section(f"*{escape(g.cluster)}* · {health} · {read}\n*Nodes* {nodes}"),
    ]
    wrong = describe.not_running(status)
    findings = [f.message for f in report.findings]
    if wrong or findings:
        lines = [f"• {escape(w)}" for w in wrong[:10]]
        lines += [f"• :warning: {escape(f)}" for f in findings[:5]]
        more = max(len(wrong) - 10, 0) + max(len(findings) - 5, 0)
        if more:
            lines.append(f"… and {more} more")
        blocks.append(section("*Not as it should be*\n" + "\n".join(lines)))
    else:
        blocks.append(section(":white_check_mark: Every resource runs where it should."))
    return [*blocks, *_alerts(g), *_runs(g), *_waiting(g), *_planned(g)]


def _alerts(g: Glance) -> list[Block]:
    if not g.alerts:
        return []
    lines = [
        f"• {ICON.get(a.severity, ':warning:')} {escape(_short(a.title))} "
        f"({escape(service_text.how_long(a))}"
        + (f", {a.state.value} by <@{a.decided_by}>" if a.decided_by else "")
        + ")"
        for a in g.alerts[:SHOWN_MAX]
    ]
    where = f" in <#{g.alerts_channel}>" if g.alerts_channel else ""
    lines += _and_more(len(g.alerts), where)
    return [section(f"*Open alerts* ({len(g.alerts)}){where}\n" + "\n".join(lines))]


def _runs(g: Glance) -> list[Block]:
    if not g.running:
        return []
    lines = [
        f"• {escape(r.runbook)} {escape(_params(r.params))} (request `{r.id}`, "
        f"asked by <@{r.requester}>): {r.state.value}"
        for r in g.running[:SHOWN_MAX]
    ]
    lines += _and_more(len(g.running))
    return [section("*Runs in progress*\n" + "\n".join(lines))]


def _waiting(g: Glance) -> list[Block]:
    if not g.waiting:
        return []
    blocks: list[Block] = [section(f"*Waiting for approval* ({len(g.waiting)})")]
    for w in g.waiting[:SHOWN_MAX]:
        blocks += _request(w)
    blocks += [context(line) for line in _and_more(len(g.waiting), ", on their cards")]
    return blocks


def _planned(g: Glance) -> list[Block]:
    """Maintenance windows open now, and runs approved ahead, soonest first."""
    lines = [
        f"• :construction: maintenance ({escape(w.scope)}) until {at_text(w.ends)}, by "
        f"<@{w.opened_by}>" + (f": {escape(_short(w.reason))}" if w.reason else "")
        for w in g.windows[:SHOWN_MAX]
    ]
    lines += [
        f"• :alarm_clock: {at_text(r.run_at)}: {escape(r.runbook)} {escape(_params(r.params))} "
        f"(request `{r.id}`, asked by <@{r.requester}>, approved by "
        + (", ".join(f"<@{u}>" for u in r.approvals) or escape(r.decided_by))
        + ")"
        for r in g.scheduled[:SHOWN_MAX]
    ]
    lines += _and_more(len(g.scheduled))
    return [section("*Planned*\n" + "\n".join(lines))] if lines else []


def _and_more(count: int, tail: str = "") -> list[str]:
    """The line after a list's first SHOWN_MAX entries, when it has more."""
    return [f"… and {count - SHOWN_MAX} more{tail}"] if count > SHOWN_MAX else []


def _request(w: Waiting) -> list[Block]:
    r = w.request
    where = f"<#{r.channel}>" if r.channel else "its channel"
    text = (
        f"*{escape(r.runbook)}* {escape(_params(r.params))} · request `{r.id}` · "
        f"asked by <@{r.requester}> in {where} · {len(r.approvals)}/{r.approvals_needed} approvals"
    )
    if not w.may_decide:
        return [section(text)]
    confirm = {
        "title": {"type": "plain_text", "text": "Approve this request?"},
        "text": {
            "type": "mrkdwn",
            "text": f"{escape(r.runbook)} on {escape(r.cluster)} runs as soon as it has "
            "every approval it needs; its card is updated and its run told in its thread.",
        },
        "confirm": {"type": "plain_text", "text": "Approve"},
        "deny": {"type": "plain_text", "text": "Not yet"},
    }
    buttons = [
        {
            "type": "button",
            "action_id": APPROVE,
            "value": r.id,
            "style": "primary",
            "text": {"type": "plain_text", "text": "Approve"},
            "confirm": confirm,
        },
        {
            "type": "button",
            "action_id": DENY,
            "value": r.id,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Deny"},
        },
    ]
    return [section(text), {"type": "actions", "block_id": f"home_{r.id}", "elements": buttons}]


def _params(params: tuple[tuple[str, str], ...]) -> str:
    return " ".join(f"{k}={v}" for k, v in params)[:300]


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
