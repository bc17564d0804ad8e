"""What every open stream checks: its subscription slot (A4 max_subscriptions) and, at each heartbeat,
that its session is still live (revoked, expired, or idle-locked per A6 ends the stream). The heartbeat
check reads memory (the revoked set and the per-process session view), not the database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import strawberry

from brokerql.schema.errors import CodedError, ErrorCode, unauthenticated
from brokerql.services.identity.limits import TooManySubscriptions
from brokerql.services.identity.sessions import SessionState
from brokerql.services.tokens import Principal


@contextlib.asynccontextmanager
async def subscription_slot(info: strawberry.Info, principal: Principal) -> AsyncIterator[None]:
    """Hold one of the caller's concurrent subscriptions; RATE_LIMITED beyond the tier's maximum, and
    UNAVAILABLE (with the other live servers) while this process drains. Counted in the monitor."""
    monitor = info.context.container.monitor
    if monitor.draining:
        live = await monitor.board.processes()
        servers = [p.url for p in live if p.serves_api and p.url and not p.draining and p.id != monitor.process_id]
        raise CodedError(
            ErrorCode.UNAVAILABLE,
            "This server is draining and takes no new subscriptions; reconnect to another one.",
            reason="DRAINING",
            servers=servers,
        )
    client_id = principal.subject_id if principal.kind == "client" else None
    try:
        async with info.context.container.identity.limits.subscription(principal):
            with monitor.figures.stream(info.field_name, client_id):
                yield
    except TooManySubscriptions as exc:
        raise CodedError(
            ErrorCode.RATE_LIMITED,
            f"At most {exc.limit} subscriptions may be open at once; close one first.",
            reason="TOO_MANY_SUBSCRIPTIONS",
            limit=exc.limit,
        ) from None


async def ensure_live(info: strawberry.Info) -> Principal:
    """The caller, re-verified: UNAUTHENTICATED for an expired or revoked token, and with
    `reason: SESSION_LOCKED` when its session has been idle (no HTTP request) beyond the idle lock."""
    principal = info.context.principal()
    if principal is None:
        raise unauthenticated()
    container = info.context.container
    if not (container.settings.idle_lock_streams and principal.session_id and principal.kind != "partner"):
        return principal
    identity = container.identity
    idle_minutes = await identity.params.integer("session.idle_minutes")  # cached, one read per second at most
    state = await identity.sessions.stream_state(principal.session_id, idle_minutes)  # memory, see live_sessions
    if state is SessionState.REVOKED:
        raise unauthenticated("This session has ended (logged out or revoked); log in again.")
    if state is SessionState.IDLE_LOCKED:
        raise CodedError(
            ErrorCode.UNAUTHENTICATED,
            "This session is locked after inactivity; unlock it with your communication password.",
            reason="SESSION_LOCKED",
        )
    return principal
