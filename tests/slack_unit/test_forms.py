"""Runbook forms on real signed Slack requests (scripted cluster, fake Slack): the modal opens
at once and fills from the cluster, a submission is checked like the typed command (errors
against the field, nothing requested) and becomes the approval card; refusals and Slack's own
failures each get their message."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from habot.approvals.model import State
from habot.cluster.scratch import MKTEMP
from habot.slack import app as slack_app
from tests.fakes.cluster import Scene, scene
from tests.fakes.slack_server import FakeSlack, block_kit_problems
from tests.slack.flows import CHANNEL, answer, form, inputs, option_values
from tests.slack.harness import (
    APP_TOKEN,
    Bot,
    click_payload,
    make_bot,
    post_click,
    post_command,
    post_payload,
    slash_payload,
    start_http,
    submission,
    suggestion,
)

MANY = Path(__file__).parents[1] / "fixtures" / "crm_mon_rendered" / "many_resources"
POLICY = {"viewers": "anyone", "requesters": ["UASK", "UALICE"]}


def no_preview(s: Scene) -> Scene:
    """The preview's private directory is refused: cards carry "no preview" (the preview
    itself is tested elsewhere; these tests are about the form)."""
    s.transport.answer(None, MKTEMP, stdout=b"/etc\n")
    return s


@pytest.fixture
def cluster() -> Scene:
    return no_preview(scene(approvers=["UBOB"], allowed_channels=[CHANNEL], policy=POLICY))


def requests(bot: Bot) -> list[object]:
    return bot.workflow.store.requests_in(State.REQUESTED)


async def test_a_command_missing_values_opens_the_form_filled_from_the_cluster(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    status, _, payload = await post_command(session, bot, "runbook ban-for", user="UALICE")
    assert status == 200
    opened = (await bot.fake.wait_for("views.open", lambda: bot.fake.calls_to("views.open")))[0]
    assert opened.params["trigger_id"] == payload["trigger_id"]
    assert "Reading *mycluster*" in str(opened.params["view"])  # at once, before any read
    view = await form(bot)
    assert block_kit_problems(view) == []
    fields = inputs(view)
    assert list(fields) == ["resource", "node", "lifetime", "run-at"]  # then the time, optional
    assert fields["resource"]["type"] == "static_select"
    assert {"VirtualIP", "WebSite", "WebData-clone", "WebData", "WebFS"} <= set(
        option_values(fields["resource"])
    )
    assert option_values(fields["node"]) == ["nodo1", "nodo2"]
    assert fields["lifetime"]["type"] == "plain_text_input"
    hints = {b.get("block_id"): b.get("hint", {}).get("text") for b in view["blocks"]}
    assert hints["p:lifetime"] == "how long, as an ISO 8601 duration (PT30M, PT2H, P1D)"
    assert "ban-for* on *mycluster*" in str(view["blocks"][0])
    assert requests(bot) == []


async def test_a_verb_alone_opens_its_form_with_what_was_typed_filled_in(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await post_command(session, bot, "failover", user="UALICE")
    fields = inputs(await form(bot))
    assert list(fields) == ["resource", "node", "run-at"]
    await post_command(session, bot, "runbook failover resource=WebSite", user="UALICE")
    fields = inputs(await form(bot, before=1))
    assert fields["resource"]["initial_option"]["value"] == "WebSite"
    assert "initial_option" not in fields["node"]


async def test_a_submitted_form_becomes_the_approval_card_in_its_channel(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await post_command(session, bot, "runbook ban-for", user="UALICE")
    view = await form(bot)
    values = {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}
    status, acked = await post_payload(session, bot, submission(view, "UALICE", values))
    assert (status, acked) == (200, None)  # the modal closes
    posts = await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    assert posts[0].params["channel"] == CHANNEL
    assert "ban-for" in str(posts[0].params["blocks"])
    assert "lifetime=PT2H" in str(posts[0].params["blocks"])
    [request] = bot.workflow.store.requests_in(State.REQUESTED)
    assert (request.requester, request.runbook) == ("UALICE", "ban-for")
    assert dict(request.params) == values


async def test_bad_input_is_shown_against_its_field_and_requests_nothing(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await post_command(session, bot, "runbook ban-for", user="UALICE")
    view = await form(bot)
    bad = {"resource": "NoSuchThing", "node": "nodo2", "lifetime": "2hours"}
    status, acked = await post_payload(session, bot, submission(view, "UALICE", bad))
    assert status == 200
    assert acked is not None
    assert acked["response_action"] == "errors"
    assert set(acked["errors"]) == {"p:resource", "p:lifetime"}
    assert "no resource `NoSuchThing`" in acked["errors"]["p:resource"]
    assert "'2hours' does not match" in acked["errors"]["p:lifetime"]
    good_looking = {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}
    await post_payload(session, bot, submission(view, "UALICE", {**good_looking, "node": "x"}))
    assert bot.fake.calls_to("chat.postMessage") == []
    assert requests(bot) == []


async def test_who_may_not_ask_gets_no_form_and_a_forged_submission_requests_nothing(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    refused = await answer(bot, session, "runbook ban-for", "UVIEW")
    assert "you may not request here (ban-for)" in refused
    assert bot.fake.calls_to("views.open") == []
    await post_command(session, bot, "runbook ban-for", user="UALICE")
    view = await form(bot)
    values = {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}
    status, acked = await post_payload(session, bot, submission(view, "UVIEW", values))
    assert status == 200
    assert acked is not None
    assert acked["response_action"] == "update"
    assert "you may not request here (ban-for)" in str(acked["view"]["blocks"][0])
    assert [b["block_id"] for b in acked["view"]["blocks"][1:]] == [
        b["block_id"] for b in view["blocks"]
    ]  # the same inputs: what was typed stays
    assert requests(bot) == []


async def test_the_run_button_on_the_runbook_list_opens_that_runbooks_form(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    _status, _, payload = await post_command(session, bot, "runbook", user="UASK")
    key = payload["response_url"].rsplit("/", 1)[1]
    [listed] = await bot.fake.wait_for(
        "the list", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    assert len(listed["blocks"]) <= 50
    message = {"ts": "1700000000.000001", "blocks": listed["blocks"]}
    click = click_payload(bot.fake, message, CHANNEL, "habot_form_open", "UASK")
    click["actions"][0]["value"] = "cleanup"  # the cleanup row's button
    assert any(b.get("accessory", {}).get("value") == "cleanup" for b in listed["blocks"])
    assert await post_click(session, bot, click) == 200
    view = await form(bot)
    assert "*cleanup* on *mycluster*" in str(view["blocks"][0])
    assert list(inputs(view)) == ["resource", "run-at"]


async def test_an_expired_trigger_and_a_refused_view_are_each_told(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    bot.fake.fail("views.open", "expired_trigger_id")
    said = await answer(bot, session, "runbook ban-for", "UALICE")
    assert "could not open: Slack allows 3 s between the click and the form" in said
    bot.fake.fail("views.update", "invalid_arguments")
    said = await answer(bot, session, "runbook ban-for", "UALICE")
    assert "Slack refused the form for ban-for (invalid_arguments)" in said
    assert "`/ha runbook ban-for key=value …`" in said
    bot.fake.fail("views.update", "not_found")  # the person closed it before it was filled
    updates = len(bot.fake.calls_to("views.update"))
    _, _, payload = await post_command(session, bot, "runbook ban-for", user="UALICE")
    await bot.fake.wait_for(
        "the update", lambda: len(bot.fake.calls_to("views.update")) > updates or None
    )
    await bot.jobs.wait_idle()
    key = payload["response_url"].rsplit("/", 1)[1]
    assert [b for k, b in bot.fake.responses if k == key] == []  # nothing to say
    assert requests(bot) == []


@pytest.fixture
def many() -> Scene:
    return no_preview(
        scene(capture=MANY / "crm_mon.xml", policy=POLICY, allowed_channels=[CHANNEL])
    )


async def test_hundreds_of_resources_are_offered_as_the_person_types(
    many: Scene, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    bot = await start_http(make_bot(many.config, fake_slack, ops=many.ops, clock=many.clock))
    try:
        await post_command(session, bot, "runbook ban-for", user="UALICE")
        view = await form(bot)
        assert block_kit_problems(view) == []
        fields = inputs(view)
        assert fields["resource"]["type"] == "external_select"
        assert "options" not in fields["resource"]
        assert fields["node"]["type"] == "static_select"
        _, found = await post_payload(
            session, bot, suggestion(view, "resource", "SVC-01", "UALICE")
        )
        assert found is not None
        assert [o["value"] for o in found["options"]] == [f"svc-{i:03d}" for i in range(10, 20)]
        _, everything = await post_payload(session, bot, suggestion(view, "resource", "", "UALICE"))
        assert everything is not None
        assert len(everything["options"]) == 100
        _, refused = await post_payload(session, bot, suggestion(view, "resource", "", "UVIEW"))
        assert refused == {"options": []}
        values = {"resource": "svc-142", "node": "nodo1", "lifetime": "PT30M"}
        status, acked = await post_payload(session, bot, submission(view, "UALICE", values))
        assert (status, acked) == (200, None)
        await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    finally:
        await bot.stop()


async def test_over_socket_mode_the_errors_travel_in_the_envelopes_ack(
    cluster: Scene, fake_slack: FakeSlack
) -> None:
    """Socket Mode is habot's default: the form opens and a bad value comes back in the ack."""
    bot = make_bot(
        cluster.config, fake_slack, ops=cluster.ops, clock=cluster.clock, socket_mode=True
    )
    handler = slack_app.socket_mode(bot.app, APP_TOKEN)
    await slack_app.connect(handler)
    try:
        await fake_slack.send_envelope(
            "slash_commands", slash_payload(fake_slack, "ban", user="UASK")
        )
        view = await form(bot)
        bad = submission(view, "UASK", {"resource": "VirtualIP", "node": "nodo9"})
        envelope = await fake_slack.send_envelope("interactive", bad)
        acked = await fake_slack.wait_for("the ack", lambda: fake_slack.socket_acks.get(envelope))
        assert acked["payload"]["response_action"] == "errors"
        assert "no node `nodo9`" in acked["payload"]["errors"]["p:node"]
        assert requests(bot) == []
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await bot.stop()


