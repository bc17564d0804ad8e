"""What the group writers of `quotes` (quote_fanout.py) and `orderEvents` (order_fanout.py) share.

A group writer keeps one bus subscription per topic (a symbol's view, an account) for the whole
process and, per message, renders each group's payload once (push_channel.PushChannel: one execution
and serialization per selection) and writes it in one loop to every member of the group whose socket
takes it now: no task wake-up and no strawberry handling per subscriber. A member whose transport is
paused hands the rest of the write to a drain task of its own; what it does with the messages that
come meanwhile is the writer's own rule (quotes: the latest per topic wins; order events: every one,
in order, up to a bound).

Each member's own task (the stream strawberry runs) sleeps until its heartbeat, a failed write, or
what its writer wakes it for.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from brokerql.monitor import prometheus as metrics
from brokerql.monitor.figures import ProcessFigures
from brokerql.subscriptions.push_channel import FrameKey, PushChannel


def detached(coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A task of the writer itself, not of the stream that happened to start it: a fresh context, so
    nothing of that stream's (its operation's channel, its request id in log lines) leaks into it."""
    return asyncio.get_running_loop().create_task(coroutine, name=name, context=contextvars.Context())


class SocketMember:
    """One operation on a group writer: writing to its socket and waking its own task."""

    def __init__(self, channel: PushChannel) -> None:
        self.channel = channel
        self.key: FrameKey | None = None  # its group's key; None while it is not in a group
        self.draining: asyncio.Task[None] | None = None  # finishes a write the paused transport held up
        self.left = False
        self.failure: BaseException | None = None
        self.beat_due = False
        self.wake = asyncio.Event()  # its own task: a failed write, its heartbeat, what the writer adds

    def write(self, payload: str) -> bool:
        """Write now, from the writer's loop; a paused transport hands the rest of the write (and what
        follows it) to the drain task. False when the socket is gone."""
        try:
            rest = self.channel.write(payload)
        except Exception as exc:
            self.fail(exc)
            return False
        if rest is not None:
            self.draining = asyncio.create_task(self._drain(rest))
        return True

    async def _drain(self, in_flight: Awaitable[None] | None) -> None:
        """Finish `in_flight`, then write what waits for this socket (the writer's rule)."""
        raise NotImplementedError

    def beat(self) -> None:
        self.beat_due = True
        self.wake.set()

    def fail(self, exc: BaseException) -> None:
        self.failure = self.failure or exc
        self.wake.set()


class Group:
    __slots__ = ("key", "members")

    def __init__(self, key: FrameKey) -> None:
        self.key = key
        self.members: dict[Any, None] = {}  # an ordered set


async def shared_payload(member: SocketMember, item: Any, key: FrameKey) -> str | None:
    """`item`'s payload for every member of `key` (rendered once, cached on `item`), or None when this
    member's rendering carries an error of its own."""
    rendered = member.channel.shared(item, key)
    return rendered if rendered is None or isinstance(rendered, str) else await rendered


async def group_payload(group: Group, item: Any, own: Callable[[Any], None]) -> str | None:
    """Rendered by the first member whose rendering may be shared. Each one whose rendering carries an
    error of its own (a revoked session) is handed to `own` (it gets `item` rendered by itself)."""
    first = next(iter(group.members))
    payload = await shared_payload(first, item, group.key)
    if payload is not None:  # the usual case
        return payload
    for member in list(group.members):
        if member is not first:
            payload = await shared_payload(member, item, group.key)
            if payload is not None:
                return payload
        own(member)
    return None


def place(groups: dict[FrameKey, Group], member: Any, key: FrameKey) -> None:
    """`member` into the group of `key` (made when it is the first)."""
    member.key = key
    group = groups.get(key)
    if group is None:
        group = groups[key] = Group(key)
    group.members[member] = None


def unplace(groups: dict[FrameKey, Group], members: Iterable[Any]) -> None:
    """Out of their groups (a group left empty goes)."""
    for member in members:
        group = groups.get(member.key) if member.key is not None else None
        if group is not None:
            group.members.pop(member, None)
            if not group.members:
                del groups[group.key]


class PushCount:
    """One increment of the push counters per group write, not one per socket."""

    def __init__(self, figures: ProcessFigures, field: str) -> None:
        self.figures, self._pushes = figures, metrics.PUSHES.labels(field)

    def __call__(self, written: int) -> None:
        if written:
            self._pushes.inc(written)
            self.figures.pushes.add(written)
