"""The outbox relay: a commit's messages go out from memory with no transaction of the relay's, the
published rows are deleted together later, rows nobody here published are swept from the table once
they are old enough, and a bus that refuses messages loses none and lets none overtake them.

On both backends, with the relay's own task running (`OutboxRelay.run`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text, update

from brokerql.bus.memory import MemoryBus
from brokerql.services import outbox_relay
from brokerql.services.outbox_relay import ADVISORY_LOCK_KEY, OutboxRelay
from brokerql.store.columns import utcnow
from brokerql.store.database import Database
from brokerql.store.tables import OutboxRow
from tests.integration.test_bus_backends import event

TOPIC = "account.relay-test"


async def outbox_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


async def eventually(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


async def emit(db: Database, *seqs: int) -> None:
    async with db.transaction() as uow:
        for seq in seqs:
            uow.emit(TOPIC, event(seq))


class Running:
    """A relay on `db` and `bus` with its task running, and the writer's transactions counted."""

    def __init__(self, db: Database, bus: MemoryBus, *, poll_seconds: float = 1.0) -> None:
        self.db, self.relay = db, OutboxRelay(db, bus, poll_seconds=poll_seconds)
        self.writes, self.deletes = 0, 0
        # PostgreSQL's work with precedence (the relay's) has an engine of its own
        self.engines = {id(e.sync_engine): e.sync_engine for e in (db.writer, db.precedence_writer)}.values()
        for engine in self.engines:
            sa_event.listen(engine, "begin", self._began)
            sa_event.listen(engine, "before_cursor_execute", self._statement)
        self.task = asyncio.create_task(self.relay.run())

    def _began(self, _connection) -> None:  # type: ignore[no-untyped-def]
        self.writes += 1

    def _statement(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self.deletes += statement.lstrip().upper().startswith("DELETE")

    async def stop(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        for engine in self.engines:
            sa_event.remove(engine, "begin", self._began)
            sa_event.remove(engine, "before_cursor_execute", self._statement)
        await self.db.dispose()


async def test_a_commits_messages_go_out_without_a_relay_transaction_and_are_deleted_together(backend) -> None:  # type: ignore[no-untyped-def]
    db, bus = Database(backend.settings.database_url), MemoryBus()
    subscription = await bus.subscribe([TOPIC])
    running = Running(db, bus, poll_seconds=60)  # no sweep meanwhile: every write here is counted
    for seq in range(1, 6):
        await emit(db, seq)
    assert running.writes == 5  # the five units of work: the relay has written nothing yet
    received = [(await subscription.get(timeout=2))[1].seq for _ in range(5)]
    assert received == [1, 2, 3, 4, 5]
    assert running.writes == 5 and await outbox_count(db) == 5  # published from memory, rows still there

    async def deleted() -> bool:
        return await outbox_count(db) == 0

    await eventually(deleted)
    assert running.deletes == 1  # the five commits' rows in one DELETE
    assert running.relay.published == 5
    await running.stop()


async def test_rows_nobody_here_published_are_swept_once_old_enough(backend) -> None:  # type: ignore[no-untyped-def]
    """Another process's rows (written through a Database this relay is not told of) are left alone while
    that process may still publish them, and taken once older than LEFT_AFTER_SECONDS."""
    db, bus = Database(backend.settings.database_url), MemoryBus()
    other = Database(backend.settings.database_url)  # a second process: no relay listens to its commits
    subscription = await bus.subscribe([TOPIC])
    running = Running(db, bus)
    await emit(other, 1, 2)
    await asyncio.sleep(1.5)  # more than a poll: young rows stay
    assert await outbox_count(db) == 2 and running.relay.published == 0

    async with other.transaction() as uow:  # they age (their process died)
        await uow.session.execute(update(OutboxRow).values(created_at=utcnow() - timedelta(seconds=60)))
    assert [(await subscription.get(timeout=3))[1].seq for _ in range(2)] == [1, 2]

    async def swept() -> bool:  # published before its transaction commits
        return await outbox_count(db) == 0

    await eventually(swept)
    await running.stop()
    await other.dispose()


async def test_a_bus_that_refuses_messages_loses_none_and_lets_none_overtake_them(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db, bus = Database(backend.settings.database_url), MemoryBus()
    subscription = await bus.subscribe([TOPIC])
    refusing = [True]
    publish_records = bus.publish_records

    async def flaky(records):  # type: ignore[no-untyped-def]
        if refusing[0]:
            raise ConnectionError("bus down")
        await publish_records(records)

    monkeypatch.setattr(bus, "publish_records", flaky)
    running = Running(db, bus)
    await emit(db, 1)
    await asyncio.sleep(0.2)  # refused: the row stays, the relay backs off
    await emit(db, 2, 3)
    assert await outbox_count(db) == 3
    refusing[0] = False
    await emit(db, 4)  # committed after the outage: must not go out before 1-3
    received = [(await subscription.get(timeout=8))[1].seq for _ in range(4)]
    assert received == [1, 2, 3, 4]

    async def deleted() -> bool:
        return await outbox_count(db) == 0

    await eventually(deleted)
    assert await subscription.get(timeout=0.5) is None  # each once
    await running.stop()


async def test_commits_beyond_what_memory_keeps_are_taken_from_the_table(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A process whose relay is not running (a CLI import) keeps at most MAX_FRESH commits in memory; when
    the relay runs, what was dropped comes from the table, in order."""
    monkeypatch.setattr(outbox_relay, "MAX_FRESH", 3)
    db, bus = Database(backend.settings.database_url), MemoryBus()
    subscription = await bus.subscribe([TOPIC])
    relay = OutboxRelay(db, bus)
    for seq in range(1, 6):
        await emit(db, seq)
    assert await relay.flush() == 5
    task = asyncio.create_task(relay.run())
    await emit(db, 6)
    assert [(await subscription.get(timeout=3))[1].seq for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.dispose()


async def test_a_clean_stop_deletes_what_was_published_and_keeps_what_was_not(backend) -> None:  # type: ignore[no-untyped-def]
    db, bus = Database(backend.settings.database_url), MemoryBus()
    subscription = await bus.subscribe([TOPIC])
    relay = OutboxRelay(db, bus, poll_seconds=60)
    task = asyncio.create_task(relay.run())
    await emit(db, 1, 2)
    assert [(await subscription.get(timeout=2))[1].seq for _ in range(2)] == [1, 2]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await emit(db, 3)  # committed after the relay stopped: not published
    await relay.close()
    assert await outbox_count(db) == 1
    assert await OutboxRelay(db, bus).flush() == 1  # the next start publishes only what was not
    assert (await subscription.get(timeout=2))[1].seq == 3
    await db.dispose()


async def test_a_relay_that_finds_another_holding_the_table_takes_nothing_and_tries_again(backend) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: one relay at a time takes rows from the table (an advisory lock). A flush that finds it
    held returns 0 and leaves a stalled relay stalled, so its later commits still wait behind the rows."""
    if backend.name == "sqlite-memory":
        pytest.skip("one process writes a SQLite database: no other relay to meet")
    db, other, bus = Database(backend.settings.database_url), Database(backend.settings.database_url), MemoryBus()
    relay = OutboxRelay(db, bus)
    await emit(other, 1, 2)
    relay._stalled = True  # as after a refused publish
    async with other.transaction() as uow:  # another process's relay, mid-pass
        assert await uow.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        assert await relay.flush() == 0
        assert relay._stalled and await outbox_count(db) == 2
    assert await relay.flush() == 2 and not relay._stalled
    await db.dispose()
    await other.dispose()
