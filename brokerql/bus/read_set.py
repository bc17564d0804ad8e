"""The retained messages one GraphQL operation read: what an answer kept per snapshot depends on.

`MarketData` notes every snapshot it hands out; `schema/read_cache.py` opens a read set around one
operation's execution and keeps the answer with the (topic, message) pairs it was computed from. A
context variable carries the set, so concurrent operations (one WebSocket runs several) never share one,
and resolvers run in tasks that inherit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from brokerql.bus.base import Message

Reads = list[tuple[str, Message | None]]

_READS: ContextVar[Reads | None] = ContextVar("brokerql_read_set", default=None)


@contextmanager
def tracking() -> Iterator[Reads]:
    """Collect the retained messages read until the block ends."""
    reads: Reads = []
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def note(topic: str, message: Message | None) -> None:
    """Record that `message` (None: nothing retained yet) was read as the latest of `topic`."""
    reads = _READS.get()
    if reads is not None:
        reads.append((topic, message))
