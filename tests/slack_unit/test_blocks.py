"""Block Kit rendering stays within Slack's limits (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.health import assess
from habot.cluster.live import LiveStatus
from habot.cluster.model import Instance, Resource, ResourceKind, Role
from habot.service.clusters import StatusReport
from habot.slack import blocks

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crm_mon" / "crm_mon_2node_failed_action.xml"


def report(resource_count: int = 0) -> StatusReport:
    st = parse_crm_mon(FIXTURE.read_bytes())
    extra = tuple(
        Resource(
            f"r{i}",
            ResourceKind.PRIMITIVE,
            (Instance(f"r{i}", "ocf:pacemaker:Dummy", Role.STOPPED),),
        )
        for i in range(resource_count)
    )
    st = replace(st, resources=st.resources + extra)
    return StatusReport("mycluster", LiveStatus(st, "nodo1", {}), assess(st))


def test_status_shows_nodes_roles_and_failures() -> None:
    text = json.dumps(blocks.status(report()))
    assert "nodo1: online (DC)" in text
    assert (
        "db-stateful-clone [db-stateful] (promotable clone): Promoted: nodo2; Unpromoted: nodo1"
        in text
    )
    assert "`flaky` start on nodo1: error" in text


def test_huge_status_is_truncated_within_limits() -> None:
    rendered = blocks.status(report(resource_count=2000))
    assert len(rendered) <= blocks.BLOCKS_MAX
    for block in rendered:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= blocks.SECTION_MAX
    assert "more lines" in json.dumps(rendered)


def test_truncate_cuts_at_a_line() -> None:
    text = "\n".join(f"line {i}" for i in range(1000))
    cut = blocks.truncate(text, 200)
    assert len(cut) <= 200
    assert cut.endswith("more lines")
    assert blocks.truncate("short", 200) == "short"


def test_mrkdwn_control_characters_are_escaped() -> None:
    assert blocks.escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
