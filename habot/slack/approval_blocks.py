"""Block Kit for runbooks: the approval card, its decided states, step posts, lists (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from habot.approvals.model import Request, State
from habot.approvals.schedule import at_text
from habot.runbooks.engine import RunOutcome, StepOutcome
from habot.runbooks.model import Runbook
from habot.service import describe
from habot.service.audit import AuditRecord
from habot.service.workflow import Proposal
from habot.slack.blocks import Block, code, code_block, context, escape, header, section, truncate

APPROVE = "habot_approve"
DENY = "habot_deny"
CANCEL_SCHEDULED = "habot_cancel_scheduled"
SCHEDULED_ACTIONS = "habot_scheduled_actions"
FOOTER = "habot_footer"
DECIDED = "habot_decided"
OUTCOME = "habot_outcome"
CODE_MAX = 2800


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def _code(lines: list[str]) -> str:
    return code_block("\n".join(lines), CODE_MAX)


def request_card(proposal: Proposal, request: Request) -> list[Block]:
    plan = proposal.plan
    params = " ".join(code(f"{k}={v}") for k, v in plan.params)
    blocks = [
        header(f"{plan.runbook} on {plan.cluster}"),
        section(
            f"<@{request.requester}> asks to run *{plan.runbook}* {params}\n"
            f"_{escape(proposal.runbook.summary)}_"
        ),
        *(
            [
                section(
                    f":alarm_clock: *Scheduled for {at_text(request.run_at)}.* Approvals may "
                    "come until then. At that time habot plans it again on the live cluster "
                    "and runs it only if the plan still holds and the preview still moves and "
                    "stops the same as below (the cluster as it is now)."
                )
            ]
            if request.run_at
            else []
        ),
        section(
            f"*What will run, where* (as {code(proposal.runs_as)} on the nodes)\n"
            + _code(describe.plan_lines(proposal))
        ),
    ]
    preview = describe.preview_lines(proposal)
    if preview:
        blocks.append(
            section(
                "*What the cluster will do* (crm_simulate on a shadow CIB)\n"
                + "\n".join(f"• {escape(line)}" for line in preview)
            )
        )
    collateral = describe.collateral_line(proposal)
    if collateral:
        blocks.append(section(f":warning: *{escape(collateral)}*"))
    return blocks + card_footer(request, plan.destructive)


def card_footer(request: Request, destructive: bool, now: float | None = None) -> list[Block]:
    """The card's last blocks: what it needs and, while it waits, the buttons; once decided,
    who decided (and when, given `now`)."""
    needs = describe.approvals_text(request.approvals_needed)
    got = ""
    if request.approvals:
        got = f" · approved by {', '.join(f'<@{u}>' for u in request.approvals)}"
    until = (
        f"approve before {at_text(request.run_at)}"
        if request.run_at
        else f"expires {_time(request.expires)}"
    )
    info = context(
        f"Needs {needs}{got} · {until} · "
        f"request `{request.id}`" + (" · *destructive*" if destructive else "")
    )
    info["block_id"] = FOOTER
    if request.state is State.SCHEDULED:
        return [
            info,
            {**decided(request, now), "block_id": DECIDED},
            {
                "type": "actions",
                "block_id": SCHEDULED_ACTIONS,
                "elements": [cancel_button(request)],
            },
        ]
    if request.state is not State.REQUESTED:
        return [info, {**decided(request, now), "block_id": DECIDED}]
    buttons = [
        _approve_button(request, destructive),
        {
            "type": "button",
            "action_id": DENY,
            "value": request.id,
            "text": {"type": "plain_text", "text": "Deny"},
        },
    ]
    return [
        info,
        {"type": "actions", "block_id": f"habot_request_{request.id}", "elements": buttons},
    ]


PAUSE_CONTINUE = "habot_pause_continue"
PAUSE_ABORT = "habot_pause_abort"


def pause_blocks(text: str, value: str, timeout: float) -> list[Block]:
    """A paused run's question (`text`, escaped by the caller): Continue or Abort (the
    requester or an approver)."""
    return [
        section(text),
        context(f"The requester or an approver answers; no answer within {timeout:g} s aborts."),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": PAUSE_CONTINUE,
                    "value": value,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Continue"},
                },
                {
                    "type": "button",
                    "action_id": PAUSE_ABORT,
                    "value": value,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Abort"},
                },
            ],
        },
    ]


def cancel_button(request: Request) -> Block:
    return {
        "type": "button",
        "action_id": CANCEL_SCHEDULED,
        "value": request.id,
        "text": {"type": "plain_text", "text": "Cancel"},
    }


def scheduled_list(requests: list[Request]) -> list[Block]:
    """`/ha schedule`: each scheduled run, soonest first, with who asked and who approved,
    and a Cancel button."""
    if not requests:
        return [section("Nothing is scheduled.")]
    blocks: list[Block] = []
    for r in requests[:20]:
        params = " ".join(code(f"{k}={v}") for k, v in r.params)
        state = (
            f"approved by {', '.join(f'<@{u}>' for u in r.approvals) or r.decided_by}"
            if r.state is State.SCHEDULED
            else f"waiting for approval ({len(r.approvals)}/{r.approvals_needed})"
        )
        blocks.append(
            {
                **section(
                    f"*{at_text(r.run_at)}* · {escape(r.cluster)} · *{escape(r.runbook)}* "
                    f"{params}\nasked by <@{r.requester}>, {state} · request `{r.id}`"
                ),
                "accessory": cancel_button(r),
            }
        )
    if len(requests) > 20:
        blocks.append(context(f"… and {len(requests) - 20} more"))
    return blocks


def _approve_button(request: Request, destructive: bool) -> Block:
    button: Block = {
        "type": "button",
        "action_id": APPROVE,
        "value": request.id,
        "text": {"type": "plain_text", "text": "Approve"},
        "style": "danger" if destructive else "primary",
    }
    if destructive:
        button["confirm"] = {
            "title": {"type": "plain_text", "text": f"Run {request.runbook}?"},
            "text": {
                "type": "mrkdwn",
                "text": truncate(
                    f"*{request.runbook}* changes the cluster and cannot be undone by habot. "
                    "Approve only if the plan above is what you want.",
                    300,
                ),
            },
            "confirm": {"type": "plain_text", "text": "Approve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
            "style": "danger",
        }
    return button


def decided(request: Request, now: float | None = None) -> Block:
    by = ", ".join(f"<@{u}>" for u in request.approvals)
    when = f" at {_time(now)}" if now is not None else ""
    text = {
        State.APPROVED: f":white_check_mark: Approved by {by}{when}",
        State.RUNNING: f":hourglass_flowing_sand: Approved by {by}; running",
        State.SUCCEEDED: f":white_check_mark: Approved by {by}; succeeded",
        State.FAILED: f":x: Approved by {by}; failed",
        State.DENIED: f":no_entry: Denied by <@{request.decided_by}>{when}",
        State.EXPIRED: ":hourglass: Expired: nothing ran",
        State.REFUSED: ":no_entry: Refused: the cluster changed; nothing ran",
        State.INTERRUPTED: ":warning: Interrupted: habot restarted during the run",
        State.SCHEDULED: f":alarm_clock: Approved by {by}; runs at {at_text(request.run_at)}",
        State.MISSED: (
            f":warning: Missed: no habot was running at {at_text(request.run_at)}; nothing ran"
        ),
        State.CANCELLED: f":no_entry_sign: Cancelled by <@{request.decided_by}>; nothing ran",
    }.get(request.state, request.state.value)
    return section(text)


def updated_card(
    original: list[Block],
    request: Request,
    destructive: bool,
    outcome: RunOutcome | None = None,
    now: float | None = None,
) -> list[Block]:
    """The card as posted, with its footer (buttons, or who decided) replaced."""
    ours = (FOOTER, DECIDED, OUTCOME, SCHEDULED_ACTIONS)
    kept = [
        b
        for b in original
        if b.get("block_id") not in ours
        and not str(b.get("block_id", "")).startswith("habot_request_")
    ]
    blocks = kept + card_footer(request, destructive, now)
    if outcome is not None:
        blocks.append({**section(outcome_text(outcome)), "block_id": OUTCOME})
    return blocks[:50]


def outcome_text(outcome: RunOutcome) -> str:
    icon = ":white_check_mark:" if outcome.succeeded else ":x:"
    return f"{icon} {escape(describe.outcome_line(outcome))}"


def step_post(outcome: StepOutcome) -> tuple[str, list[Block]]:
    line = describe.step_line(outcome)
    blocks = [section(f"*{escape(line)}*")]
    for record in outcome.commands:
        output = record.output.strip()
        body = [describe.command_line(record)] + ([output] if output else [])
        blocks.append(section(_code(body)))
    return escape(line), blocks[:20]


def outcome_blocks(outcome: RunOutcome) -> list[Block]:
    icon = ":white_check_mark:" if outcome.succeeded else ":x:"
    lines = [describe.step_line(s) for s in outcome.steps]
    return [
        section(
            f"{icon} *{escape(describe.outcome_line(outcome))}*\n"
            + "\n".join(escape(line) for line in lines)
        )
    ]


def runbook_list(runbooks: list[Runbook]) -> str:
    return "*Runbooks* (`/ha runbook NAME --help` for one)\n" + "\n".join(
        f"• {code(describe.runbook_line(rb).split(' — ')[0])} — {escape(rb.summary)}"
        for rb in sorted(runbooks, key=lambda r: r.name)
    )


def runbook_help(rb: Runbook) -> str:
    return _code(describe.runbook_help(rb))


def dry_run(proposal: Proposal) -> list[Block]:
    blocks = request_card_preview(proposal)
    return [*blocks, context("Dry run: nothing was requested and nothing ran.")]


def request_card_preview(proposal: Proposal) -> list[Block]:
    plan = proposal.plan
    blocks = [
        header(f"{plan.runbook} on {plan.cluster} (dry run)"),
        section(
            f"*What would run, where* (as {code(proposal.runs_as)} on the nodes)\n"
            + _code(describe.plan_lines(proposal))
        ),
    ]
    preview = describe.preview_lines(proposal)
    if preview:
        blocks.append(
            section(
                "*What the cluster would do*\n" + "\n".join(f"• {escape(line)}" for line in preview)
            )
        )
    return blocks


def refusal(runbook: str, reasons: tuple[str, ...]) -> str:
    return f":no_entry: *{runbook}* cannot run:\n" + "\n".join(f"• {escape(r)}" for r in reasons)


def audit(entries: list[AuditRecord]) -> str:
    if not entries:
        return "The audit log is empty."
    return _code([describe.audit_line(e) for e in entries])


def alerts_of_run(raised: list[str], succeeded: bool) -> str:
    """The run's last thread message when alerts were raised while it ran."""
    head = "Alerts raised during this run" if succeeded else ":x: This run failed; alerts it raised"
    return f"{head}:\n" + "\n".join(f"• {escape(a)}" for a in raised[:20])
