"""Slack's user groups for the policy (`S...` IDs): members asked of Slack, kept a minute."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

GROUP_TTL_S = 60.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < GROUP_TTL_S:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            users: list[str] = response.get("users", [])
            members = frozenset(users)
        except SlackApiError:
            members = frozenset()  # an unreadable group approves nobody
        self._members[group] = (time.monotonic(), members)
        return members
