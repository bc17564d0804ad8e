"""Several orders' fills booked in one unit of work (`ExecutionBooking.book_together`, what the exchange's
bookings do with the trades waiting) leave exactly what booking them one by one leaves: funds,
positions, orders, fills and the gapless event log; a repeat in the group books nothing twice (both
backends)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import event, select

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.services.trading import TradingServices
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, FillRow, OrderRow, PositionRow
from tests.api.test_trading_expiry import open_account
from tests.api.trading_helpers import trading_services
from tests.reports import trade

PRICE = {"600000": Decimal("13.50"), "600036": Decimal("35.00")}


async def _orders(services: TradingServices, client_id: str, account_id: str) -> list[str]:
    """A buy of 600000, a buy of 600036 (no position yet) and a sell of 600000, all resting."""
    ids = []
    for symbol, side, quantity in (("600000", Side.BUY, 300), ("600036", Side.BUY, 200), ("600000", Side.SELL, 100)):
        command = PlaceOrder(
            account_id=account_id,
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT,
            quantity=quantity,
            price=PRICE[symbol],
        )
        placed = await services.place.place(client_id, command)
        assert placed.order is not None, placed.errors
        ids.append(placed.order.id)
    return ids


def _fills(prefix: str, ids: list[str]) -> list[list[Any]]:
    """The venue's batches: two fills of the first order, one of each other, a second batch of the first."""
    first, second, third = ids
    return [
        [trade(first, f"{prefix}1", PRICE["600000"], 100), trade(first, f"{prefix}2", PRICE["600000"], 100)],
        [trade(second, f"{prefix}3", PRICE["600036"], 200)],
        [trade(third, f"{prefix}4", PRICE["600000"], 100)],
        [trade(first, f"{prefix}5", PRICE["600000"], 100)],
    ]


async def _state(db: Database, account_id: str) -> dict[str, Any]:
    async with db.read() as session:
        account = await session.get(AccountRow, account_id)
        positions = (await session.scalars(select(PositionRow).where(PositionRow.account_id == account_id))).all()
        orders = (await session.scalars(select(OrderRow).where(OrderRow.account_id == account_id))).all()
        fills = (await session.scalars(select(FillRow).where(FillRow.account_id == account_id))).all()
        query = select(AccountEventRow).where(AccountEventRow.account_id == account_id).order_by(AccountEventRow.seq)
        events = (await session.scalars(query)).all()
    assert account is not None
    return {
        "funds": (account.balance, account.available, account.frozen, account.unsettled, account.last_seq),
        "positions": sorted((p.symbol, p.quantity, p.sellable_quantity, p.frozen_quantity, p.cost) for p in positions),
        "orders": sorted((o.symbol, o.side, o.status, o.cum_qty, o.leaves_qty, o.frozen_cash) for o in orders),
        "fills": sorted((f.symbol, f.side, f.quantity, f.commission, f.stamp_duty) for f in fills),
        "events": [(e.seq, e.kind) for e in events],
    }


async def test_a_group_books_what_one_by_one_books(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    try:
        alone_client, alone_account = await open_account(db)
        group_client, group_account = await open_account(db)
        for batch in _fills("a", await _orders(services, alone_client, alone_account)):
            await services.booking.book(batch)
        group = _fills("g", await _orders(services, group_client, group_account))
        begins: list[object] = []
        statements: list[str] = []

        def began(connection: object) -> None:
            begins.append(connection)

        def executed(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        engine = db.precedence_writer.sync_engine
        event.listen(engine, "begin", began)
        event.listen(engine, "before_cursor_execute", executed)
        try:
            await services.booking.book_together(group)
        finally:
            event.remove(engine, "begin", began)
            event.remove(engine, "before_cursor_execute", executed)
        assert len(begins) == 1  # one unit of work for the whole group
        # One statement per kind of row, not per fill: 3 reads (accounts, positions, orders), the fills,
        # the orders, a new and a changed position, the account, the events and the outbox (+ BEGIN).
        assert len([s for s in statements if not s.startswith("BEGIN")]) == 10, statements
        alone, together = await _state(db, alone_account), await _state(db, group_account)
        assert together == alone
        assert together["events"] == [(seq, kind) for seq, kind in enumerate(["ACCEPTED"] * 3 + ["FILL"] * 5, 1)]
        assert ("600000", "BUY", "FILLED", 300, 0, Decimal(0)) in together["orders"]
    finally:
        await db.dispose()


async def test_a_repeat_in_a_group_is_booked_once(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    try:
        client_id, account_id = await open_account(db)
        batches = _fills("r", await _orders(services, client_id, account_id))
        await services.booking.book(batches[1])  # booked before: the exchange retried after a lost answer
        await services.booking.book_together(batches)
        state = await _state(db, account_id)
        assert len(state["fills"]) == 5
        assert [kind for _seq, kind in state["events"]] == ["ACCEPTED"] * 3 + ["FILL"] * 5
        assert [seq for seq, _kind in state["events"]] == list(range(1, 9))
    finally:
        await db.dispose()
