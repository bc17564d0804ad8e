"""The account row and positions written with Core statements instead of the ORM's flush
(`store/accounts.py`, `UnitOfWork.write_back`): what a unit of work changes is stored when it commits,
nothing when it rolls back, and a second load in the same unit of work sees the first one's changes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from brokerql.domain.trading.ledger import Position
from brokerql.domain.trading.messages import AccountEventKind
from brokerql.store.account_events import append_event
from brokerql.store.accounts import load_account, save_account
from brokerql.store.columns import utcnow
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, PositionRow


class _Undo(Exception):
    pass


async def _account(db: Database, account_id: str | None = None) -> AccountRow:
    query = select(AccountRow).where(AccountRow.type == "CASH").order_by(AccountRow.id).limit(1)
    if account_id is not None:
        query = select(AccountRow).where(AccountRow.id == account_id)
    async with db.read() as session:
        row = await session.scalar(query)
    assert row is not None
    return row


async def _positions(db: Database, account_id: str) -> dict[str, tuple[int, Decimal]]:
    async with db.read() as session:
        rows = (await session.scalars(select(PositionRow).where(PositionRow.account_id == account_id))).all()
    return {p.symbol: (p.quantity, p.cost) for p in rows}


async def test_changes_are_written_when_the_unit_of_work_commits(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        before = await _account(db)
        held = await _positions(db, before.id)
        async with db.transaction() as uow:
            loaded = await load_account(uow, before.id)
            assert loaded is not None
            account = loaded.account
            account.funds = replace(account.funds, available=account.funds.available - 100, frozen=Decimal(100))
            account.positions["TESTNEW"] = Position("TESTNEW", 200, 200, 0, Decimal("2000.50"), 0)
            gone = next(iter(account.positions.keys() - {"TESTNEW"}), None)
            if gone is not None:
                del account.positions[gone]
            await save_account(uow, loaded, utcnow())
            day = "2026-12-01"
            await append_event(uow, loaded.row, AccountEventKind.DAY_SETTLED, now=utcnow(), trading_day=day)
        after = await _account(db, before.id)
        assert after.available == before.available - 100 and after.frozen == Decimal(100)
        assert after.last_seq == before.last_seq + 1
        positions = await _positions(db, before.id)
        assert positions["TESTNEW"] == (200, Decimal("2000.50"))
        assert set(positions) == set(held) - {gone} | {"TESTNEW"}
        async with db.read() as session:
            seqs = (
                await session.scalars(select(AccountEventRow.seq).where(AccountEventRow.account_id == before.id))
            ).all()
        assert max(seqs) == after.last_seq
    finally:
        await db.dispose()


async def test_nothing_is_written_when_it_rolls_back(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        before = await _account(db)
        held = await _positions(db, before.id)
        with pytest.raises(_Undo):
            async with db.transaction() as uow:
                loaded = await load_account(uow, before.id)
                assert loaded is not None
                loaded.account.funds = replace(loaded.account.funds, available=Decimal(0))
                loaded.account.positions["TESTNEW"] = Position("TESTNEW", 100, 100, 0, Decimal(1), 0)
                await save_account(uow, loaded, utcnow())  # positions are written at once: rolled back below
                raise _Undo
        after = await _account(db, before.id)
        assert (after.available, after.last_seq) == (before.available, before.last_seq)
        assert await _positions(db, before.id) == held
    finally:
        await db.dispose()


async def test_a_second_load_sees_the_first_ones_changes(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        before = await _account(db)
        async with db.transaction() as uow:
            first = await load_account(uow, before.id)
            assert first is not None
            first.account.funds = replace(first.account.funds, available=first.account.funds.available - 7)
            await save_account(uow, first, utcnow())
            second = await load_account(uow, before.id)
            assert second is not None
            assert second.row is first.row  # one row, written back once
            assert second.account.funds.available == before.available - 7
            second.account.funds = replace(second.account.funds, available=second.account.funds.available - 3)
            await save_account(uow, second, utcnow())
        assert (await _account(db, before.id)).available == before.available - 10
    finally:
        await db.dispose()


async def test_a_second_orm_copy_changed_in_the_same_unit_of_work_is_refused(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        before = await _account(db)
        with pytest.raises(RuntimeError, match="second copy"):
            async with db.transaction() as uow:
                loaded = await load_account(uow, before.id)
                assert loaded is not None
                copy = await uow.session.get(AccountRow, before.id)  # the ORM's own copy of the same row
                assert copy is not None and copy is not loaded.row
                copy.available = Decimal(1)
        assert (await _account(db, before.id)).available == before.available  # nothing was written
    finally:
        await db.dispose()
