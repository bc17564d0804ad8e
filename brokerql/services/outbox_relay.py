"""Publishes what committed transactions left in the outbox, in order, and deletes it in the same
transaction (the delete commits only once the bus took the messages).

A crash between commit and publish loses nothing: the rows stay and the next relay run (this process
after restart, or any other) publishes them. A crash between publish and delete publishes a message
twice; every consumer is idempotent by sequence number or order id, so that is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import delete, select, text

from brokerql.bus import Bus
from brokerql.store.database import Database
from brokerql.store.tables import OutboxRow

log = logging.getLogger(__name__)

BATCH = 500
# One relay at a time across processes on PostgreSQL, so the outbox is published in commit order.
ADVISORY_LOCK_KEY = 0x6272_6F6B  # "brok"
# Built once: the relay runs after nearly every commit, and for each new statement object SQLAlchemy
# works its cache key out again. On the table's columns, not the model's: an ORM-enabled DELETE also
# evaluates its WHERE against the session's objects (about 0.1 ms a pass).
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")
_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
# The oldest rows, taken in one statement: deleted and returned. Published before the transaction commits,
# so a bus that refuses them rolls the delete back, and a crash before the COMMIT leaves them for the next
# pass (published twice then, as a crash between publish and delete always did).
_FIRST = select(_OUTBOX.c.id).order_by(_OUTBOX.c.id).limit(BATCH).scalar_subquery()
_TAKE = delete(_OUTBOX).where(_OUTBOX.c.id.in_(_FIRST)).returning(_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload)


class OutboxRelay:
    """Woken after every commit that emitted messages; also polls, to pick up what a crash left."""

    def __init__(self, db: Database, bus: Bus, *, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self.published = 0
        db.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = self.poll_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                await self.flush()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus or the database is down: keep the rows, retry later
                log.warning("outbox relay could not publish (%s); retrying", exc)
                backoff = min(backoff * 2, 5.0)

    async def flush(self) -> int:
        """Publish everything pending now; returns how many messages went out."""
        total = 0
        while True:
            # `leads`: first in its group, so it takes only committed rows (it publishes before its COMMIT)
            async with self.db.transaction(precedence=True, leads=True) as uow:
                session = uow.session
                if not self.db.is_sqlite:
                    got = await session.scalar(_TRY_LOCK, {"k": ADVISORY_LOCK_KEY})
                    if not got:
                        return total
                # RETURNING gives no order: the rows go out in id order (commit order)
                rows = sorted((await session.execute(_TAKE)).all(), key=lambda row: row.id)
                await self.bus.publish_records([(row.topic, row.payload) for row in rows])
            total += len(rows)
            self.published += len(rows)
            if len(rows) < BATCH:
                return total
