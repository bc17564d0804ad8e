"""Read models: what the API shows. Reads never lock and never change anything.

Lists are keyset pages (newest first for orders and fills, by symbol for positions): the caller asks
for `limit` rows after a key and gets at most that many. A snapshot (`account_snapshot`) reads the
account, its positions, working orders, today's fills and lastSeq in one consistent read (REPEATABLE
READ on PostgreSQL, one WAL read transaction on SQLite), so lastSeq matches exactly what it shows.

An account not yet touched on a new trading day still carries yesterday's T+1 parts in its rows; the
read model shows them as the settlement will make them (today's buys sellable), without writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.bus import codec
from brokerql.domain.market.boards import Board
from brokerql.domain.market.sessions import WEEKENDS_ONLY, session_close, trading_day
from brokerql.domain.trading.messages import AccountEvent
from brokerql.domain.trading.orders import OrderStatus
from brokerql.store.columns import utcnow
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, FillRow, OrderRow, PositionRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
SNAPSHOT_LIMIT = 1000
WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Orders matching every criterion given (statuses: any of them; dates: created in [since, until))."""

    statuses: tuple[str, ...] = ()
    symbol: str | None = None
    side: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class FillFilter:
    """Fills matching every criterion given (dates: booked in [since, until))."""

    symbol: str | None = None
    side: str | None = None
    order_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AccountSnapshot:
    """Everything the D1 "complex mode" view and a manual refresh show, as of `last_seq`."""

    account: AccountRow
    positions: list[PositionRow]
    working_orders: list[OrderRow]
    todays_fills: list[FillRow]
    last_seq: int
    as_of: datetime
    complete: bool = True


def start_of_trading_day(now: datetime) -> datetime:
    """The first moment that belongs to the trading day of `now`: the close of the trading day before it
    (what happens after a close, overnight or on a weekend counts for the next trading day)."""
    day = trading_day(now) - timedelta(days=1)
    while not WEEKENDS_ONLY.is_trading_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, session_close(Board.SSE_MAIN), tzinfo=SHANGHAI)


def settled_view(account: AccountRow, positions: Sequence[PositionRow], now: datetime) -> list[PositionRow]:
    """Positions as the first change of a new trading day will settle them (T+1 buys sellable)."""
    if not account.trading_day or account.trading_day == trading_day(now).isoformat():
        return list(positions)
    return [
        PositionRow(**{**p.model_dump(), "sellable_quantity": p.sellable_quantity + p.bought_today, "bought_today": 0})
        for p in positions
        if p.quantity or p.frozen_quantity
    ]


def settled_account(account: AccountRow, now: datetime) -> AccountRow:
    """The account row with today's proceeds withdrawable when a new trading day has begun."""
    if not account.trading_day or account.trading_day == trading_day(now).isoformat():
        return account
    return replace_row(account, unsettled=Decimal(0))


def replace_row(row: AccountRow, **changes: Any) -> AccountRow:
    return AccountRow(**{**row.model_dump(), **changes})


class TradingQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def client(self, client_id: str) -> ClientRow | None:
        async with self.db.read() as session:
            return await session.get(ClientRow, client_id)

    async def accounts_of(self, client_id: str) -> Sequence[AccountRow]:
        async with self.db.read() as session:
            query = select(AccountRow).where(AccountRow.client_id == client_id).order_by(AccountRow.id)
            return [settled_account(r, utcnow()) for r in (await session.scalars(query)).all()]

    async def account_of(self, client_id: str, account_id: str) -> AccountRow | None:
        """The account if it belongs to the client: row-level access lives here, not in resolvers."""
        async with self.db.read() as session:
            row = await session.get(AccountRow, account_id)
        return settled_account(row, utcnow()) if row is not None and row.client_id == client_id else None

    async def positions(
        self, account_id: str, *, after_symbol: str | None = None, limit: int | None = None
    ) -> Sequence[PositionRow]:
        """Holdings by symbol (all of them without `limit`)."""
        query = select(PositionRow).where(PositionRow.account_id == account_id)
        if after_symbol:
            query = query.where(PositionRow.symbol > after_symbol)
        query = query.order_by(PositionRow.symbol)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.read() as session:
            account = await session.get(AccountRow, account_id)
            rows = (await session.scalars(query)).all()
        return settled_view(account, rows, utcnow()) if account is not None else []

    async def order(self, account_id: str, order_id: str) -> OrderRow | None:
        async with self.db.read() as session:
            row = await session.get(OrderRow, order_id)
        return row if row is not None and row.account_id == account_id else None

    async def orders(
        self,
        account_id: str,
        *,
        before_id: str | None,
        limit: int,
        statuses: list[str] | None = None,
        where: OrderFilter | None = None,
    ) -> Sequence[OrderRow]:
        """Newest first; ids are time-ordered, so keyset pagination on the id is stable."""
        where = where or OrderFilter(statuses=tuple(statuses or ()))
        query = select(OrderRow).where(OrderRow.account_id == account_id)
        if before_id:
            query = query.where(OrderRow.id < before_id)
        if where.statuses:
            query = query.where(OrderRow.status.in_(where.statuses))
        if where.symbol:
            query = query.where(OrderRow.symbol == where.symbol)
        if where.side:
            query = query.where(OrderRow.side == where.side)
        if where.since:
            query = query.where(OrderRow.created_at >= where.since)
        if where.until:
            query = query.where(OrderRow.created_at < where.until)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(OrderRow.id.desc()).limit(limit))).all()

    async def fills(
        self, account_id: str, *, before_id: str | None, limit: int, where: FillFilter | None = None
    ) -> Sequence[FillRow]:
        """Newest first, keyset on the time-ordered id."""
        where = where or FillFilter()
        query = select(FillRow).where(FillRow.account_id == account_id)
        if before_id:
            query = query.where(FillRow.id < before_id)
        if where.symbol:
            query = query.where(FillRow.symbol == where.symbol)
        if where.side:
            query = query.where(FillRow.side == where.side)
        if where.order_id:
            query = query.where(FillRow.order_id == where.order_id)
        if where.since:
            query = query.where(FillRow.created_at >= where.since)
        if where.until:
            query = query.where(FillRow.created_at < where.until)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(FillRow.id.desc()).limit(limit))).all()

    async def account_snapshot(self, client_id: str, account_id: str) -> AccountSnapshot | None:
        """The account's whole visible state and the seq it corresponds to, read consistently."""
        now = utcnow()
        async with self.db.read() as session:
            await self._repeatable_read(session)
            account = await session.get(AccountRow, account_id)
            if account is None or account.client_id != client_id:
                return None
            positions = (
                await session.scalars(
                    select(PositionRow).where(PositionRow.account_id == account_id).order_by(PositionRow.symbol)
                )
            ).all()
            working = (
                await session.scalars(
                    select(OrderRow)
                    .where(OrderRow.account_id == account_id, OrderRow.status.in_(WORKING))
                    .order_by(OrderRow.id.desc())
                    .limit(SNAPSHOT_LIMIT + 1)
                )
            ).all()
            fills = (
                await session.scalars(
                    select(FillRow)
                    .where(FillRow.account_id == account_id, FillRow.created_at >= start_of_trading_day(now))
                    .order_by(FillRow.id.desc())
                    .limit(SNAPSHOT_LIMIT + 1)
                )
            ).all()
        return AccountSnapshot(
            account=settled_account(account, now),
            positions=settled_view(account, positions, now),
            working_orders=list(working[:SNAPSHOT_LIMIT]),
            todays_fills=list(fills[:SNAPSHOT_LIMIT]),
            last_seq=account.last_seq,
            as_of=now,
            complete=len(working) <= SNAPSHOT_LIMIT and len(fills) <= SNAPSHOT_LIMIT,
        )

    async def _repeatable_read(self, session: AsyncSession) -> None:
        """One snapshot for every statement of this read (PostgreSQL's default gives one per statement)."""
        if not self.db.is_sqlite:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    async def events_after(self, account_id: str, after_seq: int, limit: int = 500) -> list[AccountEvent]:
        """Stored events with seq > after_seq, oldest first: the replay half of a resumed stream.

        A stored event this process cannot read is parked by the codec and left out (logged)."""
        query = (
            select(AccountEventRow.payload)
            .where(AccountEventRow.account_id == account_id, AccountEventRow.seq > after_seq)
            .order_by(AccountEventRow.seq)
            .limit(limit)
        )
        async with self.db.read() as session:
            records = list((await session.scalars(query)).all())
        return [e for e in map(codec.from_record, records) if isinstance(e, AccountEvent)]

    async def last_seq(self, account_id: str) -> int:
        async with self.db.read() as session:
            return await session.scalar(select(AccountRow.last_seq).where(AccountRow.id == account_id)) or 0


__all__ = ["AccountSnapshot", "FillFilter", "OrderFilter", "TradingQueries"]
