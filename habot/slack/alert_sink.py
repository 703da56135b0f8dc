"""Alert cards in each cluster's alerts channel: posted once, updated in place."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from habot.alerts.lifecycle import Alert
from habot.alerts.rules import Catalogue
from habot.slack import alert_blocks


@dataclass
class SlackAlertSink:
    client: AsyncWebClient
    catalogue: Catalogue
    channels: dict[str, str]  # cluster -> alerts channel

    async def post(self, alert: Alert) -> tuple[str, str]:
        channel = self.channels[alert.cluster]
        posted = await self.client.chat_postMessage(
            channel=channel,
            text=alert_blocks.text(alert),
            blocks=alert_blocks.card(alert, self.catalogue.rule(alert.rule)),
        )
        return str(posted.get("channel") or channel), str(posted["ts"])

    async def update(self, alert: Alert) -> None:
        await self.client.chat_update(
            channel=alert.channel,
            ts=alert.message_ts,
            text=alert_blocks.text(alert),
            blocks=alert_blocks.card(alert, self.catalogue.rule(alert.rule)),
        )
