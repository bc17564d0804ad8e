"""Read models: what the API shows. Reads never lock and never change anything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, FillRow, OrderRow, PositionRow


class TradingQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def client(self, client_id: str) -> ClientRow | None:
        async with self.db.read() as session:
            return await session.get(ClientRow, client_id)

    async def accounts_of(self, client_id: str) -> Sequence[AccountRow]:
        async with self.db.read() as session:
            query = select(AccountRow).where(AccountRow.client_id == client_id).order_by(AccountRow.id)
            return (await session.scalars(query)).all()

    async def account_of(self, client_id: str, account_id: str) -> AccountRow | None:
        """The account if it belongs to the client: row-level access lives here, not in resolvers."""
        async with self.db.read() as session:
            row = await session.get(AccountRow, account_id)
        return row if row is not None and row.client_id == client_id else None

    async def positions(self, account_id: str) -> Sequence[PositionRow]:
        async with self.db.read() as session:
            query = select(PositionRow).where(PositionRow.account_id == account_id).order_by(PositionRow.symbol)
            return (await session.scalars(query)).all()

    async def order(self, account_id: str, order_id: str) -> OrderRow | None:
        async with self.db.read() as session:
            row = await session.get(OrderRow, order_id)
        return row if row is not None and row.account_id == account_id else None

    async def orders(
        self, account_id: str, *, before_id: str | None, limit: int, statuses: list[str] | None = None
    ) -> Sequence[OrderRow]:
        """Newest first; ids are time-ordered, so keyset pagination on the id is stable."""
        query = select(OrderRow).where(OrderRow.account_id == account_id)
        if before_id:
            query = query.where(OrderRow.id < before_id)
        if statuses:
            query = query.where(OrderRow.status.in_(statuses))
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(OrderRow.id.desc()).limit(limit))).all()

    async def fills(self, account_id: str, *, before_id: str | None, limit: int) -> Sequence[FillRow]:
        query = select(FillRow).where(FillRow.account_id == account_id)
        if before_id:
            query = query.where(FillRow.id < before_id)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(FillRow.id.desc()).limit(limit))).all()

    async def events_after(self, account_id: str, after_seq: int, limit: int = 500) -> list[dict[str, Any]]:
        """Stored events with seq > after_seq, oldest first: the replay half of a resumed stream."""
        query = (
            select(AccountEventRow.payload)
            .where(AccountEventRow.account_id == account_id, AccountEventRow.seq > after_seq)
            .order_by(AccountEventRow.seq)
            .limit(limit)
        )
        async with self.db.read() as session:
            return list((await session.scalars(query)).all())

    async def last_seq(self, account_id: str) -> int:
        async with self.db.read() as session:
            return await session.scalar(select(AccountRow.last_seq).where(AccountRow.id == account_id)) or 0
