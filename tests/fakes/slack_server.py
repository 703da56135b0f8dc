"""A local fake Slack: records Web API calls and response_url posts, and serves Socket Mode.

Point the bot's AsyncWebClient at `api_url`. Inject failures with `fail(method, error)` or
`rate_limit(method, retry_after)`. Wait on what the bot did with `wait_for(...)`, never sleep.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT = {
    "user_id": "UHABOT",
    "bot_id": "BHABOT",
    "team_id": "T0001",
    "team": "lab",
    "user": "habot",
    "url": "https://lab.slack.test/",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    answer: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []  # (response_url id, body)
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> its posts, in order
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[str]] = {}  # user group id -> member ids
        self.outside: set[str] = set()  # channels the bot is not a member of
        self.uploads: dict[str, bytes] = {}
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the view as shown now
        self.homes: dict[str, dict[str, Any]] = {}  # user -> their home tab as published
        self._failures: dict[str, list[web.Response]] = {}
        self._held: dict[str, list[tuple[float, str | None]]] = {}
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}/response/{key or uuid.uuid4().hex}"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # conversations.history and the like
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{key}", self._upload)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- injection -------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        body = json.dumps({"ok": False, "error": error})
        self._failures.setdefault(method, []).extend(
            web.Response(text=body, content_type="application/json") for _ in range(times)
        )

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._failures.setdefault(method, []).extend(
            web.Response(
                status=429,
                headers={"Retry-After": str(retry_after)},
                text='{"ok": false, "error": "ratelimited"}',
                content_type="application/json",
            )
            for _ in range(times)
        )

    def hold(self, method: str, seconds: float, channel: str | None = None) -> None:
        """The next answer to `method` (in `channel`, if given) is shown and recorded at
        once, but reaches habot `seconds` late (Slack shows a message before its poster hears
        back)."""
        self._held.setdefault(method, []).append((seconds, channel))

    # -- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
        async def until() -> Any:
            async with self._changed:
                while not (found := check()):
                    await self._changed.wait()
                return found

        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"fake Slack: timed out after {timeout:g} s waiting for "
                f"{what}; calls: {[c.method for c in self.calls]}, "
                f"responses: {len(self.responses)}"
            ) from None

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- handlers --------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, dict(request.headers))
        self.calls.append(call)
        queued = self._failures.get(method)
        if queued:
            await self._changed_now()
            return queued.pop(0)
        refused = self._refused(method, params)
        if refused is not None:
            call.answer = {"ok": False, "error": "invalid_arguments", "messages": refused}
            await self._changed_now()
            return web.json_response(call.answer)
        call.answer = {"ok": True, **self._answer(method, params)}
        await self._changed_now()
        for held in self._held.get(method, []):
            if held[1] in (None, params.get("channel")):
                self._held[method].remove(held)
                await asyncio.sleep(held[0])
                break
        return web.json_response(call.answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return BOT
        if method == "apps.connections.open":
            return {"url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "usergroups.users.list":
            return {"users": self.groups.get(str(params.get("usergroup", "")), [])}
        if method == "conversations.info":
            channel = str(params.get("channel", ""))
            is_member = channel not in self.outside
            return {"channel": {"id": channel, "name": channel.lower(), "is_member": is_member}}
        if method == "conversations.members":  # channel ids in `groups` too
            return {"members": self.groups.get(str(params.get("channel", "")), [])}
        if method == "files.getUploadURLExternal":
            key = uuid.uuid4().hex
            return {"upload_url": f"http://127.0.0.1:{self.port}/upload/{key}", "file_id": key}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f["id"]} for f in json.loads(params.get("files", "[]"))]}
        if method in ("views.open", "views.update", "views.publish"):
            return {"view": self._show(method, params)}
        if method == "conversations.history":  # newest first, with each post's metadata
            return {"messages": self.messages.get(str(params.get("channel")), [])[::-1]}
        if method == "conversations.replies":  # the parent's thread, oldest first
            thread = f"{params.get('channel')}/{params.get('ts')}"
            return {"messages": self.messages.get(thread, [])}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = params.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            if method == "chat.postMessage":
                where = str(params.get("channel", ""))
                if params.get("thread_ts"):
                    where += f"/{params['thread_ts']}"
                self.messages.setdefault(where, []).append(
                    {"ts": ts, "text": params.get("text", ""), "metadata": params.get("metadata")}
                )
            return {
                "channel": params.get("channel", ""),
                "ts": ts,
                "message": {"text": params.get("text", ""), "ts": ts},
            }
        return {}

    def _refused(self, method: str, params: dict[str, Any]) -> list[str] | None:
        """What Slack itself refuses: a view past Block Kit's limits, an update of a view that
        changed meanwhile (its hash) or never was."""
        if not method.startswith("views."):
            return None
        view = _view_of(params)
        problems = block_kit_problems(view) if view else []
        if method == "views.update":
            shown = self.views.get(str(params.get("view_id")))
            if shown is None:
                problems.append("not_found: no such view")
            elif params.get("hash") and params["hash"] != shown["hash"]:
                problems.append("hash_conflict: the view changed meanwhile")
        return problems or None

    def _show(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        view = _view_of(params)
        if method == "views.publish":
            shown = {**view, "id": f"VHOME{params.get('user_id')}", "hash": uuid.uuid4().hex}
            self.homes[str(params.get("user_id"))] = shown
            return shown
        view_id = str(params.get("view_id") or f"V{next(self._ts):06d}")
        shown = {**view, "id": view_id, "hash": uuid.uuid4().hex}
        self.views[view_id] = shown
        return shown

    async def _response(self, request: web.Request) -> web.StreamResponse:
        self.responses.append((request.match_info["key"], await request.json()))
        await self._changed_now()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        self.uploads[request.match_info["key"]] = await request.read()
        await self._changed_now()
        return web.Response(text="OK")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "AHABOT"}}
        )
        await self._changed_now()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                ack = json.loads(msg.data)
                self.socket_acks[ack.get("envelope_id", "")] = ack
                await self._changed_now()
        self._sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver an event to the bot over Socket Mode; returns the envelope id."""
        await self.wait_for("a Socket Mode connection", lambda: self._sockets)
        envelope_id = uuid.uuid4().hex
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        return envelope_id


