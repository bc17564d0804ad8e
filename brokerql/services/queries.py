"""Read models: what the API shows. Reads never lock and never change anything.

Lists are keyset pages (newest first for orders and fills, by symbol for positions): the caller asks
for `limit` rows after a key and gets at most that many. A snapshot (`account_snapshot`) reads the
account, its positions, working orders, today's fills and lastSeq in one consistent read (REPEATABLE
READ on PostgreSQL, one WAL read transaction on SQLite), so lastSeq matches exactly what it shows.

Figures are the domain's: an account is read into the `Account` aggregate and shown through its
`Funds` and `Position` values, so withdrawable cash, average cost, market value and P&L have one
definition. An account not yet touched on a new trading day still carries yesterday's T+1 parts in
its rows; the read model applies the domain's settlement (`as_of_day`) in memory, without writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.bus import codec
from brokerql.domain.clock import Clock
from brokerql.domain.market.boards import Board
from brokerql.domain.market.sessions import WEEKENDS_ONLY, session_close, trading_day
from brokerql.domain.trading.account import Account, as_of_day
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.messages import AccountEvent, FillView, OrderView
from brokerql.domain.trading.orders import OrderStatus
from brokerql.store.accounts import account_of
from brokerql.store.database import Database
from brokerql.store.orders import fill_view_of_row, order_from_row
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


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account as the API shows it: who owns it, its last seq, and the domain's funds and realised P&L
    as of today (settled in memory if the first change of the day has not happened yet)."""

    id: str
    client_id: str
    type: str
    currency: str
    last_seq: int
    funds: Funds
    realised_pnl: Decimal


@dataclass
class AccountSnapshot:
    """Everything the D1 "complex mode" view and a manual refresh show, as of `last_seq`."""

    account: AccountState
    positions: list[Position]
    working_orders: list[OrderView]
    todays_fills: list[FillView]
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


def today_of(row: AccountRow, positions: Sequence[PositionRow], now: datetime) -> Account:
    """The stored account as the domain sees it on the trading day of `now`."""
    return as_of_day(account_of(row, positions), row.trading_day, trading_day(now).isoformat())


def state_of(row: AccountRow, account: Account) -> AccountState:
    return AccountState(
        id=row.id,
        client_id=row.client_id,
        type=row.type,
        currency=row.currency,
        last_seq=row.last_seq,
        funds=account.funds,
        realised_pnl=account.realised_pnl,
    )


def by_symbol(account: Account) -> list[Position]:
    return [account.positions[s] for s in sorted(account.positions)]


class TradingQueries:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def client(self, client_id: str) -> ClientRow | None:
        async with self.db.read() as session:
            return await session.get(ClientRow, client_id)

    async def accounts_of(self, client_id: str) -> list[AccountState]:
        async with self.db.read() as session:
            query = select(AccountRow).where(AccountRow.client_id == client_id).order_by(AccountRow.id)
            rows = (await session.scalars(query)).all()
        now = self.clock.now()
        return [state_of(r, today_of(r, (), now)) for r in rows]

    async def account_of(self, client_id: str, account_id: str) -> AccountState | None:
        """The account if it belongs to the client: row-level access lives here, not in resolvers."""
        async with self.db.read() as session:
            row = await session.get(AccountRow, account_id)
        if row is None or row.client_id != client_id:
            return None
        return state_of(row, today_of(row, (), self.clock.now()))

    async def positions(
        self, account_id: str, *, after_symbol: str | None = None, limit: int | None = None
    ) -> list[Position]:
        """Holdings by symbol (all of them without `limit`), as of today."""
        query = select(PositionRow).where(PositionRow.account_id == account_id)
        if after_symbol:
            query = query.where(PositionRow.symbol > after_symbol)
        query = query.order_by(PositionRow.symbol)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.read() as session:
            account = await session.get(AccountRow, account_id)
            rows = (await session.scalars(query)).all()
        return by_symbol(today_of(account, rows, self.clock.now())) if account is not None else []

    async def order(self, account_id: str, order_id: str) -> OrderView | None:
        async with self.db.read() as session:
            row = await session.get(OrderRow, order_id)
        return OrderView.of(order_from_row(row)) if row is not None and row.account_id == account_id else None

    async def orders(
        self,
        account_id: str,
        *,
        before_id: str | None,
        limit: int,
        statuses: list[str] | None = None,
        where: OrderFilter | None = None,
    ) -> list[OrderView]:
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
            rows = (await session.scalars(query.order_by(OrderRow.id.desc()).limit(limit))).all()
        return [OrderView.of(order_from_row(r)) for r in rows]

    async def fills(
        self, account_id: str, *, before_id: str | None, limit: int, where: FillFilter | None = None
    ) -> list[FillView]:
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
            rows = (await session.scalars(query.order_by(FillRow.id.desc()).limit(limit))).all()
        return [fill_view_of_row(r) for r in rows]

    async def account_snapshot(self, client_id: str, account_id: str) -> AccountSnapshot | None:
        """The account's whole visible state and the seq it corresponds to, read consistently."""
        now = self.clock.now()
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
        today = today_of(account, positions, now)
        return AccountSnapshot(
            account=state_of(account, today),
            positions=by_symbol(today),
            working_orders=[OrderView.of(order_from_row(r)) for r in working[:SNAPSHOT_LIMIT]],
            todays_fills=[fill_view_of_row(r) for r in fills[:SNAPSHOT_LIMIT]],
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


__all__ = ["AccountSnapshot", "AccountState", "FillFilter", "OrderFilter", "TradingQueries"]
