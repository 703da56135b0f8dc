"""Bolt wiring: one AsyncApp for Socket Mode and HTTP mode, and how each is served."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from habot.log_format import REQUEST_ID
from habot.metrics import SLACK_REQUESTS
from habot.settings import Settings, SlackMode
from habot.slack import (
    alert_buttons,
    decisions,
    forms,
    home,
    pause_buttons,
    scheduled,
    shortcuts,
    slash,
)
from habot.slack.deps import Deps

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client; call inside a running event loop."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def build_app(
    settings: Settings, deps: Deps, client: AsyncWebClient, tabs: home.HomeTabs
) -> AsyncApp:
    """The Bolt app; call inside a running event loop. Settings were validated by the caller."""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    logger = logging.getLogger("habot.bolt")
    if not any(isinstance(f, BoltNoise) for f in logger.filters):
        logger.addFilter(BoltNoise())
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=settings.slack_mode is SlackMode.HTTP,
        logger=logger,
    )
    app.middleware(_context)
    slash.register(app, deps)
    decisions.register(app, deps)
    scheduled.register(app, deps)
    pause_buttons.register(app, deps)
    alert_buttons.register(app, deps)
    forms.register(app, deps)
    shortcuts.register(app, deps)
    home.register(app, deps, tabs)
    return app


async def _context(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
    """Every Slack request: counted by kind, and its id on every log line it causes."""
    kind = str(body.get("type") or ("command" if "command" in body else "other"))[:30]
    REQUEST_ID.set(uuid.uuid4().hex[:12])
    SLACK_REQUESTS.labels(kind).inc()
    return await next()


async def serve_http(
    app: AsyncApp,
    host: str,
    port: int,
    routes: Sequence[web.RouteDef] = (),
    middlewares: Sequence[Middleware] = (),
) -> web.AppRunner:
    """Serve /slack/events on host:port (Bolt's own start() binds 0.0.0.0 and owns the loop),
    with more routes beside it (health and metrics) when given."""
    web_app = app.web_app(path=EVENTS_PATH)
    web_app.add_routes(routes)
    web_app.middlewares.extend(middlewares)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("listening on http://%s:%s%s", host, port, EVENTS_PATH)
    return runner


class BoltNoise(logging.Filter):
    """What Bolt and the Socket Mode client say that a clean start must not, or that must
    be one line: Bolt reads SLACK_BOT_TOKEN from the environment even when given the client
    habot made with it ("As you gave `client` as well, `token` will be unused"); and while
    Slack cannot be reached, the Socket Mode client logs a traceback at every retry — one
    line each is enough (HABOT_LOG_LEVEL=DEBUG keeps the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("As you gave `client` as well, `token` will be unused"):
            return False
        if message.startswith("Failed to connect") and not log.isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


def socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    return AsyncSocketModeHandler(app, app_token)


async def connect(handler: AsyncSocketModeHandler) -> None:
    """Connect in Socket Mode, retrying (one line a try) until Slack answers; cancel it to
    give up (a stop)."""
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")


async def forever() -> None:
    await asyncio.Event().wait()
