"""Who may approve: Slack user IDs and user groups from the config (groups asked of Slack)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

GROUP_TTL_S = 60.0


class Approvers:
    """Empty list: any member of an allowed channel may approve (but see self_approval)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.users = {i for i in ids if not i.startswith("S")}
        self.groups = [i for i in ids if i.startswith("S")]
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def allows(self, client: AsyncWebClient, user: str) -> bool:
        if not self.users and not self.groups:
            return True
        if user in self.users:
            return True
        for group in self.groups:
            if user in await self._group(client, group):
                return True
        return False

    async def _group(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < GROUP_TTL_S:
            return cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=group)
            users: list[str] = response.get("users", [])
            members = frozenset(users)
        except SlackApiError:
            members = frozenset()  # an unreadable group approves nobody
        self._members[group] = (time.monotonic(), members)
        return members
