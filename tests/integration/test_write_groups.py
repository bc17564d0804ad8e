"""Concurrent units of work: each commits (or not) on its own terms, and nobody is answered before it.

On SQLite they share group commits (`store/write_groups.py`): queued, run one after another in
savepoints of one transaction, one COMMIT. On PostgreSQL they run on their own connections. The same
properties hold on both: N concurrent placements are N orders with gapless event seqs and the cash of
N orders frozen; a unit of work that raises leaves the others' writes; (SQLite) a COMMIT that fails
fails every member of its group and keeps none of their writes.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from brokerql.container import Container
from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import POOL_OVERFLOW, POOL_SIZE
from brokerql.store.tables import AccountEventRow, AccountRow, OrderRow
from brokerql.store.write_groups import NestedWriteTransaction
from tests.integration.test_venue_host import gold_account

PRICE = DEMO_INSTRUMENTS["600000"].limit_down


def buy(account_id: str, quantity: int = 100) -> PlaceOrder:
    return PlaceOrder(
        account_id=account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=quantity, price=PRICE
    )


async def account_state(container: Container, account_id: str) -> tuple[Decimal, Decimal, list[int]]:
    async with container.db.read() as session:
        row = await session.get(AccountRow, account_id)
        query = select(AccountEventRow.seq).where(AccountEventRow.account_id == account_id)
        seqs = list((await session.scalars(query.order_by(AccountEventRow.seq))).all())
    return row.frozen, row.available, seqs


def order_row(account_id: str) -> OrderRow:
    now = utcnow()
    return OrderRow(
        id=new_id("ord"), account_id=account_id, symbol="600000", side="BUY", type="LIMIT", quantity=100,
        status="REJECTED", created_at=now, updated_at=now,
    )  # fmt: skip


async def orders_with_ids(container: Container, ids: list[str]) -> set[str]:
    async with container.db.read() as session:
        return set((await session.scalars(select(OrderRow.id).where(OrderRow.id.in_(ids)))).all())


async def test_concurrent_placements_are_each_accepted_with_gapless_seqs_and_their_cash_frozen(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    client_id, account_id = await gold_account(container)
    place = container.trading.place
    frozen0, available0, seqs0 = await account_state(container, account_id)
    assert (await place.place(client_id, buy(account_id))).order is not None
    frozen1, _available, _seqs = await account_state(container, account_id)
    one = frozen1 - frozen0  # what one such order freezes (price and fees): the domain's figure

    # 20 at once on the one account, and one that cannot be paid for among them.
    commands = [buy(account_id) for _ in range(20)]
    commands.insert(7, buy(account_id, quantity=100_000_000))
    outcomes = await asyncio.gather(*(place.place(client_id, c) for c in commands))

    refused = outcomes.pop(7)
    assert refused.order is None and [e.code for e in refused.errors] == ["INSUFFICIENT_FUNDS"]
    assert all(o.order is not None and not o.errors for o in outcomes)
    assert len({o.order.id for o in outcomes if o.order}) == 20
    frozen, available, seqs = await account_state(container, account_id)
    assert frozen - frozen0 == 21 * one
    assert available0 - available == 21 * one
    assert len(seqs) == len(seqs0) + 21 and seqs == list(range(1, len(seqs) + 1))  # one ACCEPTED each, gapless
    # They shared units of work: placements waiting together are placed in one (services/trading/
    # placement_groups.py; how many groups depends on timing, never one each).
    assert place.groups.groups < place.groups.placed
    await container.db.dispose()


async def test_a_unit_of_work_that_raises_leaves_the_others_writes(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    _client_id, account_id = await gold_account(container)
    rows = [order_row(account_id) for _ in range(8)]

    async def write(k: int) -> None:
        async with container.db.transaction() as uow:
            uow.session.add(rows[k])
            await uow.session.flush()
            if k == 3:
                raise RuntimeError("refused after writing")

    results = await asyncio.gather(*(write(k) for k in range(8)), return_exceptions=True)

    assert [isinstance(r, RuntimeError) for r in results] == [k == 3 for k in range(8)]
    kept = await orders_with_ids(container, [r.id for r in rows])
    assert kept == {r.id for k, r in enumerate(rows) if k != 3}
    groups = container.db.write_groups
    if groups is not None:  # SQLite: they shared commits (how many depends on timing, never one each)
        assert groups.groups < groups.members
    await container.db.dispose()


async def test_a_unit_of_work_alone_in_its_group_runs_without_a_savepoint_and_rolls_back_whole(backend) -> None:  # type: ignore[no-untyped-def]
    if backend.name != "sqlite-memory":
        pytest.skip("group commit is SQLite's; PostgreSQL commits each unit of work on its own connection")
    container = Container.build(backend.settings, with_exchange=False)
    _client_id, account_id = await gold_account(container)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0])

    def began(_conn) -> None:  # type: ignore[no-untyped-def]
        statements.append("BEGIN")  # sent on the DBAPI cursor, so not a cursor execute of SQLAlchemy's

    event.listen(container.db.writer.sync_engine, "before_cursor_execute", seen)
    event.listen(container.db.writer.sync_engine, "begin", began)
    refused, kept = order_row(account_id), order_row(account_id)
    with pytest.raises(RuntimeError):
        async with container.db.transaction() as uow:
            uow.session.add(refused)
            await uow.session.flush()
            raise RuntimeError("refused after writing")
    async with container.db.transaction() as uow:
        uow.session.add(kept)
    event.remove(container.db.writer.sync_engine, "before_cursor_execute", seen)
    event.remove(container.db.writer.sync_engine, "begin", began)

    assert await orders_with_ids(container, [refused.id, kept.id]) == {kept.id}
    assert "SAVEPOINT" not in statements and statements.count("BEGIN") == 2
    await container.db.dispose()


async def test_a_failed_group_commit_answers_every_member_with_the_error_and_keeps_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    if backend.name != "sqlite-memory":
        pytest.skip("group commit is SQLite's; PostgreSQL commits each unit of work on its own connection")
    container = Container.build(backend.settings, with_exchange=False)
    _client_id, account_id = await gold_account(container)
    rows = [order_row(account_id) for _ in range(6)]
    rows[4].account_id = "acc_does_not_exist"  # a foreign key violation that only COMMIT checks:

    async def write(k: int) -> str:
        async with container.db.transaction() as uow:
            if k == 4:
                await uow.session.execute(text("PRAGMA defer_foreign_keys = ON"))
            uow.session.add(rows[k])
        return "acknowledged"

    results = await asyncio.gather(*(write(k) for k in range(6)), return_exceptions=True)

    assert all(isinstance(r, IntegrityError) for r in results), results  # nobody was answered "done"
    assert await orders_with_ids(container, [r.id for r in rows]) == set()
    # The writer goes on: the next unit of work commits.
    async with container.db.transaction() as uow:
        uow.session.add(order_row(account_id))
    async with container.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OrderRow)) >= 1
    await container.db.dispose()


async def test_a_unit_of_work_opened_inside_another_is_refused_at_once(backend) -> None:  # type: ignore[no-untyped-def]
    if backend.name != "sqlite-memory":
        pytest.skip("on PostgreSQL a nested unit of work is another connection's transaction")
    container = Container.build(backend.settings, with_exchange=False)
    with pytest.raises(NestedWriteTransaction):
        async with container.db.transaction(), container.db.transaction():
            pass
    await container.db.dispose()


async def test_a_unit_of_work_with_precedence_goes_before_the_new_work_queued_ahead_of_it(backend) -> None:  # type: ignore[no-untyped-def]
    """What finishes acknowledged work (a booking) must not wait behind new work (placements): on SQLite
    its group forms before theirs, on PostgreSQL it has connections of its own while theirs are all taken."""
    container = Container.build(backend.settings, with_exchange=False)
    db = container.db
    _client_id, account_id = await gold_account(container)
    writers = 1 if db.is_sqlite else POOL_SIZE + POOL_OVERFLOW  # every connection for ordinary writes
    inside, release, committed = asyncio.Semaphore(0), asyncio.Event(), []

    async def holding() -> None:  # holds the one writer (SQLite) or one of the pool's connections
        async with db.transaction() as uow:
            uow.session.add(order_row(account_id))
            await uow.session.flush()
            inside.release()
            await release.wait()

    async def write(name: str, *, precedence: bool) -> None:
        async with db.transaction(precedence=precedence) as uow:
            uow.session.add(order_row(account_id))
        committed.append(name)

    holders = [asyncio.create_task(holding()) for _ in range(writers)]
    for _ in range(writers):
        await inside.acquire()
    queued = [asyncio.create_task(write(f"new {k}", precedence=False)) for k in range(5)]
    for _ in range(5):
        await asyncio.sleep(0)  # each queued for the writer, or for a connection, before the next one
    first = asyncio.create_task(write("booking", precedence=True))
    if not db.is_sqlite:
        await first  # commits while every ordinary connection is still held
    release.set()
    await asyncio.gather(*holders, *queued, first)

    assert committed[0] == "booking" and sorted(committed[1:]) == [f"new {k}" for k in range(5)]
    await db.dispose()


async def test_a_unit_of_work_that_leads_runs_first_in_its_group(backend) -> None:  # type: ignore[no-untyped-def]
    """The outbox relay publishes before its COMMIT, so it must see no group-mate's uncommitted rows: one
    that `leads` goes before the work with precedence queued ahead of it, first in their shared group."""
    container = Container.build(backend.settings, with_exchange=False)
    db = container.db
    if not db.is_sqlite:
        await db.dispose()
        pytest.skip("PostgreSQL has no group commit: each transaction is its own")
    ran: list[str] = []

    async def write(name: str, **kind: bool) -> None:
        async with db.transaction(**kind) as uow:
            ran.append(name)
            await uow.session.execute(text("SELECT 1"))

    before = db.write_groups.groups  # type: ignore[union-attr]
    await asyncio.gather(  # queued in one turn: one group
        write("journal", precedence=True),
        write("booking", precedence=True),
        write("relay", precedence=True, leads=True),
    )
    assert ran == ["relay", "journal", "booking"] and db.write_groups.groups == before + 1  # type: ignore[union-attr]
    await db.dispose()
