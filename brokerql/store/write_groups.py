"""Group commit for SQLite: the process's write transactions queue here and share one COMMIT.

SQLite has one writer per database. Left to themselves, concurrent units of work each open a
connection and send `BEGIN IMMEDIATE`; all but one then wait in SQLite's busy handler, which sleeps
and retries instead of queueing, so the lock sits free between a commit and the next sleeper's wake-up,
the order of service is arbitrary (a steady stream of placements starved the exchange's bookings) and
a long wait ends in "database is locked".

Here every unit of work joins a queue instead. One writer task takes the members queued when it starts
(up to `max_members`), opens one transaction, and runs them one at a time, each in a SAVEPOINT of its
own with its own session: a member whose body raises is rolled back to its savepoint alone, the others
keep their writes. A group of one member runs without the savepoint (its SAVEPOINT and RELEASE were two
of about 38 statements an order makes, in each of its five units of work, whenever the writer is not
busy): its session joins the transaction and a body that raises rolls the whole transaction back, which
is the same thing there. Then one COMMIT (one fsync) for all; each member's `async with` returns only after
that COMMIT, so nothing is acknowledged before it is durable, and if the COMMIT fails every member of
the group gets the error and none of their writes is kept. Members that arrive meanwhile form the next
group, which bounds how long one waits.

Members with precedence (work that finishes what was already acknowledged: the exchange's journal and
bookings, the outbox relay) queue apart and form the next group whenever any wait, without the new
work queued before them. In FIFO order a fill waited behind every placement queued at that moment (up
to one per client), so at 128 clients the bookings ran at 13/s while 97 orders/s were accepted.
Precedence cannot starve the rest for long: it only finishes work that new work started.

A member that `leads` (the outbox relay) goes to the head of that queue, so it runs before any other
member of its group has written: it reads only what earlier groups committed. The relay publishes the
rows it takes before its COMMIT; rows a group-mate had inserted would have gone out before theirs, and a
failed COMMIT would have left a published fill that never happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession


class NestedWriteTransaction(RuntimeError):
    """A write unit of work was opened inside another one (on SQLite it could never get the lock)."""


@dataclass(eq=False)
class _Member:
    # the group's connection, and whether this member is alone in its group
    turn: asyncio.Future[tuple[AsyncConnection, bool]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    committed: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WriteGroups:
    """The queue of write units of work of one SQLite database, and the task that commits them in groups."""

    def __init__(self, engine: AsyncEngine, *, max_members: int = 64) -> None:
        self.engine = engine
        self.max_members = max_members
        self._queue: deque[_Member] = deque()
        self._first: deque[_Member] = deque()  # members with precedence, served before `_queue`
        self._writer: asyncio.Task[None] | None = None
        self._running: asyncio.Task[object] | None = None  # the task whose member body holds the connection
        self.groups = 0  # committed groups, and the members in them (figures for tests and benchmarks)
        self.members = 0

    @asynccontextmanager
    async def session(self, *, precedence: bool = False, leads: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a savepoint of the current group; on a normal exit, returns after the COMMIT.
        With `precedence`, its group forms before any group of members without it; with `leads` as
        well, it runs first in that group (it sees no uncommitted write of a group-mate)."""
        if self._running is not None and self._running is asyncio.current_task():
            # It would wait for its own group to commit, which waits for this body: refuse at once.
            raise NestedWriteTransaction("a write unit of work was opened inside another one")
        member = _Member()
        if leads:
            self._first.appendleft(member)
        else:
            (self._first if precedence else self._queue).append(member)
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not asyncio.get_running_loop():
            self._writer = asyncio.create_task(self._write(), name="sqlite-write-groups")
        try:
            connection, alone = await member.turn
        except BaseException:
            member.turn.cancel()  # cancelled while queued: the writer skips it
            raise
        self._running = asyncio.current_task()
        try:
            # The session joins the group's transaction through a SAVEPOINT: its commit releases the
            # savepoint, its rollback (the body raised) undoes this member's writes only. Alone in its
            # group it joins the transaction itself: its commit leaves the COMMIT to the writer, its
            # rollback rolls the transaction back.
            mode = "rollback_only" if alone else "create_savepoint"
            async with (
                AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode=mode) as session,
                session.begin(),
            ):
                yield session
        except BaseException:
            member.done.set_result(False)
            # Nobody awaits this member's COMMIT now; a group that failed meanwhile (e.g. its connection
            # closed at shutdown) must not leave an exception that no one retrieves.
            member.committed.add_done_callback(_retrieved)
            raise
        finally:
            self._running = None
        member.done.set_result(True)
        await member.committed

    async def _write(self) -> None:
        while self._first or self._queue:
            queue = self._first or self._queue
            group = [queue.popleft() for _ in range(min(len(queue), self.max_members))]
            group = [m for m in group if not m.turn.done()]  # cancelled while queued
            if group:
                await self._commit_group(group)

    async def _commit_group(self, group: list[_Member]) -> None:
        ran: list[_Member] = []
        try:
            async with self.engine.connect() as connection:
                try:
                    await connection.begin()  # BEGIN IMMEDIATE (the engine's begin hook)
                    alone = len(group) == 1
                    for member in group:
                        if member.turn.done():
                            continue
                        member.turn.set_result((connection, alone))
                        ran.append(member)
                        await asyncio.wait([member.done])  # its body runs in its own task; False: it raised
                        # and was rolled back to its savepoint, the others' writes stay
                    if connection.in_transaction():  # not when the member alone in it raised (rolled back)
                        await connection.commit()
                except BaseException:
                    # A failed COMMIT leaves SQLite's transaction open: never pool that connection
                    # (closing it rolls the transaction back).
                    with contextlib.suppress(Exception):
                        await connection.invalidate()
                    raise
        except BaseException as exc:
            for member in group:
                if not member.turn.done():
                    member.turn.set_exception(exc if isinstance(exc, Exception) else RuntimeError("writer stopped"))
                elif not (member.done.done() and member.done.result() is False):
                    _finish(member.committed, exc)  # its body succeeded (or still runs): no COMMIT for it
            if not isinstance(exc, Exception):
                raise
            return
        self.groups += 1
        self.members += len(ran)
        for member in ran:
            if member.done.result():
                _finish(member.committed, None)


def _finish(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    elif isinstance(exc, Exception):
        future.set_exception(exc)
    else:
        future.cancel()  # the writer itself was cancelled (shutdown)


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
