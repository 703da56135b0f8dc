"""What orchestrators and Prometheus ask, on habot's HTTP port, without a Slack signature:

- `/healthz`: the process answers (200 "ok").
- `/readyz`: the database answers and Slack accepted the bot token (`auth.test`, asked at
  most once a minute whatever it answered, so unauthenticated callers cannot make habot hammer
  Slack): 200 "ready", else 503 with what is not ready (no secret in it).
- `/metrics`: Prometheus text format (habot.metrics).

In HTTP mode they share the port with /slack/events; in Socket Mode habot listens on
HABOT_HTTP_HOST:HABOT_HTTP_PORT for them alone."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from habot.metrics import ACK_SECONDS, REGISTRY

log = logging.getLogger(__name__)
SLACK_CHECK_S = 60.0


@dataclass
class Probes:
    database_answers: Callable[[], Awaitable[bool]]  # the service's own check
    client: AsyncWebClient
    clock: Callable[[], float] = time.monotonic
    _slack_asked_at: float = field(default=-1e18)
    _slack_problem: str | None = None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/healthz", self.healthz),
            web.get("/readyz", self.readyz),
            web.get("/metrics", self.metrics),
        ]

    async def healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, _: web.Request) -> web.Response:
        problems = []
        if not await self.database_answers():
            problems.append("database: not answering")
        problem = await self._slack()
        if problem:
            problems.append(f"slack: {problem}")
        if problems:
            return web.Response(status=503, text="not ready: " + "; ".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def _slack(self) -> str | None:
        """Slack's last answer to auth.test, asked again once it is a minute old."""
        if self.clock() - self._slack_asked_at >= SLACK_CHECK_S:
            self._slack_asked_at = self.clock()
            self._slack_problem = await self._ask_slack()
        return self._slack_problem

    async def _ask_slack(self) -> str | None:
        try:
            await self.client.auth_test()
        except SlackApiError as e:
            return str(e.response.get("error", "refused"))[:60]
        except Exception as e:  # the network: aiohttp, DNS, a timeout
            log.warning("readyz: Slack not reached: %s", type(e).__name__)
            return "not reached"
        return None

    async def metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def ack_timer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """How long Slack waits for habot's answer to a request (the ack, in HTTP mode)."""
    if request.method != "POST":
        return await handler(request)
    started = time.monotonic()
    try:
        return await handler(request)
    finally:
        ACK_SECONDS.observe(time.monotonic() - started)


async def serve(probes: Probes, host: str, port: int) -> web.AppRunner:
    """The probes alone (Socket Mode, where Slack does not call habot over HTTP)."""
    app = web.Application()
    app.add_routes(probes.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on http://%s:%s", host, port)
    return runner
