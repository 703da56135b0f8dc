"""Forms (pure): menus from real crm_mon documents, initial values, and Block Kit's limits
(100 blocks in a modal, 100 options in a static menu, 3000 characters in a section)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.model import ClusterStatus
from habot.runbooks import form
from habot.runbooks.form import Form, make_form
from habot.runbooks.model import Runbook
from habot.slack import form_view
from habot.slack.form_view import FormTooBig, Origin
from tests.fakes.slack_server import block_kit_problems

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEED = FIXTURES / "crm_mon" / "lab_seed_fenced.xml"
NODO1_DOWN = FIXTURES / "crm_mon" / "lab_nodo1_stopped.xml"
MANY = FIXTURES / "crm_mon_rendered" / "many_resources" / "crm_mon.xml"
ORIGIN = Origin("mycluster", "x", "COPS")


def status(path: Path) -> ClusterStatus:
    return parse_crm_mon(path.read_bytes())


def runbook(parameters: dict[str, Any], **more: Any) -> Runbook:
    return Runbook.model_validate(
        {
            "name": "x",
            "summary": "a test runbook",
            "parameters": parameters,
            "steps": [{"name": "s", "run": ["true"]}],
            **more,
        }
    )


def test_menus_come_from_the_cluster_and_online_nodes_only_when_asked() -> None:
    rb = runbook(
        {
            "resource": {"type": "resource"},
            "node": {"type": "node"},
            "up": {"type": "node", "online": True},
            "mode": {"type": "choice", "choices": ["soft", "hard"], "default": "soft"},
            "force": {"type": "bool", "default": False},
            "count": {"type": "int", "min": 1, "max": 9, "help": "how many"},
        }
    )
    made = make_form(rb, status(NODO1_DOWN), cluster="mycluster")
    fields = {f.name: f for f in made.fields}
    assert "VirtualIP" in fields["resource"].options
    assert "WebData" in fields["resource"].options  # the primitive inside the clone too
    assert fields["node"].options == ("nodo1", "nodo2")
    assert fields["up"].options == ("nodo2",)  # nodo1 is stopped
    assert (fields["mode"].initial, fields["mode"].required) == ("soft", False)
    assert (fields["force"].initial, fields["force"].options) == ("false", ("true", "false"))
    assert (fields["count"].minimum, fields["count"].maximum, fields["count"].help) == (
        1,
        9,
        "how many",
    )
    assert [f.name for f in made.fields if f.required] == ["resource", "node", "up", "count"]
    view = form_view.modal(ORIGIN, made)
    assert block_kit_problems(view) == []
    nobody_up = runbook({"up": {"type": "node", "online": True}})
    bare = status(NODO1_DOWN)
    bare = replace(bare, nodes=tuple(n for n in bare.nodes if n.name == "nodo1"))
    element = form_view.modal(ORIGIN, make_form(nobody_up, bare, cluster="c"))["blocks"][1]
    assert element["element"]["type"] == "plain_text_input"  # Slack refuses an empty menu


def test_initial_values_prefilled_configured_or_none() -> None:
    rb = runbook({"resource": {"type": "resource"}, "node": {"type": "node"}})
    made = make_form(
        rb,
        status(SEED),
        cluster="mycluster",
        defaults={"node": "nodo2"},
        prefill={"resource": "NotThere"},
    )
    resource, node = made.fields
    assert resource.initial is None  # a menu starts on an entry it has
    assert (node.initial, node.required) == ("nodo2", False)  # the cluster's runbook_params
    assert form.missing(rb, {}, {"node": "nodo2"}) == ("resource",)
    assert form.missing(rb, {"resource": "WebSite"}, {"node": "nodo2"}) == ()


def choices(n: int) -> Runbook:
    return runbook({"pick": {"type": "choice", "choices": [f"c{i:03d}" for i in range(n)]}})


def test_a_hundred_entries_are_one_menu_and_a_hundred_and_one_are_typed_for() -> None:
    at = make_form(choices(100), status(SEED), cluster="c").fields[0]
    past = make_form(choices(101), status(SEED), cluster="c").fields[0]
    assert (len(at.options), at.external) == (100, False)
    assert (past.options, past.external) == ((), True)
    for made in (make_form(choices(100), status(SEED), cluster="c"),):
        view = form_view.modal(ORIGIN, made)
        element = view["blocks"][1]["element"]
        assert element["type"] == "static_select"
        assert len(element["options"]) == 100
        assert block_kit_problems(view) == []
    view = form_view.modal(ORIGIN, make_form(choices(101), status(SEED), cluster="c"))
    assert view["blocks"][1]["element"]["type"] == "external_select"


def test_a_real_cluster_of_hundreds_is_typed_for_and_filtered() -> None:
    many = status(MANY)
    rb = runbook({"resource": {"type": "resource"}})
    field = make_form(rb, many, cluster="mycluster").fields[0]
    assert field.external
    entries = form.entries(rb.parameters["resource"], many)
    assert len(entries) > 150
    assert form.matching(entries, "SVC-14") == tuple(f"svc-{i}" for i in range(140, 150))
    assert form.matching(entries, "web")[0] == "WebSite"  # starting with it comes first
    assert len(form.matching(entries, "")) == 100


def test_the_most_inputs_a_modal_holds_and_one_more() -> None:
    def many_params(n: int) -> Form:
        rb = runbook({f"p{i}": {"type": "int"} for i in range(n)})
        return make_form(rb, status(SEED), cluster="c")

    view = form_view.modal(ORIGIN, many_params(form_view.INPUTS_MAX))
    assert len(view["blocks"]) <= 100
    assert block_kit_problems(view) == []
    noticed = form_view.with_notice(view, "x" * 5000)
    assert len(noticed["blocks"]) <= 100
    assert block_kit_problems(noticed) == []
    with pytest.raises(FormTooBig, match="more than a form holds"):
        form_view.modal(ORIGIN, many_params(form_view.INPUTS_MAX + 1))


def test_long_texts_are_cut_to_slacks_limits() -> None:
    rb = runbook(
        {"pick": {"type": "choice", "choices": ["n" * 140], "help": "h" * 2500}},
        description="d" * 5000,
    )
    view = form_view.modal(ORIGIN, make_form(rb, status(SEED), cluster="c"))
    assert block_kit_problems(view) == []
    assert len(view["blocks"][0]["text"]["text"]) <= 3000
    option = view["blocks"][1]["element"]["options"][0]
    assert len(option["text"]["text"]) == 75
    assert option["value"] == "n" * 140
    assert len(view["blocks"][1]["hint"]["text"]) == 2000


def test_what_a_submission_holds() -> None:
    rb = runbook({"resource": {"type": "resource"}, "mode": {"type": "string", "pattern": "a+"}})
    view = form_view.modal(ORIGIN, make_form(rb, status(SEED), cluster="c"))
    state = {
        "p:resource": {
            "habot_param:resource": {
                "type": "static_select",
                "selected_option": {"value": "WebSite"},
            }
        },
        "p:mode": {"habot_param:mode": {"type": "plain_text_input", "value": None}},
        "other": {"x": {"value": "ignored"}},
    }
    assert form_view.submitted({**view, "state": {"values": state}}) == {"resource": "WebSite"}
    assert form_view.inputs_of(view) == ["resource", "mode"]
    assert Origin.decode(view["private_metadata"]) == ORIGIN
    assert Origin.decode("not json") is None
