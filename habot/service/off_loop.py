"""Blocking calls (the store's database) run in a worker thread, never on the event loop: a
locked SQLite file or a slow PostgreSQL answer delays that one call, not every Slack ack."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)
