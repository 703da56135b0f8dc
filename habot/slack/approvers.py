"""Who is in a Slack user group (`S...` IDs) or a channel (`C...`, `G...`), for the policy:
members asked of Slack, kept a minute. A group or channel Slack will not list has no members."""

from __future__ import annotations

import time

from slack_sdk.web.async_client import AsyncWebClient

from habot.slack.failures import FAILURES

GROUP_TTL_S = 60.0
PAGES_MAX = 10  # of a channel's members, 1000 a page


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < GROUP_TTL_S:
            return cached[1]
        try:
            if group.startswith(("C", "G")):
                members = await self._channel(group)
            else:
                response = await self.client.usergroups_users_list(usergroup=group)
                members = frozenset(response.get("users", []))
        except FAILURES:
            members = frozenset()  # an unreadable group approves nobody, sees nothing
        self._members[group] = (time.monotonic(), members)
        return members

    async def _channel(self, channel: str) -> frozenset[str]:
        found: set[str] = set()
        cursor = ""
        for _ in range(PAGES_MAX):
            response = await self.client.conversations_members(
                channel=channel, limit=1000, cursor=cursor or None
            )
            found.update(response.get("members", []))
            cursor = (response.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                break
        return frozenset(found)
