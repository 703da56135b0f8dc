"""The real bot, wired as `habot serve` wires it, against the fake Slack; signed requests in."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from habot import probes
from habot.config import HabotConfig
from habot.jobs import Jobs
from habot.service.clusters import Ops
from habot.service.workflow import Workflow
from habot.serving import Bot as HabotBot
from habot.serving import build_bot, serve_http
from habot.settings import load_settings
from habot.slack import app as slack_app
from tests.fakes.slack_server import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-0000-habot-test"
APP_TOKEN = "xapp-1-habot-test"


@dataclass
class Bot:
    app: AsyncApp
    inner: HabotBot
    fake: FakeSlack
    url: str = ""
    runner: web.AppRunner | None = None
    probes_url: str = ""  # /healthz, /readyz, /metrics: a port of their own
    probes_runner: web.AppRunner | None = None

    @property
    def jobs(self) -> Jobs:
        return self.inner.deps.jobs

    @property
    def ops(self) -> Ops:
        return self.inner.deps.ops

    @property
    def workflow(self) -> Workflow:
        return self.inner.deps.workflow

    async def stop(self) -> None:
        for runner in (self.runner, self.probes_runner):
            if runner is not None:
                await runner.cleanup()
        await self.inner.close()


def make_bot(
    config: HabotConfig,
    fake: FakeSlack,
    *,
    socket_mode: bool = False,
    db: Path | None = None,
    ops: Ops | None = None,
    clock: Callable[[], float] = time.time,
    database: str | None = None,
) -> Bot:
    """`database`: a HABOT_DATABASE_URL (a PostgreSQL one for replicas); else `db`, a SQLite
    file, or an in-memory SQLite database."""
    overrides = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "HABOT_SLACK_API_URL": fake.api_url,
        "HABOT_DB": str(db or ":memory:"),
        "HABOT_DATABASE_URL": database or "",
    }
    if socket_mode:
        overrides["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        overrides["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    settings = load_settings(**overrides)
    settings.require_slack()
    inner = build_bot(settings, config, ops=ops, clock=clock)
    return Bot(app=inner.app, inner=inner, fake=fake)


async def start_http(bot: Bot) -> Bot:
    bot.runner = await serve_http(bot.inner, "127.0.0.1", 0)
    port = bot.runner.addresses[0][1]
    bot.url = f"http://127.0.0.1:{port}{slack_app.EVENTS_PATH}"
    bot.probes_runner = await probes.serve(bot.inner.probes, "127.0.0.1", 0)
    bot.probes_url = f"http://127.0.0.1:{bot.probes_runner.addresses[0][1]}"
    return bot


def slash_payload(
    fake: FakeSlack, text: str, *, user: str = "UALICE", channel: str = "COPS"
) -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": "T0001",
        "team_domain": "lab",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/ha",
        "text": text,
        "api_app_id": "AHABOT",
        "response_url": fake.response_url(uuid.uuid4().hex),
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
    }


def signed_headers(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def post_command(
    session: aiohttp.ClientSession, bot: Bot, text: str, **kwargs: Any
) -> tuple[int, str, dict[str, str]]:
    payload = slash_payload(bot.fake, text, **kwargs)
    body = urlencode(payload)
    async with session.post(bot.url, data=body, headers=signed_headers(body)) as response:
        return response.status, await response.text(), payload


def click_payload(
    fake: FakeSlack,
    message: dict[str, Any],
    channel: str,
    action_id: str,
    user: str,
    value: str | None = None,
) -> dict[str, Any]:
    """A block_actions payload built from the buttons the bot really posted (the one with
    `value`, when given)."""
    for block in message["blocks"]:
        accessory = [block["accessory"]] if "accessory" in block else []
        for element in [*block.get("elements", []), *accessory]:
            if element.get("action_id") == action_id and value in (None, element.get("value")):
                return {
                    "type": "block_actions",
                    "user": {"id": user, "username": user.lower()},
                    "api_app_id": "AHABOT",
                    "team": {"id": "T0001", "domain": "lab"},
                    "channel": {"id": channel, "name": "ops"},
                    "message": {
                        "ts": message["ts"],
                        "blocks": message["blocks"],
                        "text": message.get("text", ""),
                    },
                    "container": {
                        "type": "message",
                        "message_ts": message["ts"],
                        "channel_id": channel,
                    },
                    "trigger_id": f"trigger-{uuid.uuid4().hex}",
                    "response_url": fake.response_url(),
                    "actions": [
                        {
                            "action_id": action_id,
                            "block_id": block.get("block_id", "slack-made"),
                            "value": element["value"],
                            "type": "button",
                            "action_ts": str(time.time()),
                        }
                    ],
                }
    raise AssertionError(f"no {action_id} button in the posted message")


async def post_click(session: aiohttp.ClientSession, bot: Bot, payload: dict[str, Any]) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    async with session.post(bot.url, data=body, headers=signed_headers(body)) as response:
        await response.read()
        return response.status


async def post_payload(
    session: aiohttp.ClientSession, bot: Bot, payload: dict[str, Any]
) -> tuple[int, dict[str, Any] | None]:
    """An interaction payload (view_submission, block_suggestion, shortcut, …), signed; the
    bot's answer: its HTTP status and the JSON it acknowledged with (None when empty)."""
    body = urlencode({"payload": json.dumps(payload)})
    async with session.post(bot.url, data=body, headers=signed_headers(body)) as response:
        text = await response.text()
        return response.status, json.loads(text) if text.strip() else None


async def post_event(session: aiohttp.ClientSession, bot: Bot, event: dict[str, Any]) -> int:
    """An Events API callback (app_home_opened, …), signed, as Slack sends it."""
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "AHABOT",
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    async with session.post(bot.url, data=body, headers=headers) as response:
        await response.read()
        return response.status


def filled(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The view as Slack sends it back on submit: `values` in its inputs' state, the way each
    kind of element reports its value."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        name = block["block_id"].split(":", 1)[1]
        value = values.get(name)
        kind = element["type"]
        if kind in ("static_select", "external_select"):
            chosen = (
                None
                if value is None
                else {"text": {"type": "plain_text", "text": value}, "value": value}
            )
            entry: dict[str, Any] = {"type": kind, "selected_option": chosen}
        else:
            entry = {"type": kind, "value": value}
        state[block["block_id"]] = {element["action_id"]: entry}
    return {**view, "state": {"values": state}}


def submission(view: dict[str, Any], user: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "lab"},
        "user": {"id": user, "username": user.lower()},
        "api_app_id": "AHABOT",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "view": filled(view, values),
    }


def suggestion(view: dict[str, Any], param: str, typed: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_suggestion",
        "user": {"id": user},
        "team": {"id": "T0001"},
        "api_app_id": "AHABOT",
        "action_id": f"habot_param:{param}",
        "block_id": f"p:{param}",
        "value": typed,
        "view": view,
    }


def message_shortcut(
    callback_id: str, message: dict[str, Any], channel: str, user: str
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "user": {"id": user, "name": user.lower()},
        "team": {"id": "T0001", "domain": "lab"},
        "channel": {"id": channel, "name": "ops"},
        "message": message,
        "message_ts": message["ts"],
        "response_url": "",
        "action_ts": str(time.time()),
    }
