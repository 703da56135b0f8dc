"""A run that waits for a person (a `pause:` step): the answer — Continue or Abort, from the
run's requester or an approver — is stored once (the first answer counts, whichever replica
took the click), and the run, on its own replica, reads it there. A timeout is stored the same
way, so a late click is told it came too late."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from habot.approvals.model import State
from habot.service.off_loop import off_loop
from habot.service.workflow import Workflow

POLL_S = 0.25  # how often a paused run looks for its answer
CONTINUE, ABORT, TIMEOUT = "continue", "abort", "timeout"


def key(request_id: str, index: int) -> str:
    return f"pause|{request_id}|{index}"


@dataclass(frozen=True)
class Pauses:
    workflow: Workflow

    async def answer(
        self, request_id: str, index: int, user: str, channel: str, choice: str
    ) -> str | None:
        """A click on Continue or Abort: None when it counts, else why not."""
        flow = self.workflow
        request = await flow.request_of(request_id)
        if request is None or request.state is not State.RUNNING:
            return "this run is not waiting for anyone"
        if user != request.requester and not await flow.may_approve(request, user, channel):
            return "only the run's requester or an approver can answer it"
        said = json.dumps({"choice": choice, "user": user})
        if not await off_loop(flow.store.put_new, key(request_id, index), said):
            earlier = await self.said(request_id, index)
            return f"this pause was answered already ({earlier[0] if earlier else 'timeout'})"
        await off_loop(
            flow.store.audit,
            at=flow.clock(),
            cluster=request.cluster,
            event=f"pause {choice}",
            request_id=request_id,
            user=user,
            detail=f"step {index}",
        )
        return None

    async def said(self, request_id: str, index: int) -> tuple[str, str] | None:
        text = await off_loop(self.workflow.store.get, key(request_id, index))
        if text is None:
            return None
        data = json.loads(text)
        return str(data.get("choice", "")), str(data.get("user", ""))

    async def wait(self, request_id: str, index: int, timeout: float) -> tuple[str, str]:
        """(choice, who) once someone answered, or (TIMEOUT, "") after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = await self.said(request_id, index)
            if found is not None:
                return found
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))
        gone = json.dumps({"choice": TIMEOUT, "user": ""})
        if await off_loop(self.workflow.store.put_new, key(request_id, index), gone):
            return TIMEOUT, ""
        return await self.said(request_id, index) or (TIMEOUT, "")  # answered at the last moment


def outcome(choice: str, user: str, timeout: float) -> tuple[bool, str]:
    """What the step says: (go on?, its detail)."""
    if choice == CONTINUE:
        return True, f"continued by {user}"
    if choice == ABORT:
        return False, f"aborted by {user}"
    return False, f"no answer within {timeout:g} s: aborted"
