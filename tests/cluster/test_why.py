"""`/ha why`, pure: reasons read off real crm_mon documents, scores off a real `crm_simulate
-Ls` of the lab, and the console's and Slack's words for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.model import ClusterStatus
from habot.cluster.why import explain, parse_scores
from habot.service import describe
from habot.service.clusters import WhyReport

FIXTURES = Path(__file__).parents[1] / "fixtures"


def status(name: str) -> ClusterStatus:
    return parse_crm_mon((FIXTURES / "crm_mon" / name).read_bytes())


def test_no_fencing_is_the_main_reason_nothing_runs() -> None:
    why = explain(status("lab_seed_no_stonith.xml"), "WebSite")
    assert why.running_on == ()
    assert why.reasons[0].text.startswith("no fencing device is configured")
    assert why.reasons[0].fix == "/ha runbook stonith-libvirt"


def test_an_offline_node_is_a_reason_and_where_it_runs_is_said() -> None:
    why = explain(status("lab_nodo1_stopped.xml"), "VirtualIP")
    assert why.running_on == ("nodo2",)
    assert [r.text for r in why.reasons] == ["node nodo1 is offline"]


def test_a_healthy_resource_has_no_reason() -> None:
    why = explain(status("lab_seed_fenced.xml"), "VirtualIP")
    assert (why.running_on, why.reasons) == (("nodo1",), ())


def test_an_unknown_resource_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        explain(status("lab_seed_fenced.xml"), "NoSuchThing")


def test_scores_from_crm_simulate() -> None:
    text = (FIXTURES / "crm_simulate" / "crm_simulate_Ls_lab_fenced.txt").read_text()
    assert parse_scores(text, "WebSite") == {"nodo1": 0, "nodo2": -1_000_000}
    assert parse_scores(text, "WebFS") == {"nodo1": 1001, "nodo2": -1_000_000}
    assert parse_scores(text, "NoSuchThing") == {}
    assert parse_scores("garbage\n: x allocation score on : ²\n", "x") == {}


def test_the_words_for_it() -> None:
    text = (FIXTURES / "crm_simulate" / "crm_simulate_Ls_lab_fenced.txt").read_text()
    why = explain(status("lab_nodo1_stopped.xml"), "WebSite", parse_scores(text, "WebSite"))
    lines = describe.why_lines(WhyReport("mycluster", why, "nodo2"))
    assert lines[0] == "WebSite runs on nodo2 (mycluster, read from nodo2)"
    assert "  • node nodo1 is offline" in lines
    assert lines[-1] == "Placement scores: nodo1 0, nodo2 -INFINITY"
