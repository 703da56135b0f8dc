"""Use-case results as readable terminal text (pure)."""

from __future__ import annotations

from habot.cluster import describe
from habot.cluster.health import Severity
from habot.commands.grammar import USAGE
from habot.errors import ClusterUnreachable
from habot.ops import StatusReport

HEALTH = {None: "healthy", Severity.WARNING: "WARNING", Severity.CRITICAL: "CRITICAL"}


def status(report: StatusReport) -> str:
    st = report.live.status
    lines = [
        f"== {report.cluster}: {HEALTH[report.health]} ==",
        describe.headline(st) + f" (read from {report.live.answered_by})",
    ]
    lines += [f"  {node}: not answering ({why})" for node, why in report.live.unreachable.items()]
    lines += ["", "Nodes:"] + [f"  {describe.node_line(n)}" for n in st.nodes]
    lines += ["", "Resources:"]
    lines += [f"  {line}" for r in st.resources for line in describe.resource_lines(r)]
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
    return "\n".join(lines)


def unreachable(error: ClusterUnreachable) -> str:
    lines = [f"Cluster {error.cluster} is unreachable: no node answered."]
    lines += [f"  {node}: {why}" for node, why in error.reasons.items()]
    return "\n".join(lines)


def usage(problem: str | None = None) -> str:
    head = f"{problem}\n\n" if problem else ""
    return head + "Commands:\n" + USAGE.replace("`", "")
