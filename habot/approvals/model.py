"""Approval requests and their transitions (pure: time and users are parameters)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"  # approved, but the cluster changed so that the plan no longer held
    INTERRUPTED = "interrupted"  # habot stopped while it ran; never re-run by itself
    SCHEDULED = "scheduled"  # approved ahead: runs at its time, if its plan and preview hold
    MISSED = "missed"  # its time passed (beyond the grace) while no habot ran: never run late
    CANCELLED = "cancelled"  # a scheduled request taken back before its time


FINAL = (
    State.DENIED,
    State.EXPIRED,
    State.SUCCEEDED,
    State.FAILED,
    State.REFUSED,
    State.INTERRUPTED,
    State.MISSED,
    State.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    cluster: str
    runbook: str
    params: tuple[tuple[str, str], ...]
    requester: str
    channel: str
    created: float
    expires: float
    approvals_needed: int
    plan_fingerprint: str
    state: State = State.REQUESTED
    approvals: tuple[str, ...] = ()
    decided_by: str = ""
    message_ts: str = ""
    run_at: float = 0.0  # a scheduled run's time (0: at once, on approval)
    preview: str = ""  # a scheduled run's preview when asked: what it moves and stops


def due(request: Request, now: float) -> bool:
    """A scheduled run whose time has come."""
    return request.state is State.SCHEDULED and request.run_at <= now


def missed(request: Request, now: float, grace_s: float) -> bool:
    """A scheduled run found more than `grace_s` after its time: told, never run late."""
    return due(request, now) and now - request.run_at > grace_s


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a click: refused with a reason, or the request as it now stands."""

    request: Request
    refusal: str | None = None
    completes: bool = False  # this click's own compare-and-set made the request approved

    @property
    def complete(self) -> bool:
        """This click approved the request: it, and only it, starts the run (two approvers
        clicking together both see the request approved; one of them made it so)."""
        return self.refusal is None and self.completes and self.request.state is State.APPROVED


def approve(
    request: Request, user: str, now: float, *, is_approver: bool, self_approval: bool
) -> Decision:
    refusal = _refusal(request, user, now, is_approver=is_approver, self_approval=self_approval)
    if refusal is not None:
        return Decision(request, refusal)
    approvals = (*request.approvals, user)
    state = State.APPROVED if len(approvals) >= request.approvals_needed else State.REQUESTED
    return Decision(
        replace(request, approvals=approvals, state=state, decided_by=", ".join(approvals)),
        completes=state is State.APPROVED,
    )


def deny(request: Request, user: str, now: float, *, is_approver: bool) -> Decision:
    if request.state is not State.REQUESTED:
        return Decision(request, _already(request))
    if now >= request.expires:
        return Decision(replace(request, state=State.EXPIRED), "this request has expired")
    if not is_approver and user != request.requester:
        return Decision(request, "only an approver or the requester can deny this request")
    return Decision(replace(request, state=State.DENIED, decided_by=user))


def expire(request: Request, now: float) -> Request | None:
    """The request turned expired, or None when it is not (or no longer) waiting."""
    if request.state is State.REQUESTED and now >= request.expires:
        return replace(request, state=State.EXPIRED)
    return None


def _refusal(
    request: Request, user: str, now: float, *, is_approver: bool, self_approval: bool
) -> str | None:
    if request.state is not State.REQUESTED:
        return _already(request)
    if now >= request.expires:
        return "this request has expired; ask again"
    if not is_approver:
        return "you are not an approver for this cluster"
    if user == request.requester and not self_approval:
        return "you cannot approve your own request"
    if user in request.approvals:
        return "you approved this already; it needs another approver"
    return None


def misplaced(request: Request, channel: str, message_ts: str) -> str | None:
    """A decision counts only when clicked on the request's own card."""
    if request.message_ts and (channel, message_ts) == (request.channel, request.message_ts):
        return None
    return "a decision counts only when clicked on the request's own card"


def _already(request: Request) -> str:
    if request.state is State.DENIED:
        return f"this request was denied by {request.decided_by}"
    if request.state is State.EXPIRED:
        return "this request has expired; ask again"
    return f"this request was already {request.state.value}"
