"""Read models of the product lines (futures book; credit and ETF views): reads only, never locks."""

from __future__ import annotations

from sqlalchemy import select

from brokerql.domain.trading.futures import FuturesPosition
from brokerql.store.accounts import futures_position_of
from brokerql.store.database import Database
from brokerql.store.tables_trading import FuturesPositionRow


class ProductQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def futures_positions(self, account_id: str) -> list[FuturesPosition]:
        """The account's futures positions, by contract."""
        query = select(FuturesPositionRow).where(FuturesPositionRow.account_id == account_id)
        async with self.db.read() as session:
            rows = (await session.scalars(query.order_by(FuturesPositionRow.symbol))).all()
        return [futures_position_of(r) for r in rows]
