"""Use-case results as readable terminal text (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from habot.alerts.lifecycle import Alert
from habot.alerts.lifecycle import State as AlertState
from habot.alerts.rules import Rule, fill
from habot.commands.grammar import USAGE
from habot.errors import ClusterUnreachable
from habot.runbooks.model import Runbook
from habot.runbooks.plan import PlanError
from habot.service import describe as runbook_text
from habot.service.audit import AuditRecord
from habot.service.clusters import StatusReport
from habot.service.workflow import Proposal

# C0 controls but tab and newline, DEL, and C1 (a lone 0x9b is a terminal's CSI too)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text for a terminal: a control character from a log line or a command's output (an
    escape sequence that moves the cursor, clears the screen or retitles the window) is
    shown as `\\xNN`, never obeyed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def status(report: StatusReport) -> str:
    return "\n".join(runbook_text.status_lines(report))


def unreachable(error: ClusterUnreachable) -> str:
    lines = [f"Cluster {error.cluster} is unreachable: no node answered."]
    lines += [f"  {node}: {why}" for node, why in error.reasons.items()]
    return "\n".join(lines)


def usage(problem: str | None = None) -> str:
    head = f"{problem}\n\n" if problem else ""
    return head + "Commands:\n" + USAGE.replace("`", "")


def runbooks(books: Iterable[Runbook]) -> str:
    return "Runbooks:\n" + "\n".join(
        f"  {runbook_text.runbook_line(rb)}" for rb in sorted(books, key=lambda r: r.name)
    )


def proposal(p: Proposal) -> str:
    plan = p.plan
    params = " ".join(f"{k}={v}" for k, v in plan.params)
    lines = [f"{plan.runbook} on {plan.cluster} {params}".rstrip() + f" (as {p.runs_as}):"]
    lines += [f"  {line}" for line in runbook_text.plan_lines(p)]
    preview = runbook_text.preview_lines(p)
    if preview:
        lines += ["What the cluster will do (crm_simulate on a shadow CIB):"]
        lines += [f"  {line}" for line in preview]
    collateral = runbook_text.collateral_line(p)
    if collateral:
        lines.append(f"NOTE: {collateral}")
    needs = runbook_text.approvals_text(plan.approvals_needed)
    lines.append(f"Needs {needs}" + (" — DESTRUCTIVE" if plan.destructive else ""))
    return "\n".join(lines)


def refusal(error: PlanError) -> str:
    return f"{error.runbook} cannot run:\n" + "\n".join(f"  - {r}" for r in error.reasons)


def audit(entries: list[AuditRecord]) -> str:
    if not entries:
        return "The audit log is empty."
    return "\n".join(runbook_text.audit_line(e) for e in entries)


def alert(a: Alert, rule: Rule | None, *, new: bool) -> str:
    head = "ALERT" if new else "alert"
    if a.run:  # raised during a run about what it acts on: expected (progress), or not
        head = f"expected by run {a.run}" if a.run_expected else f"{head} during run {a.run}"
    state = f" [{a.state.value}]" if a.state is not AlertState.OPEN else ""
    where = f"/{a.node}" if a.node else ""
    again = runbook_text.recurrence(a)
    lines = [
        f"[{head} {a.severity}] {a.cluster}{where}: {a.title}{state} ({runbook_text.how_long(a)})"
        + (f" — {again}" if again else "")
    ]
    if new:
        lines += [f"    {line}" for line in a.lines[-2:]]
    if rule is not None and a.state is not AlertState.RESOLVED:
        lines.append(f"    remedy: {fill(rule.remedy, rule.id, a.field_map)}")
        if rule.runbook is not None:
            params = " ".join(
                f"{k}={fill(v, rule.id, a.field_map)}" for k, v in rule.runbook.params.items()
            )
            lines.append(f"    run: /ha runbook {rule.runbook.name} {params}".rstrip())
    return "\n".join(lines)
