"""What a Web API call can fail with, and Slack's own word for it."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)  # refused, unreachable, slow


def said(e: BaseException) -> str:
    """Slack's error code (`expired_trigger_id`), or the kind of failure when Slack said none."""
    if isinstance(e, SlackApiError) and e.response is not None:
        return str(e.response.get("error", "refused"))[:60]
    return type(e).__name__
