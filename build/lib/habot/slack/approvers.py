"""Who may approve: Slack user IDs and user groups from the config (groups asked of Slack)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

GROUP_TTL_S = 60.0


class Approvers:
    """`anyone`: any member of an allowed channel may approve (but see self_approval); an
    empty list: nobody may."""

    def __init__(self, ids: Sequence[str] | Literal["anyone"]) -> None:
        self.anyone = ids == "anyone"
        listed = () if ids == "anyone" else ids
        self.users = {i for i in listed if not i.startswith("S")}
        self.groups = [i for i in listed if i.startswith("S")]
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def describe(self) -> str:
        if self.anyone:
            return "anyone in an allowed channel"
        who = [f"<@{u}>" for u in sorted(self.users)] + [f"<!subteam^{g}>" for g in self.groups]
        return ", ".join(who) or "nobody (no approvers are configured)"

    async def allows(self, client: AsyncWebClient, user: str) -> bool:
        if self.anyone:
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
