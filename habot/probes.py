"""What orchestrators and Prometheus ask, on habot's HTTP port, without a Slack signature:

- `/healthz`: the process answers (200 "ok").
- `/readyz`: the database answers and Slack accepted the bot token (`auth.test`, checked at
  most once a minute): 200 "ready", else 503 with what is not ready (no secret in it).
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
from habot.service.off_loop import off_loop
from habot.store import Store, StoreError

log = logging.getLogger(__name__)
SLACK_CHECK_S = 60.0


@dataclass
class Probes:
    store: Store
    client: AsyncWebClient
    clock: Callable[[], float] = time.monotonic
    _slack_ok_at: float = field(default=-1e18)

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
        try:
            await off_loop(self.store.ping)
        except StoreError:
            problems.append("database: not answering")
        problem = await self._slack()
        if problem:
            problems.append(f"slack: {problem}")
        if problems:
            return web.Response(status=503, text="not ready: " + "; ".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def _slack(self) -> str | None:
        if self.clock() - self._slack_ok_at < SLACK_CHECK_S:
            return None
        try:
            await self.client.auth_test()
        except SlackApiError as e:
            return str(e.response.get("error", "refused"))[:60]
        except Exception as e:  # the network: aiohttp, DNS, a timeout
            log.warning("readyz: Slack not reached: %s", type(e).__name__)
            return "not reached"
        self._slack_ok_at = self.clock()
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
