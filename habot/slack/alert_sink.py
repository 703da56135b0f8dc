"""Alert cards in each cluster's alerts channel: posted once, updated in place.

Each post carries its alert's token in the message metadata, so after a stop between Slack's
answer and habot's own record, habot finds the card it posted instead of posting it again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from habot.alerts.lifecycle import Alert
from habot.alerts.rules import Catalogue
from habot.alerts.windows import Window
from habot.service.alert_delivery import DeliveryError
from habot.slack import alert_blocks

log = logging.getLogger(__name__)
EVENT_TYPE = "habot_alert"
GONE = ("message_not_found", "cant_update_message")  # the card is no more: post afresh
LOOKBACK = 200  # messages searched for a post that habot may not have recorded


@dataclass
class SlackAlertSink:
    client: AsyncWebClient
    catalogue: Catalogue
    channels: dict[str, str]  # cluster -> alerts channel (an ID, or a name)
    _ids: dict[str, str] = field(default_factory=dict)  # cluster -> the channel's ID
    changed: Callable[[], None] = lambda: None  # a card went out: home tabs show alerts too
    # The open maintenance window an alert is told in (its thread) instead of the channel.
    window_of: Callable[[Alert], Awaitable[Window | None]] | None = None

    async def post(self, alert: Alert) -> tuple[str, str]:
        """In the alerts channel; an alert a run expected, in that run's thread instead; an
        alert about what a run acts on that it did not expect, in the channel and told in
        the run's thread (best effort: the card itself is what must not be lost)."""
        expected = alert.run_expected and alert.run_ts
        window = None if expected or self.window_of is None else await self.window_of(alert)
        if window is not None and window.ts:
            return await self._in_window(alert, window)
        channel = alert.run_channel if expected else self.channels[alert.cluster]
        posted = await _call(
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=alert.run_ts if expected else None,
                text=alert_blocks.text(alert),
                blocks=alert_blocks.card(alert, self.catalogue.rule(alert.rule)),
                metadata={
                    "event_type": EVENT_TYPE,
                    "event_payload": {"ref": alert.ref, "token": alert.token},
                },
            )
        )
        where = str(posted.get("channel") or channel)
        self.changed()
        if expected:
            return where, str(posted["ts"])
        self._ids[alert.cluster] = where
        if alert.run_ts:
            try:
                await _call(
                    self.client.chat_postMessage(
                        channel=alert.run_channel,
                        thread_ts=alert.run_ts,
                        text=alert_blocks.run_note(alert, where),
                    )
                )
            except DeliveryError as e:
                log.warning("alert %s: not told in run %s's thread: %s", alert.key, alert.run, e)
        return where, str(posted["ts"])

    async def _in_window(self, alert: Alert, window: Window) -> tuple[str, str]:
        """During a maintenance window on what it is about: a reply in the window's thread
        (no new card in the channel); later changes update that reply."""
        posted = await _call(
            self.client.chat_postMessage(
                channel=window.channel,
                thread_ts=window.ts,
                text=alert_blocks.text(alert),
                blocks=alert_blocks.card(alert, self.catalogue.rule(alert.rule)),
                metadata={
                    "event_type": EVENT_TYPE,
                    "event_payload": {"ref": alert.ref, "token": alert.token},
                },
            )
        )
        self.changed()
        return str(posted.get("channel") or window.channel), str(posted["ts"])

    async def update(self, alert: Alert) -> None:
        await _call(
            self.client.chat_update(
                channel=alert.channel,
                ts=alert.message_ts,
                text=alert_blocks.text(alert),
                blocks=alert_blocks.card(alert, self.catalogue.rule(alert.rule)),
            )
        )
        self.changed()

    async def find(self, alert: Alert) -> tuple[str, str] | None:
        if alert.run_expected and alert.run_ts:  # posted in the run's thread
            channel = alert.run_channel
            history = await _call(
                self.client.conversations_replies(
                    channel=channel, ts=alert.run_ts, limit=LOOKBACK, include_all_metadata=True
                )
            )
        else:
            channel = self._ids.get(alert.cluster) or alert.channel or self.channels[alert.cluster]
            history = await _call(
                self.client.conversations_history(
                    channel=channel, limit=LOOKBACK, include_all_metadata=True
                )
            )
        for message in history.get("messages") or []:
            if _token(message) == alert.token:
                return channel, str(message["ts"])
        return None


def _token(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    return str((metadata.get("event_payload") or {}).get("token", ""))


async def _call(request: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Slack's answers as DeliveryError: `gone` when the card (or channel) is no more;
    not `definite` when no answer came (the message may have been posted)."""
    try:
        return await request
    except SlackApiError as e:
        error = str(e.response.get("error", "")) if e.response is not None else ""
        raise DeliveryError(f"Slack said {error or e}", gone=error in GONE) from e
    except (aiohttp.ClientError, TimeoutError) as e:
        raise DeliveryError(f"no answer from Slack: {e}", definite=False) from e
