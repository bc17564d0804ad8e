"""DAY orders expire at the end of their trading day, through the exchange and the trading service.

The exchange runs with a settable clock on the real service and database (both backends): a resting
DAY order is taken off the book when the desk rolls its instrument to the next trading day, and an
order the database still has working from a past day is expired when an exchange starts (reconcile).
Either way the order ends EXPIRED, its frozen cash or shares are released, and the account's next
event is EXPIRED.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from brokerql.bus.memory import MemoryBus
from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.exchange.engine import Exchange
from brokerql.exchange.host import VenueHost
from brokerql.services.trading import ExecutionBooking, TradingServices
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, OrderRow, PositionRow
from tests.api.conftest import wait_for
from tests.api.trading_helpers import trading_services
from tests.fakes import FakeClock
from tests.reports import canceled, expired
from tests.venues import venue_host

CASH = Decimal("100000")


class Clock(FakeClock):
    def next_trading_day(self) -> None:
        """Move to the same time of day on a later trading day (weekends skipped by trading_day)."""
        today = trading_day(self.current)
        while trading_day(self.current) == today:
            self.current += timedelta(hours=6)


async def open_account(db: Database) -> tuple[str, str]:
    client_id, account_id = new_id("cli"), new_id("acc")
    async with db.transaction() as uow:
        uow.session.add(ClientRow(id=client_id, username=client_id, name="e", password_hash="x", tier_code="GOLD"))
        await uow.session.flush()
        uow.session.add(AccountRow(id=account_id, client_id=client_id, type="CASH", balance=CASH, available=CASH))
        await uow.session.flush()
        uow.session.add(PositionRow(account_id=account_id, symbol="600000", quantity=500, sellable_quantity=500))
    return client_id, account_id


async def place_resting(services: TradingServices, client_id: str, account_id: str) -> tuple[str, str]:
    """A buy at the limit-down price and a sell at the limit-up price: both rest all day."""
    instrument = DEMO_INSTRUMENTS["600000"]
    ids = []
    for side, price in ((Side.BUY, instrument.limit_down), (Side.SELL, instrument.limit_up)):
        command = PlaceOrder(
            account_id=account_id, symbol="600000", side=side, type=OrderType.LIMIT, quantity=200, price=price
        )
        outcome = await services.place.place(client_id, command)
        assert outcome.order is not None, outcome.errors
        ids.append(outcome.order.id)
    return ids[0], ids[1]


async def assert_expired(db: Database, account_id: str, order_ids: tuple[str, str]) -> None:
    async with db.read() as session:
        orders = (await session.scalars(select(OrderRow).where(OrderRow.id.in_(order_ids)))).all()
        account = await session.get(AccountRow, account_id)
        position = await session.get(PositionRow, (account_id, "600000"))
        query = select(AccountEventRow).where(AccountEventRow.account_id == account_id).order_by(AccountEventRow.seq)
        events = (await session.scalars(query)).all()
    assert {o.status for o in orders} == {"EXPIRED"}
    assert all(o.leaves_qty == 0 and o.frozen_cash == 0 and o.frozen_quantity == 0 for o in orders)
    assert account.frozen == 0 and account.available == CASH == account.balance
    assert position.frozen_quantity == 0 and position.sellable_quantity == 500
    assert [e.seq for e in events] == list(range(1, account.last_seq + 1))  # gapless
    expired = [e for e in events if e.kind == "EXPIRED"]
    assert sorted(e.order_id for e in expired) == sorted(order_ids)
    assert all(e.payload["data"]["order"]["status"] == "EXPIRED" for e in expired)
    assert [e.kind for e in events][-2:] == ["EXPIRED", "EXPIRED"]


async def all_expired(db: Database, order_ids: tuple[str, str]) -> bool:
    async with db.read() as session:
        statuses = (await session.scalars(select(OrderRow.status).where(OrderRow.id.in_(order_ids)))).all()
    return set(statuses) == {"EXPIRED"}


def exchange_for(booking: ExecutionBooking, clock: Clock) -> VenueHost:
    bus = MemoryBus()
    return venue_host(
        booking.db,
        bus,
        booking,
        lambda: Exchange(DEMO_INSTRUMENTS, bus, seed=3, tick_seconds=0.01, warmup_steps=5, clock=clock),
    )


async def test_resting_day_orders_expire_when_the_desk_rolls_to_the_next_trading_day(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    client_id, account_id = await open_account(db)
    order_ids = await place_resting(services, client_id, account_id)
    clock = Clock(utcnow())
    host = exchange_for(services.booking, clock)
    await host.start()
    exchange = host.venue
    try:
        await wait_for(lambda: asyncio.sleep(0, all(o in exchange.client_orders for o in order_ids)))
        async with db.read() as session:
            assert (await session.get(AccountRow, account_id)).frozen > 0
        assert not await all_expired(db, order_ids)
        clock.next_trading_day()
        await wait_for(lambda: all_expired(db, order_ids))
        assert not any(o in exchange.client_orders for o in order_ids)
        book = exchange.books["600000"]
        assert all(book.remaining(o) in (None, 0) for o in order_ids)
    finally:
        await host.stop()
    await assert_expired(db, account_id, order_ids)
    await db.dispose()


async def test_orders_left_working_from_a_past_day_expire_at_reconcile(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    client_id, account_id = await open_account(db)
    order_ids = await place_resting(services, client_id, account_id)  # no exchange ran that day
    clock = Clock(utcnow())
    clock.next_trading_day()
    host = exchange_for(services.booking, clock)
    await host.start()
    exchange = host.venue
    try:
        await wait_for(lambda: all_expired(db, order_ids))
        assert not any(o in exchange.client_orders for o in order_ids)
        await host.reconcile()  # nothing working is left, so nothing comes back on the book
        assert not any(o in exchange.client_orders for o in order_ids)
    finally:
        await host.stop()
    await assert_expired(db, account_id, order_ids)
    await db.dispose()


async def test_an_expiry_repeated_after_a_cancel_changes_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    client_id, account_id = await open_account(db)
    buy, sell = await place_resting(services, client_id, account_id)
    await services.booking.book([expired(buy, 200)])
    await services.booking.book([expired(buy, 200)])  # a retried booking: the order is no longer working
    await services.booking.book([canceled(sell, 200, "canceled by client")])
    await services.booking.book([expired(sell, 200)])
    async with db.read() as session:
        kinds = (
            await session.scalars(
                select(AccountEventRow.kind)
                .where(AccountEventRow.account_id == account_id)
                .order_by(AccountEventRow.seq)
            )
        ).all()
        account = await session.get(AccountRow, account_id)
    assert kinds == ["ACCEPTED", "ACCEPTED", "EXPIRED", "CANCELED"]
    assert account.frozen == 0 and account.available == CASH
    await db.dispose()
