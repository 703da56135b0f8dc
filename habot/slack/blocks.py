"""Block Kit rendering of use-case results (pure), within Slack's limits."""

from __future__ import annotations

from typing import Any

from habot.cluster import describe
from habot.cluster.health import Finding, Severity
from habot.commands.grammar import USAGE
from habot.errors import ClusterUnreachable
from habot.service import describe as service_text
from habot.service.clusters import StatusReport

Block = dict[str, Any]
SECTION_MAX = 3000  # characters of mrkdwn in one section
HEADER_MAX = 150
BLOCKS_MAX = 50
FINDINGS_MAX = 20
HEALTH = {
    None: ":large_green_circle: healthy",
    Severity.WARNING: ":large_yellow_circle: warnings",
    Severity.CRITICAL: ":red_circle: critical",
}
ICON = {Severity.WARNING: ":warning:", Severity.CRITICAL: ":red_circle:"}


def truncate(text: str, limit: int) -> str:
    """Cut at a line end where possible, and say how much was left out."""
    if len(text) <= limit:
        return text
    lines, kept, size = text.split("\n"), [], 0
    for line in lines:
        if size + len(line) + 1 > limit - 40:
            break
        kept.append(line)
        size += len(line) + 1
    if not kept:
        return text[: limit - 1] + "…"
    return "\n".join(kept) + f"\n… {len(lines) - len(kept)} more lines"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_MAX)}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_MAX)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 2000)}]}


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn: `<` starts a mention or a link wherever it
    stands (a code span or block does not stop it), so every string from a node, a log or a
    person goes through this, or through `code` / `code_block`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


GRAVE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT: looks like a backtick, closes no span


def code(text: str) -> str:
    """`text` as an inline code span: escaped, and a backtick in it cannot close the span
    (nor a newline break it)."""
    return "`" + escape(text).replace("`", GRAVE).replace("\n", " ") + "`"


def code_block(text: str, limit: int = SECTION_MAX - 8) -> str:
    """`text` as a code block: escaped, cut to fit a section, and no ``` inside."""
    return "```" + truncate(escape(text), limit).replace("```", GRAVE * 3) + "```"


def status_cut(report: StatusReport) -> bool:
    """Whether the message would leave something out (a section over Slack's 3,000
    characters, warnings beyond what the message shows): then the whole status goes as a
    file too."""
    return (
        any(
            b["type"] == "section" and b["text"]["text"] != b.get("whole", b["text"]["text"])
            for b in _status_blocks(report)
        )
        or len(report.findings) > FINDINGS_MAX
    )


def status(report: StatusReport, *, file: str | None = None) -> list[Block]:
    """The status as a message; `file`: the name of the file holding all of it (said last)."""
    found = [{k: v for k, v in b.items() if k != "whole"} for b in _status_blocks(report)]
    if file is not None:
        note = context(f":page_facing_up: The whole status is in {code(file)}, here.")
        found = [*found[: BLOCKS_MAX - 1], note]
    return found[:BLOCKS_MAX]


def _whole(text: str) -> Block:
    """A section that remembers its text before it was cut to fit."""
    return {**section(text), "whole": text}


def _status_blocks(report: StatusReport) -> list[Block]:
    st = report.live.status
    read_from = escape(service_text.read_from(report))
    missing = [f"{n} not answering ({escape(why)})" for n, why in report.live.unreachable.items()]
    blocks = [
        header(f"{report.cluster}: {HEALTH[report.health].split(' ', 1)[1]}"),
        context(
            f"{HEALTH[report.health]} · {escape(describe.headline(st))} · "
            + "; ".join([read_from, *missing])
        ),
        _whole("*Nodes*\n" + "\n".join(f"• {escape(describe.node_line(n))}" for n in st.nodes)),
        _whole("*Resources*\n" + _resources(report)),
    ]
    if st.failed_actions:
        blocks.append(
            _whole(
                "*Failed actions*\n"
                + "\n".join(
                    f"• {code(a.resource)} {escape(a.operation)} on {escape(a.node)}: "
                    f"{escape(a.exit_status)}"
                    + (f" ({escape(a.exit_reason)})" if a.exit_reason else "")
                    for a in st.failed_actions
                )
            )
        )
    blocks += _findings(report.findings, BLOCKS_MAX - len(blocks) - 1)
    return blocks[:BLOCKS_MAX]


def _resources(report: StatusReport) -> str:
    lines = [
        escape(line) for r in report.live.status.resources for line in describe.resource_lines(r)
    ]
    return (
        "\n".join(
            f"• {line}" if not line.startswith("  ") else f"    ◦ {line.strip()}" for line in lines
        )
        or "_none configured_"
    )


def _findings(findings: tuple[Finding, ...], room: int) -> list[Block]:
    if not findings:
        return []
    shown = findings[: min(FINDINGS_MAX, max(room - 1, 1))]
    blocks = [{"type": "divider"}]
    blocks += [
        section(f"{ICON[f.severity]} *{escape(f.message)}*\n_Fix:_ {escape(f.fix)}") for f in shown
    ]
    if len(findings) > len(shown):
        blocks.append(context(f"… and {len(findings) - len(shown)} more warnings"))
    return blocks


def status_text(report: StatusReport) -> str:
    """The notification text that goes with the blocks."""
    count = len(report.findings)
    return f"{report.cluster}: {HEALTH[report.health].split(' ', 1)[1]} ({count} warnings)"


def unreachable(error: ClusterUnreachable) -> list[Block]:
    reasons = "\n".join(f"• *{n}*: {escape(why)}" for n, why in error.reasons.items())
    return [
        header(f"{error.cluster}: unreachable"),
        section(f":red_circle: No node of *{error.cluster}* answered.\n{reasons}"),
    ]


def usage(problem: str | None = None) -> str:
    head = f"{problem}\n\n" if problem else ""
    return head + "*habot commands*\n" + USAGE


def error(text: str) -> str:
    return f":warning: {escape(text)}"
