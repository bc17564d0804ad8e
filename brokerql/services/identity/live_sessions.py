"""The session rows that requests and open streams check (the idle lock): one in-memory view per process.

An open stream must end when its session is revoked or idle-locked, and a request must be refused, but
reading the session row at every heartbeat of every stream (18,000 streams: thousands of reads a
second) exhausted the connection pool, and reading it once a second per active session (the HTTP
path's TTL, until then) was a read transaction a second per trading client. Two facts make almost all
of those reads unnecessary:

- `last_seen_at` only moves forward (HTTP activity touches it), so a row that shows the session active
  now can only become *more* active in the database; the one way it turns idle-locked without a newer
  read is the clock passing `last_seen_at + idle`, which the stream sees from the row in memory.
- Revocation reaches every process through `SessionGate`'s revoked set (in memory, polled every
  second), not through this row.

So a row is read once per session per process and re-read only when, judged from memory, it would
lock the stream (another process may have seen activity since) or is unknown, and then at most once
per `recheck_seconds`. Reads are batched: every session asked for in one turn of the event loop is
read with one `IN` query (in chunks), and concurrent askers of one session share that read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from cachetools import LRUCache
from sqlalchemy import select

from brokerql.store.database import Database
from brokerql.store.tables_identity import AuthSessionRow

CHUNK = 500  # session ids per IN query


class LiveSessionRows:
    """Session id -> (row or None, monotonic time it was read), bounded; reads batched per loop turn."""

    def __init__(self, db: Database, *, maxsize: int, recheck_seconds: float) -> None:
        self.db = db
        self.maxsize, self.recheck_seconds = maxsize, recheck_seconds
        # Evicting an entry only costs a re-read: unlike the revoked set, this cache may be an LRU.
        self._rows: LRUCache[str, tuple[AuthSessionRow | None, float]] = LRUCache(maxsize=maxsize)
        self._pending: dict[str, asyncio.Future[AuthSessionRow | None]] = {}
        self._flush_scheduled = False
        self._flushing: set[asyncio.Task[None]] = set()

    def cached(self, session_id: str) -> tuple[AuthSessionRow | None, float] | None:
        return self._rows.get(session_id)

    def fresh(self, read_at: float) -> bool:
        return time.monotonic() - read_at < self.recheck_seconds

    def forget(self, session_id: str | None = None) -> None:
        if session_id is None:
            self._rows.clear()
        else:
            self._rows.pop(session_id, None)

    def touched(self, session_id: str, last_seen_at: Any) -> None:
        """This process recorded activity: the row in memory moves on too."""
        entry = self._rows.get(session_id)
        if entry is not None and entry[0] is not None:
            entry[0].last_seen_at = last_seen_at

    async def read(self, session_id: str) -> AuthSessionRow | None:
        """The row as the database has it now, read together with the other sessions asked for meanwhile."""
        future = self._pending.get(session_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[session_id] = future
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._start_flush)
        # shield: a stream that closes while waiting must not cancel the read the others share
        return await asyncio.shield(future)

    def _start_flush(self) -> None:
        task = asyncio.ensure_future(self._flush())
        self._flushing.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self._flushing.discard)

    async def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, {}
        ids = list(batch)
        try:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                async with self.db.read() as session:
                    found = {
                        row.id: row
                        for row in (
                            await session.scalars(select(AuthSessionRow).where(AuthSessionRow.id.in_(chunk)))
                        ).all()
                    }
                read_at = time.monotonic()
                for sid in chunk:
                    row = found.get(sid)
                    self._rows[sid] = (row, read_at)
                    if not batch[sid].done():
                        batch[sid].set_result(row)
        except Exception as exc:  # every waiter of this batch sees the failure (as a direct read would)
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved here too: a waiter that left must not log it as lost