async def test_a_run_button_for_who_may_not_ask_and_an_unreadable_form(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    _, _, payload = await post_command(session, bot, "runbook", user="UVIEW")  # may view
    key = payload["response_url"].rsplit("/", 1)[1]
    [listed] = await bot.fake.wait_for(
        "the list", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    message = {"ts": "1700000000.000001", "blocks": listed["blocks"]}
    click = click_payload(bot.fake, message, CHANNEL, "habot_form_open", "UVIEW", "ban-for")
    assert await post_click(session, bot, click) == 200
    told = await bot.fake.wait_for("the refusal", lambda: bot.fake.calls_to("chat.postEphemeral"))
    assert "you may not request here (ban-for)" in told[0].params["text"]
    assert bot.fake.calls_to("views.open") == []
    await post_command(session, bot, "runbook ban-for", user="UALICE")
    view = await form(bot)
    values = {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}
    broken = submission({**view, "private_metadata": "{not json"}, "UALICE", values)
    _, acked = await post_payload(session, bot, broken)
    assert acked is not None
    assert acked["response_action"] == "update"
    assert "this form cannot be read; open it again" in str(acked["view"]["blocks"])
    assert requests(bot) == []


def asks_but_may_not_view() -> Scene:
    policy = {"viewers": ["UVIEW"], "requesters": ["UASK", "UVIEW"]}
    return no_preview(scene(approvers=["UBOB"], allowed_channels=[CHANNEL], policy=policy))


async def test_who_may_ask_but_not_view_types_the_names_and_is_shown_none(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """A requester outside `viewers`: the form has text inputs where menus of the cluster's
    resources and nodes would be, and no name of the cluster anywhere in it; a typed filter
    finds nothing; the typed names are still checked like the command's, and a checked form
    becomes the card. A viewer (the false friend) gets the menus."""
    s = asks_but_may_not_view()
    bot = await start_http(make_bot(s.config, fake_slack, ops=s.ops, clock=s.clock))
    try:
        await post_command(session, bot, "runbook ban", user="UASK")
        view = await form(bot)
        assert block_kit_problems(view) == []
        fields = inputs(view)
        assert fields["resource"]["type"] == "plain_text_input"
        assert fields["node"]["type"] == "plain_text_input"
        for name in ("VirtualIP", "WebSite", "WebData", "nodo1", "nodo2"):
            assert name not in str(view), name
        _, found = await post_payload(session, bot, suggestion(view, "resource", "", "UASK"))
        assert found == {"options": []}
        wrong = {"resource": "NoSuchThing", "node": "nodo2"}
        _, refused = await post_payload(session, bot, submission(view, "UASK", wrong))
        assert refused is not None
        assert refused["response_action"] == "errors"
        assert "resource" in str(refused["errors"])
        await post_command(session, bot, "runbook ban", user="UVIEW")
        seen = inputs(await form(bot, before=1))
        assert seen["resource"]["type"] == "static_select"
    finally:
        await bot.stop()


async def test_a_form_given_a_time_asks_for_a_scheduled_run_and_a_bad_time_asks_nothing(
    bot: Bot, session: aiohttp.ClientSession
) -> None:
    await post_command(session, bot, "runbook ban-for", user="UALICE")
    view = await form(bot)
    [when] = [b for b in view["blocks"] if b.get("block_id") == "t:run-at"]
    assert when["optional"] is True
    values = {"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}
    for typed, why in (
        ("tomorrow", "is not a time: write 2026-12-08T02:00Z, in 2h"),
        ("2026-12-08 02:00", "is not a time"),
        ("in 2hours", "is not a delay"),
        ("at 2026-12-08T02:00", "has no time zone"),
        ("at 2001-01-01T00:00Z", "has passed"),
        ("in 400d", "days ahead"),
    ):
        status, acked = await post_payload(
            session, bot, submission(view, "UALICE", {**values, "run-at": typed})
        )
        assert status == 200
        assert acked is not None, typed
        assert acked["response_action"] == "errors"
        assert why in acked["errors"]["t:run-at"], (typed, acked)
    assert bot.fake.calls_to("chat.postMessage") == []
    assert bot.workflow.store.requests_in(State.REQUESTED) == []
    status, acked = await post_payload(
        session, bot, submission(view, "UALICE", {**values, "run-at": "in 2h"})
    )
    assert (status, acked) == (200, None)
    posts = await bot.fake.wait_for("the card", lambda: bot.fake.calls_to("chat.postMessage"))
    assert "Scheduled for" in str(posts[0].params["blocks"])
    [request] = bot.workflow.store.requests_in(State.REQUESTED)
    assert request.run_at == bot.inner.deps.clock() + 7200
    assert dict(request.params) == values
