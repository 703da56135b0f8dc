"""The real bot, wired as `habot serve` wires it, against the fake Slack; signed requests in."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from habot.cli import build_ops
from habot.commands import ha
from habot.config import HabotConfig
from habot.jobs import Jobs
from habot.ops import Ops
from habot.settings import load_settings
from habot.slack import app as slack_app
from tests.fakes.slack_server import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-0000-habot-test"
APP_TOKEN = "xapp-1-habot-test"


@dataclass
class Bot:
    app: AsyncApp
    ops: Ops
    jobs: Jobs
    fake: FakeSlack
    url: str = ""
    runner: web.AppRunner | None = None

    async def stop(self) -> None:
        await self.jobs.shutdown()
        if self.runner is not None:
            await self.runner.cleanup()
        await self.ops.close()


def make_bot(config: HabotConfig, fake: FakeSlack, *, socket_mode: bool = False) -> Bot:
    overrides = {"SLACK_BOT_TOKEN": BOT_TOKEN, "HABOT_SLACK_API_URL": fake.api_url}
    if socket_mode:
        overrides["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        overrides["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    settings = load_settings(**overrides)
    settings.require_slack()
    ops, jobs = build_ops(config), Jobs()
    app = slack_app.build_app(
        settings, ha.Deps(ops=ops, jobs=jobs, allowed_channels=config.allowed_channels)
    )
    return Bot(app=app, ops=ops, jobs=jobs, fake=fake)


async def start_http(bot: Bot) -> Bot:
    bot.runner = await slack_app.serve_http(bot.app, "127.0.0.1", 0)
    port = bot.runner.addresses[0][1]
    bot.url = f"http://127.0.0.1:{port}{slack_app.EVENTS_PATH}"
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
