"""Runbooks from Slack on the lab: requests, approvals, runs, refusals, the audit log."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from habot.approvals.model import State
from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.slack.expiry import expire_waiting
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import configure_seed_fencing, crm_mon, resource_nodes, ssh, wait_for
from tests.slack.flows import (
    answer,
    card_updates,
    click,
    ephemerals_to,
    request_card,
    thread_posts,
    wait_card,
)
from tests.slack.harness import Bot, make_bot, post_command, start_http

pytestmark = pytest.mark.lab
APPROVE, DENY = "habot_approve", "habot_deny"


def fenced_lab(lab: Lab) -> None:
    lab.reset()
    configure_seed_fencing(lab)
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite") != [])


def commands_run(bot: Bot, request_id: str) -> list[tuple[str, ...]]:
    return [
        e.argv
        for e in bot.workflow.store.audit_log(500, request_id=request_id)
        if e.event == "command"
    ]


def request_id_of(card: dict[str, object]) -> str:
    text = str(card["blocks"])
    return text.split("request `")[1].split("`")[0]


async def test_failover_moves_the_ip_and_leaves_no_constraint(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    card = await request_card(session, http_bot, f"failover VirtualIP {target}")
    text = str(card["blocks"])
    assert f"pcs resource move VirtualIP {target}" in text
    assert "(as `habot via sudo` on the nodes)" in text
    assert f"VirtualIP: move {source} → {target}" in text
    also = text.split("Also: moves ", 1)[1].split("*", 1)[0]
    assert "WebSite" in also  # WebSite follows its colocation
    assert f"WebSite: move {source} → {target} (not named in the request)" in text
    assert await click(session, http_bot, card, APPROVE, "UBOB") == 200
    final = await wait_card(http_bot, card, "succeeded")
    assert "Approved by <@UBOB>" in final
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
    constraints = ssh(lab, "nodo1", "cibadmin --query --scope constraints").stdout
    assert "cli-prefer" not in constraints
    request_id = request_id_of(card)
    assert ("pcs", "resource", "move", "VirtualIP", target) in commands_run(http_bot, request_id)
    audit = http_bot.workflow.store.audit_log(50, request_id=request_id)
    assert {e.node_user for e in audit if e.argv} == {"habot via sudo"}
    events = [e.event for e in audit]
    assert events[:3] == ["requested", "approved", "run started"]
    assert events[-1] == "run succeeded"
    assert any("move" in p for p in thread_posts(http_bot, card))


async def test_unknown_or_offline_node_is_refused_before_anything_runs(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    _, _, payload = await post_command(session, http_bot, "failover VirtualIP nodo9")
    body = await _response(http_bot, payload)
    assert "no node `nodo9` in the cluster (nodes: nodo1, nodo2)" in body
    _, _, payload = await post_command(session, http_bot, "failover NoSuchThing nodo2")
    assert "no resource `NoSuchThing` in the cluster" in await _response(http_bot, payload)
    ssh(lab, "nodo1", "pcs node standby nodo2")
    try:
        wait_for(
            "nodo2 standby",
            lambda: "standby" in str([n.attrib for n in crm_mon(lab, "nodo1").find("nodes")]),
        )
        _, _, payload = await post_command(session, http_bot, "failover VirtualIP nodo2")
        assert "node nodo2 is standby, not online" in await _response(http_bot, payload)
    finally:
        ssh(lab, "nodo1", "pcs node unstandby nodo2")
    assert http_bot.fake.calls_to("chat.postMessage") == []
    assert [e for e in http_bot.workflow.store.audit_log(100) if e.event == "command"] == []


async def test_self_approval_not_an_approver_and_deny(
    lab: Lab, lab_config: HabotConfig, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    config = lab_config.model_copy(update={"approvers": ("UALICE", "UBOB")})
    bot = await start_http(make_bot(config, fake_slack))
    try:
        card = await request_card(session, bot, "runbook cleanup resource=WebSite")
        await click(session, bot, card, APPROVE, "UALICE")
        await bot.fake.wait_for("a refusal", lambda: ephemerals_to(bot, "UALICE"))
        assert "you cannot approve your own request" in ephemerals_to(bot, "UALICE")[0]
        await click(session, bot, card, APPROVE, "UCAROL")
        await bot.fake.wait_for("a refusal", lambda: ephemerals_to(bot, "UCAROL"))
        refusal = ephemerals_to(bot, "UCAROL")[0]
        assert "refused by `the config's top level`: you may not approve here" in refusal
        assert "who may: <@UALICE>, <@UBOB>" in refusal
        await click(session, bot, card, DENY, "UBOB")
        assert "Denied by <@UBOB>" in await wait_card(bot, card, "Denied")
        await click(session, bot, card, APPROVE, "UBOB")
        await bot.fake.wait_for("a refusal", lambda: ephemerals_to(bot, "UBOB"))
        assert "was denied by UBOB" in ephemerals_to(bot, "UBOB")[0]
        assert commands_run(bot, request_id_of(card)) == []
    finally:
        await bot.stop()


async def test_expired_request_is_refused(
    lab: Lab, http_bot: Bot, clock: SkewedClock, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    card = await request_card(session, http_bot, "runbook cleanup resource=WebSite")
    clock.advance(16 * 60)
    await click(session, http_bot, card, APPROVE, "UBOB")
    await http_bot.fake.wait_for("a refusal", lambda: ephemerals_to(http_bot, "UBOB"))
    assert "expired" in ephemerals_to(http_bot, "UBOB")[0]
    assert "Expired: nothing ran" in await wait_card(http_bot, card, "Expired")
    request = http_bot.workflow.store.request(request_id_of(card))
    assert request is not None
    assert request.state is State.EXPIRED
    assert commands_run(http_bot, request.id) == []


async def test_twenty_concurrent_approvals_run_once(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    card = await request_card(session, http_bot, "runbook cleanup resource=WebSite")
    users = ["UBOB"] * 10 + [f"UAPPROVER{i}" for i in range(10)]
    statuses = await asyncio.gather(*(click(session, http_bot, card, APPROVE, u) for u in users))
    assert statuses == [200] * 20
    await wait_card(http_bot, card, "succeeded")
    await http_bot.jobs.wait_idle()
    request_id = request_id_of(card)
    assert commands_run(http_bot, request_id) == [("pcs", "resource", "cleanup", "WebSite")]
    events = [e.event for e in http_bot.workflow.store.audit_log(200, request_id=request_id)]
    assert events.count("run started") == 1
    assert events.count("approved") == 1
    assert events.count("approve refused") == 19


async def test_gfs2_activate_refuses_without_fencing(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    _, _, payload = await post_command(session, http_bot, "runbook gfs2-activate")
    body = await _response(http_bot, payload)
    assert "gfs2-activate* cannot run" in body
    assert "precondition: no fencing device is configured" in body
    assert http_bot.fake.calls_to("chat.postMessage") == []


async def test_stonith_libvirt_clears_the_missing_stonith_condition(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    before = await http_bot.ops.status()
    assert "no-stonith-device" in {f.code for f in before.findings}
    card = await request_card(session, http_bot, "runbook stonith-libvirt")
    assert "external/libvirt hostlist=nodo1:06-HA-IPFailover-Apache2DRBDGFS2_nodo1" in str(
        card["blocks"]
    )
    await click(session, http_bot, card, APPROVE, "UBOB")
    await wait_card(http_bot, card, "succeeded")
    after = await http_bot.ops.status()
    codes = {f.code for f in after.findings}
    assert not codes & {"no-stonith-device", "resources-blocked-by-stonith"}
    wait_for("WebSite started", lambda: resource_nodes(crm_mon(lab, "nodo1"), "WebSite") != [])


async def test_gfs2_activate_reaches_the_seed_final_state(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    card = await request_card(session, http_bot, "runbook gfs2-activate")
    text = str(card["blocks"])
    assert "mkfs.gfs2 -O -p lock_dlm -j 2 -t mycluster:web /dev/drbd1" in text
    assert '"style": "danger"' in text.replace("'", '"')  # destructive: confirm dialog
    assert "two distinct approvers" in text  # it formats: two people, by default
    await click(session, http_bot, card, APPROVE, "UBOB")
    await wait_card(http_bot, card, "approved by <@UBOB>")
    await click(session, http_bot, card, APPROVE, "UCAROL")
    await wait_card(http_bot, card, "succeeded", timeout=400)
    status = crm_mon(lab, "nodo1")
    for clone in ("dlm-clone", "WebFS-clone", "WebSite-clone"):
        nodes = {
            n.get("name")
            for c in status.iter("clone")
            if c.get("id") == clone
            for n in c.iter("node")
        }
        assert nodes == {"nodo1", "nodo2"}, clone
    promoted = {
        n.get("name")
        for r in status.iter("resource")
        if r.get("id") == "WebData" and r.get("role") == "Promoted"
        for n in r.iter("node")
    }
    assert promoted == {"nodo1", "nodo2"}
    blkid = ssh(lab, "nodo1", "blkid -o value -s TYPE /dev/drbd1").stdout.strip()
    assert blkid == "gfs2"
    page = ssh(lab, "nodo2", f"curl -sf --max-time 5 http://{lab.layout.vip}/").stdout
    assert "Prueba con GFS2" in page


async def test_fence_test_needs_two_approvers_and_the_node_returns(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    card = await request_card(session, http_bot, "runbook fence-test node=nodo2")
    await click(session, http_bot, card, APPROVE, "UBOB")
    await wait_card(http_bot, card, "approved by <@UBOB>")
    assert not any("succeeded" in u for u in card_updates(http_bot, card))
    await click(session, http_bot, card, APPROVE, "UBOB")
    await http_bot.fake.wait_for("a refusal", lambda: ephemerals_to(http_bot, "UBOB"))
    assert "needs another approver" in ephemerals_to(http_bot, "UBOB")[0]
    await click(session, http_bot, card, APPROVE, "UCAROL")
    # While it runs, habot polls the logs: the fencing the run causes on purpose is its
    # progress, in its thread; a failure of something else during it still alerts.
    rid, poller, fake = request_id_of(card), http_bot.inner.poller, http_bot.fake
    await fake.wait_for(
        "the run", lambda: http_bot.workflow.store.request(rid).state.value == "running"
    )
    unrelated = "Result of monitor operation for Unrelated on nodo1: not running"
    lab.exec("nodo1", ["logger", "-t", "pacemaker-controld", f"notice: {unrelated}"])
    for _ in range(150):  # bounded: the run takes about 30 s
        await poller.poll("mycluster")
        if any("succeeded" in u for u in card_updates(http_bot, card)):
            break
        await asyncio.sleep(2)
    final = await wait_card(http_bot, card, "succeeded", timeout=300)
    assert "<@UBOB>, <@UCAROL>" in final
    assert "nodo2" in lab.online_nodes(via="nodo1")
    fence_log = lab.layout.fence_log.read_text()
    assert "06-HA-IPFailover-Apache2DRBDGFS2_nodo2" in fence_log
    posts = fake.calls_to("chat.postMessage")
    in_thread = [json.dumps(c.params) for c in posts if c.params.get("thread_ts") == card["ts"]]
    in_channel = [json.dumps(c.params) for c in posts if c.params.get("channel") == "C0HAALERTS"]
    assert any("Expected by this run: nodo2 was fenced" in t for t in in_thread), in_thread
    assert not any("nodo2 was fenced" in t for t in in_channel)  # never an incident card
    assert any("Unrelated monitor failed on nodo1" in t for t in in_channel)  # still alerts
    assert not any("Unrelated" in t for t in in_thread)  # none of the run's business
    assert any("Alerts raised during this run" in t and "(expected)" in t for t in in_thread)


async def _response(bot: Bot, payload: dict[str, str]) -> str:
    key = payload["response_url"].rsplit("/", 1)[1]
    found = await bot.fake.wait_for(
        "the response", lambda: [b for k, b in bot.fake.responses if k == key]
    )
    return str(found[0].get("text", "")) + str(found[0].get("blocks", ""))


async def test_undecided_requests_expire_on_schedule(
    lab: Lab, http_bot: Bot, clock: SkewedClock, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    card = await request_card(session, http_bot, "runbook cleanup resource=WebSite")
    await http_bot.jobs.wait_idle()  # the card is posted and stored
    assert await expire_waiting(http_bot.workflow, http_bot.app.client) == []
    clock.advance(16 * 60)
    request_id = request_id_of(card)
    assert await expire_waiting(http_bot.workflow, http_bot.app.client) == [request_id]
    final = await wait_card(http_bot, card, "Expired")
    assert "habot_approve" not in final
    assert "pcs resource cleanup WebSite" in final  # the card keeps its plan
    assert commands_run(http_bot, request_id) == []


async def test_an_incident_told_through_the_verbs_and_questions(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    """The README's incident through signed Slack requests on the lab: ban (card names the
    constraint and what moves), why (names the ban and its fix), whatif, history (the run and
    the transition it caused), clear; a lifetime that is not ISO 8601 refused before anything."""
    fenced_lab(lab)
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    try:
        refused = await answer(http_bot, session, f"ban VirtualIP {target} 2hours", "UALICE")
        assert "'2hours' does not match" in refused
        refused = await answer(http_bot, session, "restart NoSuchThing", "UALICE")
        assert "no resource `NoSuchThing` in the cluster" in refused
        refused = await answer(http_bot, session, "cleanup WebSite nodo9", "UALICE")
        assert "no node `nodo9` in the cluster" in refused
        card = await request_card(session, http_bot, f"ban VirtualIP {source}")
        text = str(card["blocks"])
        assert f"adds cli-ban-VirtualIP-on-{source}" in text
        assert f"VirtualIP: move {source} → {target}" in text
        assert await click(session, http_bot, card, APPROVE, "UBOB") == 200
        await wait_card(http_bot, card, "succeeded")
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]

        why = await answer(http_bot, session, "why VirtualIP", "UALICE")
        assert f"banned from {source} by cli-ban-VirtualIP-on-{source}" in why
        assert f"/ha clear VirtualIP {source}" in why
        whatif = await answer(http_bot, session, f"whatif standby {target}", "UALICE")
        assert f"If {target} were put in standby" in whatif
        assert "VirtualIP would be left with nowhere to run" in whatif  # banned from the other
        history = await answer(http_bot, session, "history 1h", "UALICE")
        rid = request_id_of(card)
        assert f"[{rid}] approved by UBOB" in history, history
        assert f"[{rid}] succeeded ban" in history, history
        assert f"Move VirtualIP {source} -&gt; {target}" in history, history  # what it caused

        clear = await request_card(session, http_bot, "clear VirtualIP")
        assert f"removes cli-ban-VirtualIP-on-{source}" in str(clear["blocks"])
        assert await click(session, http_bot, clear, APPROVE, "UBOB") == 200
        await wait_card(http_bot, clear, "succeeded")
        constraints = ssh(lab, "nodo1", "cibadmin --query --scope constraints").stdout
        assert "cli-ban" not in constraints
        # the other verbs a person types in an incident
        for text, runbook in (("restart WebSite", "restart"), ("cleanup WebSite", "cleanup")):
            verb = await request_card(session, http_bot, text)
            assert f"{runbook} on mycluster" in verb["text"]
            assert await click(session, http_bot, verb, APPROVE, "UBOB") == 200
            await wait_card(http_bot, verb, "succeeded")
        assert resource_nodes(crm_mon(lab, "nodo1"), "WebSite")  # running again
    finally:
        ssh(lab, "nodo1", "pcs resource clear VirtualIP")
