"""`/ha status` end to end: signed requests into the real endpoint, real SSH, the real lab."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from habot.config import HabotConfig
from habot.lab.lab import Lab
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import crm_mon
from tests.slack.harness import (
    Bot,
    make_bot,
    post_command,
    signed_headers,
    slash_payload,
    start_http,
)
from tests.ssh.server import free_port

pytestmark = pytest.mark.lab
ACK_DEADLINE_S = 3.0  # Slack shows "operation timed out" past it


def all_text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("blocks", [])) + body.get("text", "")


async def response_for(fake: FakeSlack, payload: dict[str, str]) -> dict[str, Any]:
    key = payload["response_url"].rsplit("/", 1)[1]
    found = await fake.wait_for(
        "the response_url post", lambda: [b for k, b in fake.responses if k == key]
    )
    return dict(found[0])


async def test_status_lists_what_crm_mon_reports(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab.reset()
    started = time.monotonic()
    status, _, payload = await post_command(session, http_bot, "status")
    acked_in = time.monotonic() - started
    assert status == 200
    assert acked_in < ACK_DEADLINE_S
    body = await response_for(http_bot.fake, payload)
    assert body["response_type"] == "in_channel"
    text = all_text(body)
    truth = crm_mon(lab, "nodo1")
    nodes = {n.get("name") for n in truth.find("nodes")}
    resources = {r.get("id") for r in truth.find("resources")}
    assert nodes == {"nodo1", "nodo2"}
    for name in nodes | resources:
        assert name in text
    assert resources == {"VirtualIP", "WebSite", "WebData-clone", "WebFS"}
    assert "no fencing device is configured" in text
    assert "mycluster: critical" in body["text"]


async def test_help_and_malformed_commands_get_ephemeral_usage(
    http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    for text, expected in (
        ("", "/ha status"),
        ("help", "/ha status"),
        ("frobnicate now", "unknown command `frobnicate`"),
        ("status 'unclosed", "cannot read that command"),
        ("status a b", "at most one cluster name"),
        ("status $(id)", "is not a valid cluster name"),
    ):
        status, raw, _ = await post_command(session, http_bot, text)
        assert status == 200
        body = json.loads(raw)
        assert body["response_type"] == "ephemeral"
        assert expected in body["text"]
    assert http_bot.fake.responses == []


async def test_unknown_cluster_is_answered_ephemerally(
    http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    _, _, payload = await post_command(session, http_bot, "status othercluster")
    body = await response_for(http_bot.fake, payload)
    assert body["response_type"] == "ephemeral"
    assert "unknown cluster `othercluster` (habot knows: mycluster)" in body["text"]


@pytest.mark.parametrize("tamper", ["signature", "old", "no-headers", "secret"])
async def test_forged_requests_are_refused_and_nothing_is_called(
    http_bot: Bot, session: aiohttp.ClientSession, tamper: str
) -> None:
    body = urlencode(slash_payload(http_bot.fake, "status"))
    headers = signed_headers(body)
    if tamper == "signature":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif tamper == "old":
        headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    elif tamper == "no-headers":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        headers = signed_headers(body, secret="not-the-signing-secret")
    async with session.post(http_bot.url, data=body, headers=headers) as response:
        assert response.status == 401
    assert http_bot.fake.calls == []
    assert http_bot.fake.responses == []


async def test_status_answers_from_nodo2_when_nodo1_sshd_is_down(
    lab: Lab, http_bot: Bot, session: aiohttp.ClientSession
) -> None:
    nodo1 = lab.node("nodo1")
    nodo1.stop_daemon("sshd")
    try:
        _, _, payload = await post_command(session, http_bot, "status")
        body = await response_for(http_bot.fake, payload)
    finally:
        nodo1.start_sshd()
    text = all_text(body)
    assert "read from nodo2" in text
    assert "nodo1 not answering" in text
    assert "VirtualIP" in text


async def test_both_nodes_unreachable_says_so(
    lab_config: HabotConfig, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    cluster = lab_config.clusters["mycluster"]
    dead = tuple(n.model_copy(update={"port": free_port()}) for n in cluster.nodes)
    config = lab_config.model_copy(
        update={
            "clusters": {
                "mycluster": cluster.model_copy(update={"nodes": dead, "connect_timeout_s": 2.0})
            }
        }
    )
    bot = await start_http(make_bot(config, fake_slack))
    try:
        _, _, payload = await post_command(session, bot, "status")
        body = await response_for(fake_slack, payload)
    finally:
        await bot.stop()
    text = all_text(body)
    assert "No node of *mycluster* answered" in text
    assert "*nodo1*: cannot connect to" in text
    assert "*nodo2*: cannot connect to" in text


async def test_status_over_socket_mode(lab_config: HabotConfig, fake_slack: FakeSlack) -> None:
    from habot.slack import app as slack_app
    from tests.slack.harness import APP_TOKEN

    bot = make_bot(lab_config, fake_slack, socket_mode=True)
    handler = slack_app.socket_mode(bot.app, APP_TOKEN)
    await slack_app.connect(handler)
    try:
        payload = slash_payload(fake_slack, "status")
        envelope = await fake_slack.send_envelope("slash_commands", payload)
        await fake_slack.wait_for("the Socket Mode ack", lambda: envelope in fake_slack.socket_acks)
        body = await response_for(fake_slack, payload)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await bot.stop()
    text = all_text(body)
    assert all(name in text for name in ("nodo1", "nodo2", "VirtualIP", "WebData-clone"))
    assert fake_slack.calls_to("apps.connections.open")[0].headers["Authorization"] == (
        f"Bearer {APP_TOKEN}"
    )
