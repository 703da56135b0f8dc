"""The home tab's blocks (pure): at Block Kit's limits — a home tab holds 100 blocks and a
section 3000 characters — however many clusters, alerts and requests there are."""

from __future__ import annotations

from pathlib import Path

from habot.alerts.lifecycle import Alert
from habot.approvals.model import Request, State
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.health import assess
from habot.cluster.live import LiveStatus
from habot.service.clusters import StatusReport
from habot.service.home import Glance, Overview, Waiting
from habot.slack import home_view
from tests.fakes.slack_server import block_kit_problems

MANY = (
    Path(__file__).parents[1] / "fixtures" / "crm_mon_rendered" / "many_resources" / "crm_mon.xml"
)
DOWN = Path(__file__).parents[1] / "fixtures" / "crm_mon" / "lab_seed_no_stonith.xml"


def report(path: Path, name: str) -> StatusReport:
    status = parse_crm_mon(path.read_bytes())
    return StatusReport(name, LiveStatus(status, "nodo1", {}), assess(status))


def alert(i: int) -> Alert:
    return Alert(
        key=f"k{i}",
        cluster="c",
        rule="resource-failed",
        severity="critical" if i % 2 else "warning",
        title=f"alert {i} " + "x" * 700,
        node="nodo1",
        fields=(),
        first_seen=1.0,
        last_seen=2.0,
    )


def request(i: int) -> Request:
    return Request(
        id=f"r{i}",
        cluster="c",
        runbook="cleanup",
        params=(("resource", "y" * 190),),
        requester="UASK",
        channel="COPS",
        created=float(i),
        expires=1e12,
        approvals_needed=2,
        plan_fingerprint="",
        message_ts="1.1",
        state=State.RUNNING if i % 2 else State.REQUESTED,
    )


def glance(name: str, path: Path) -> Glance:
    return Glance(
        cluster=name,
        report=report(path, name),
        unreadable="",
        alerts=tuple(alert(i) for i in range(40)),
        running=tuple(request(i) for i in range(1, 30, 2)),
        waiting=tuple(Waiting(request(i), True) for i in range(0, 30, 2)),
        alerts_channel="CALERTS",
    )


def test_a_crowded_home_tab_stays_inside_block_kits_limits() -> None:
    glances = tuple(glance(f"cluster{i}", MANY if i % 2 else DOWN) for i in range(12))
    view = home_view.home(Overview("UBOB", glances, 1_800_000_000.0, notice="n" * 4000))
    assert len(view["blocks"]) <= 100
    assert block_kit_problems(view) == []
    text = str(view["blocks"])
    assert "cluster0" in text
    assert "No room for" in text  # the clusters left out are named
    assert "… and 35 more in <#CALERTS>" in text
    assert "… and 10 more, on their cards" in text


def test_an_unreadable_cluster_still_shows_its_alerts_and_requests() -> None:
    g = Glance("c", None, "no node answered", (alert(1),), (), (Waiting(request(0), False),), "")
    view = home_view.home(Overview("UVIEW", (g,), 1_800_000_000.0))
    text = str(view["blocks"])
    assert "could not be read: no node answered" in text
    assert "alert 1" in text
    assert "request `r0`" in text
    assert "habot_home_approve" not in text
    assert block_kit_problems(view) == []
