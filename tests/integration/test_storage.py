"""Storage: migrations are the schema, money stays exact, and the outbox relay loses nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from brokerql.bus.memory import MemoryBus
from brokerql.services.outbox_relay import BATCH, OutboxRelay
from brokerql.store.database import Database
from brokerql.store.tables import ALL_TABLES, AccountRow, OutboxRow
from tests.integration.test_bus_backends import event


def _not_fts(name: str | None, type_: str, _parents: object) -> bool:
    """Article full text exists only in the migration: SQLite's FTS5 table (and its shadow tables),
    PostgreSQL's generated search_vector column and its GIN index."""
    if type_ == "table":
        return not (name or "").startswith("article_fts")
    return name not in ("search_vector", "ix_article_search")


async def test_migrations_match_the_table_definitions(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    async with db.writer.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": False, "include_name": _not_fts}), ALL_TABLES
            )
        )
    await db.dispose()
    assert diff == [], f"tables and migrations disagree; add a migration: {diff}"


async def test_money_round_trips_exactly(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    value = Decimal("12345678901.23456789")
    async with db.transaction() as uow:
        account = (await uow.session.scalars(select(AccountRow).limit(1))).one()
        account.available = value
        account_id = account.id
    async with db.read() as session:
        assert (await session.get(AccountRow, account_id)).available == value
    await db.dispose()


async def test_a_rolled_back_unit_of_work_leaves_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    with pytest.raises(RuntimeError):
        async with db.transaction() as uow:
            uow.emit("account.x", event(1))
            raise RuntimeError("boom")
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0
    await db.dispose()


async def test_outbox_left_by_a_crash_is_published_in_order_on_restart(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    # A process committed three messages and died before publishing them.
    async with db.transaction() as uow:
        for seq in (1, 2, 3):
            uow.emit("account.crash", event(seq))
    bus = MemoryBus()
    subscription = await bus.subscribe(["account.crash"])
    relay = OutboxRelay(db, bus)  # the next process's relay
    assert await relay.flush() == 3
    received = [(await subscription.get(timeout=1))[1].seq for _ in range(3)]
    assert received == [1, 2, 3]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0
    await db.dispose()


async def test_the_relay_publishes_more_than_a_batch_in_commit_order_and_leaves_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    """A pass takes at most BATCH rows (deleted and returned in one statement, whose rows come back in no
    set order) and publishes them in id order; the next pass takes the rest."""
    db = Database(backend.settings.database_url)
    total = BATCH + 100
    for start in range(0, total, 150):  # several commits, as the relay finds them after a busy second
        async with db.transaction() as uow:
            for seq in range(start + 1, min(total, start + 150) + 1):
                uow.emit("account.many", event(seq))
    bus = MemoryBus()
    subscription = await bus.subscribe(["account.many"])
    assert await OutboxRelay(db, bus).flush() == total
    received = [(await subscription.get(timeout=1))[1].seq for _ in range(total)]
    assert received == list(range(1, total + 1))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0
    await db.dispose()


async def test_relay_keeps_messages_when_the_bus_is_down(backend) -> None:  # type: ignore[no-untyped-def]
    class DownBus(MemoryBus):
        async def publish(self, topic, message, *, retain=False):  # type: ignore[no-untyped-def]
            raise ConnectionError("bus down")

    db = Database(backend.settings.database_url)
    async with db.transaction() as uow:
        uow.emit("account.down", event(1))
    with pytest.raises(ConnectionError):
        await OutboxRelay(db, DownBus()).flush()
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 1
    await db.dispose()


async def test_the_relay_publishes_only_what_is_committed(backend) -> None:  # type: ignore[no-untyped-def]
    """A relay pass that shares a group commit (SQLite) with a booking queued before it must not publish
    the booking's messages before their COMMIT: a failed COMMIT would leave a published fill that never
    happened. The relay runs first in its group; what its group-mates emit goes out on the next pass."""
    db = Database(backend.settings.database_url)
    seen: list[int] = []

    class Watching(MemoryBus):
        async def publish(self, topic, message, *, retain=False):  # type: ignore[no-untyped-def]
            async with db.read() as session:  # what others can read now: the committed rows
                seen.append(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)
            await super().publish(topic, message, retain=retain)

    relay = OutboxRelay(db, Watching())

    async def booking() -> None:
        async with db.transaction(precedence=True) as uow:
            uow.emit("account.grouped", event(1))

    # Queued in one turn, the booking first: on SQLite one group, the booking's body before the relay's.
    await asyncio.gather(booking(), relay.flush())
    await relay.flush()
    assert relay.published == 1 and seen == [1]  # published once, and only once it was committed
    await db.dispose()