async def _params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    body = await request.read()
    if request.content_type == "application/json":
        return {**request.query, **json.loads(body or b"{}")}
    params: dict[str, Any] = {**request.query, **dict(parse_qsl(body.decode()))}
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _view_of(params: dict[str, Any]) -> dict[str, Any]:
    view = params.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    return view if isinstance(view, dict) else {}


def block_kit_problems(view: dict[str, Any]) -> list[str]:
    """Block Kit's documented limits on a modal or a home tab, as Slack enforces them."""
    problems: list[str] = []
    blocks = view.get("blocks") or []
    if len(blocks) > 100:
        problems.append(f"{len(blocks)} blocks, more than 100")
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if len(text) > 24:
            problems.append(f"{key} longer than 24 characters")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("private_metadata longer than 3000 characters")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > 3000:
            problems.append(f"a section of {len(text)} characters, more than 3000")
        for element in [block.get("element") or {}, block.get("accessory") or {}] + (
            block.get("elements") or []
        ):
            options = element.get("options") or []
            if element.get("type") == "static_select" and not 1 <= len(options) <= 100:
                problems.append(f"a static select with {len(options)} options")
            for option in options:
                if len(option["text"]["text"]) > 75 or len(option["value"]) > 150:
                    problems.append("an option past 75 characters of text or 150 of value")
        if block.get("type") == "input" and len((block.get("label") or {}).get("text", "")) > 2000:
            problems.append("a label longer than 2000 characters")
    return problems
