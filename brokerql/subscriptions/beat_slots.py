"""Heartbeats of the orderEvents group writer on a shared grid, rendered once per selection and slot.

The contract is a `Heartbeat { lastSeq serverTime }` on every stream every BROKERQL_HEARTBEAT_SECONDS,
events or not. Rendered by each stream's own executor, the beats of 6,000 streams at 5 s were 1,200
GraphQL executions a second, most of them alike. Two things make them alike:

- **Slots.** A stream's beats fall on a grid of `SLOTS` slots per interval (loop time), not on its own
  timer: its first beat comes at most one interval after it opened (and at least one interval less one
  slot), then exactly one interval apart. Streams of the same slot share `serverTime` (the first
  rendering's), and their beats are written in one loop turn. With many slots to an interval a slot
  holds a few streams' beats, so there is no burst: per-stream timers spread them over the interval,
  and so does the grid, to within one slot.
- **A spliced lastSeq.** Each slot's Heartbeat is rendered once per selection with `lastSeq` = MARK,
  then each stream's own seq replaces the mark in the payload's text. So streams of different accounts
  share a rendering (one per selection, whatever their seqs), not only streams in step on one account.
  The mark is an Int every field alias renders the same way, as a bare JSON number right after its
  key; a rendering in which the mark's digits appear anywhere else is not spliced (the stream renders
  its own).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from brokerql.schema.types.trading import Heartbeat

# Slots per heartbeat interval: at 5 s, a slot of 0.25 s.
SLOTS = 20

# The seq a slot's template is rendered with. Within GraphQL's Int (an account reaching it is spliced
# with its own digits, which is the same text).
MARK = 2_147_480_123
# A field's value: right after a key's closing quote and colon (inside a JSON string a quote is escaped,
# so `":` followed by the mark cannot be text), and followed by the next member or the object's end.
_AS_VALUE = re.compile(rf'(?<=[^\\]":){MARK}(?=[,}}])')


def next_slot(now: float, interval: float) -> float:
    """The last slot of the grid at most `interval` after `now` (loop time)."""
    grid = interval / SLOTS
    # round() first: a time just under a slot's edge by float error would fall a whole slot early
    return math.floor(round((now + interval) / grid, 6)) * grid


def splice(template: str, last_seq: int) -> str | None:
    """`template` with `last_seq` for the mark wherever the mark is a field's value; None when the mark's
    digits also stand elsewhere (a string that happens to contain them): not safe to splice."""
    marks = template.count(str(MARK))
    spliced, values = _AS_VALUE.subn(str(last_seq), template)
    return spliced if values == marks else None


class BeatSlots:
    """The grid the group writer's heartbeats fall on, and each recent slot's Heartbeat to render."""

    KEPT = 4  # slots whose template is kept: a stream late for its slot (its session check awaited) still shares

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now  # the server's clock, for serverTime
        self._templates: OrderedDict[float, Heartbeat] = OrderedDict()

    def schedule(self, member: object, interval: float) -> asyncio.TimerHandle:
        """Ring `member.beat` at the last slot at most `interval` from now; `member.beat_slot` names it."""
        loop = asyncio.get_running_loop()
        member.beat_slot = due = next_slot(loop.time(), interval)  # type: ignore[attr-defined]
        return loop.call_at(due, member.beat)  # type: ignore[attr-defined]

    def template(self, slot: float) -> Heartbeat:
        """The slot's Heartbeat, with the mark for lastSeq: rendered once per selection (its `frames`)."""
        item = self._templates.get(slot)
        if item is None:
            item = self._templates[slot] = Heartbeat(last_seq=MARK, server_time=self.now())
            item.frames = {}  # type: ignore[attr-defined]
            while len(self._templates) > self.KEPT:
                self._templates.popitem(last=False)
        return item
