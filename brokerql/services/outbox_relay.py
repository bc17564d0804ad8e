"""Publishes what committed units of work wrote to the outbox, then deletes it.

Fresh messages go out from memory. A unit of work that emitted hands its committed messages to the relay
(`Database.on_commit`: the rows' ids and their records), which publishes them in commit order with no
read and no transaction, and deletes the published rows in one transaction every `DELETE_EVERY` seconds.
A pass of the relay was a write transaction of its own after each such commit (1.4 an order, about
1.1 ms of CPU each on SQLite and 2 ms on PostgreSQL, docs/performance.md); now the deletes of a busy
second share one.

Rows nobody is publishing are taken from the table: at start everything (`flush`), then every poll the
rows older than `LEFT_AFTER_SECONDS` that this relay has not published itself (a crashed process's, or
what the bus refused), oldest first, each batch deleted and returned by one statement and published
before that transaction commits. A relay whose publish failed takes everything from the table, in id
order, until it succeeds again, so nothing it committed later overtakes what the bus refused.

Nothing committed is lost: a row is deleted only once published. A message may go out twice (a crash
between its publish and its delete, or a process slower than `LEFT_AFTER_SECONDS` to delete what it
published while another sweeps); every consumer is idempotent by sequence number or order id. On
PostgreSQL an advisory lock lets one relay at a time take rows from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, text

from brokerql.bus import Bus, codec
from brokerql.store.columns import utcnow
from brokerql.store.database import Database
from brokerql.store.tables import OutboxRow

log = logging.getLogger(__name__)

BATCH = 500
DELETE_EVERY = 0.5  # seconds between the deletes of what was published from memory
LEFT_AFTER_SECONDS = 5.0  # a row this old that no relay here published is taken from the table
# Commits waiting to be published at most (a process that never runs its relay: a CLI import, a test);
# beyond it they are dropped from memory and taken from the table when the relay runs.
MAX_FRESH = 10_000
ADVISORY_LOCK_KEY = 0x6272_6F6B  # "brok"
# Built once, on the table's columns (a statement on the model's attributes is ORM-enabled: about 0.1 ms
# more each run, an UPDATE or DELETE also evaluated against the session's objects).
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")
_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
_MINE = bindparam("published", expanding=True)  # published here, their delete still to come
_OLDEST = select(_OUTBOX.c.id).where(_OUTBOX.c.id.not_in(_MINE)).order_by(_OUTBOX.c.id).limit(BATCH)
_LEFT = _OLDEST.where(_OUTBOX.c.created_at < bindparam("before"))
_RETURNED = (_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload)
_TAKE_ALL = delete(_OUTBOX).where(_OUTBOX.c.id.in_(_OLDEST.scalar_subquery())).returning(*_RETURNED)
_TAKE_LEFT = delete(_OUTBOX).where(_OUTBOX.c.id.in_(_LEFT.scalar_subquery())).returning(*_RETURNED)
_DELETE = delete(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))

Fresh = tuple[list[int], list[tuple[str, codec.Record]]]  # one unit of work's rows: ids, (topic, record)s


class OutboxRelay:
    """Publishes each commit's messages as it is told of them; sweeps the table for what is left."""

    def __init__(self, db: Database, bus: Bus, *, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._fresh: deque[Fresh] = deque()  # committed, not yet published
        self._published: list[int] = []  # published from memory, not yet deleted
        self._stalled = False  # a publish failed: the table is the source until a flush succeeds
        self.published = 0
        db.on_commit(self.committed)

    def committed(self, ids: list[int], records: list[tuple[str, codec.Record]]) -> None:
        """A unit of work committed these outbox rows (called in commit order)."""
        if len(self._fresh) >= MAX_FRESH:
            self._fresh.clear()
            self._stalled = True
        self._fresh.append((ids, records))
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self.poll_seconds
        next_sweep, next_delete = loop.time() + self.poll_seconds, None
        while True:
            due = next_sweep if next_delete is None else min(next_sweep, next_delete)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, due - loop.time()))
            self._wake.clear()
            try:
                if self._stalled:
                    if loop.time() < next_sweep:
                        continue  # backing off: the table keeps everything meanwhile
                    await self.flush()
                    if self._stalled:  # another process's relay held the table: try again later
                        next_sweep = loop.time() + self.poll_seconds
                        continue
                    backoff = self.poll_seconds
                await self._publish_fresh()
                if self._published and next_delete is None:  # what this publishes until then goes too
                    next_delete = loop.time() + DELETE_EVERY
                if next_delete is not None and loop.time() >= next_delete:
                    await self._delete_published()
                    next_delete = None
                if loop.time() >= next_sweep:
                    await self._take(left_only=True)
                    next_sweep = loop.time() + self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus or the database is down: the rows stay, try again later
                log.warning("outbox relay could not publish (%s); retrying", exc)
                self._stalled, backoff = True, min(backoff * 2, 5.0)
                next_sweep, next_delete = loop.time() + backoff, None

    async def close(self) -> None:
        """At a clean stop (the task cancelled): delete what was published, so the next start does not
        publish it again. What is left unpublished stays for the next start's `flush`."""
        if self._published:
            with contextlib.suppress(Exception):
                await self._delete_published()

    async def flush(self) -> int:
        """Publish everything in the table now, oldest first, but what this relay published already;
        returns how many messages went out (0 when another process's relay holds the table)."""
        total = await self._take(left_only=False)
        if total is None:
            return 0
        self._stalled = False  # what memory dropped or the bus refused was in the table: it went out
        return total

    async def _publish_fresh(self) -> None:
        """Every commit queued now in one `publish_records` (one round trip on Redis: a call a commit
        cost a busy PostgreSQL deployment a quarter of its orders a second)."""
        while self._fresh:
            batch = list(self._fresh)
            try:
                await self.bus.publish_records([record for _ids, records in batch for record in records])
            except Exception:
                self._fresh.clear()  # still in the table: the flush that ends the stall takes them in order
                raise
            for item in batch:  # commits queued during the publish stay for the next round
                if self._fresh and self._fresh[0] is item:  # (unless `committed` dropped the queue meanwhile)
                    self._fresh.popleft()
                self._published += item[0]
                self.published += len(item[1])

    async def _delete_published(self) -> None:
        done, self._published = self._published, []
        try:
            for start in range(0, len(done), BATCH):
                async with self.db.transaction(precedence=True) as uow:
                    await uow.session.execute(_DELETE, {"ids": done[start : start + BATCH]})
        except BaseException:
            self._published = done + self._published  # deleting twice is harmless: keep them all
            raise

    async def _take(self, *, left_only: bool) -> int | None:
        """Take rows from the table (deleted and returned in one statement a batch) and publish them
        before each batch's transaction commits, so a bus that refuses them rolls the delete back.
        None: another process's relay held the table (PostgreSQL) before this took all it would."""
        statement = _TAKE_LEFT if left_only else _TAKE_ALL
        total, taken, complete = 0, set(), True
        while True:
            params = {"published": self._published, "before": utcnow() - timedelta(seconds=LEFT_AFTER_SECONDS)}
            async with self.db.transaction(precedence=True) as uow:
                if not self.db.is_sqlite and not await uow.session.scalar(_TRY_LOCK, {"k": ADVISORY_LOCK_KEY}):
                    complete = False  # another process's relay is taking them
                    break
                # RETURNING gives no order: the rows go out in id order (commit order)
                rows = sorted((await uow.session.execute(statement, params)).all(), key=lambda row: row.id)
                await self.bus.publish_records([(row.topic, row.payload) for row in rows])
            total += len(rows)
            self.published += len(rows)
            taken.update(row.id for row in rows)
            if len(rows) < BATCH:
                break
        if taken:  # committed units of work whose rows this took are published already
            self._fresh = deque(fresh for fresh in self._fresh if not taken.issuperset(fresh[0]))
        return total if complete else None
