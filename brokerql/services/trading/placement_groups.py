"""The single placements of a process, placed in groups: one unit of work for what waits together.

Each `placeOrder` used to be a unit of work of its own: a lock and read of the account, the order's
INSERT, and at the end the account's UPDATE, the event's and the outbox's INSERTs, about five statements
and a transaction (on SQLite a savepoint of the group commit) an order. Under load most of an order's
database time was those statements' fixed cost, not what they wrote.

Here a placement joins a queue once its market context is read. Up to `AT_ONCE` groups run at once;
a group takes everything waiting when it starts (up to `GROUP_LIMIT`), so a placement that finds a free
slot runs at once and alone, and groups grow only while the slots are busy: no placement waits for a
timer. The group's body (`PlaceOrderService`) locks its accounts in one statement, admits the members
one after another in arrival order on the accounts as the members before them left them (the same
rules, in the same order, as separate transactions queued on the lock), and writes every member's rows
with one statement per table. It commits before any member is answered.

A body that raises takes the group's transaction down with it; each member is then placed alone, so
one member's failure costs the others only the retry, and the failing member gets its own error. A
member whose caller has gone (a cancelled request) before its group starts is not placed: nothing was
acknowledged to anyone. Two members with the same account and clientOrderId never share a group (the
second must see the first's order to answer for it); the second waits for a later group.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

AT_ONCE = 4  # groups at once: a group runs its members in turn, so a slot less would serialise placements
GROUP_LIMIT = 64  # members of one group at most: a group's transaction holds its accounts' locks

M = TypeVar("M")  # a member: what one placement needs inside the transaction
R = TypeVar("R")  # what its caller gets back


@dataclass(eq=False)
class _Waiting(Generic[M, R]):
    member: M
    answer: asyncio.Future[R] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class PlacementGroups(Generic[M, R]):
    """The queue of placements waiting for a unit of work, and the groups running them.

    `run_group(members)` places the members in one unit of work and returns their answers in order;
    `same_group_key(member)` is None, or a key two members of one group must not share."""

    def __init__(
        self,
        run_group: Callable[[list[M]], Awaitable[list[R]]],
        same_group_key: Callable[[M], Hashable | None],
        *,
        at_once: int = AT_ONCE,
        limit: int = GROUP_LIMIT,
    ) -> None:
        self._run_group, self._key = run_group, same_group_key
        self.at_once, self.limit = at_once, limit
        self._waiting: deque[_Waiting[M, R]] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self.groups = self.placed = 0  # groups run and members placed in them
        self.on_group: Callable[[int], None] = lambda members: None  # the monitor's histogram of group sizes

    async def place(self, member: M) -> R:
        """Place `member` in the next group that has room, and return its answer once that group committed."""
        waiting: _Waiting[M, R] = _Waiting(member)
        self._waiting.append(waiting)
        if len(self._running) < self.at_once:
            task = asyncio.create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await waiting.answer

    async def _drain(self) -> None:
        while self._waiting:
            group = self._take()
            if group:
                await self._run(group)

    def _take(self) -> list[_Waiting[M, R]]:
        group: list[_Waiting[M, R]] = []
        keys: set[Hashable] = set()
        later: list[_Waiting[M, R]] = []
        while self._waiting and len(group) < self.limit:
            waiting = self._waiting.popleft()
            if waiting.answer.done():  # its caller has gone: nothing was acknowledged, nothing is placed
                continue
            key = self._key(waiting.member)
            if key is not None and key in keys:
                later.append(waiting)
                continue
            if key is not None:
                keys.add(key)
            group.append(waiting)
        self._waiting.extendleft(reversed(later))
        return group

    async def _run(self, group: list[_Waiting[M, R]]) -> None:
        try:
            answers = await self._run_group([w.member for w in group])
        except asyncio.CancelledError:
            for waiting in group:
                waiting.answer.cancel()
            raise
        except Exception as error:
            if len(group) == 1:
                if not group[0].answer.done():
                    group[0].answer.set_exception(error)
                return
            log.warning("placing %d orders together failed; placing them one by one", len(group), exc_info=True)
            for waiting in group:
                await self._run([waiting])
            return
        self.groups += 1
        self.placed += len(group)
        self.on_group(len(group))
        for waiting, answer in zip(group, answers, strict=True):
            if not waiting.answer.done():
                waiting.answer.set_result(answer)
