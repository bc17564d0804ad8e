"""Consecutive executions of one order booked together (one `ExecutionBooking.book` call): one FILL event
and seq each, in order, and a batch holding an already-booked execution books only the new ones (both
backends)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, FillRow, OrderRow, PositionRow
from tests.api.test_trading_expiry import CASH, open_account
from tests.api.trading_helpers import trading_services
from tests.reports import trade

PRICE = Decimal("13.50")


async def test_a_sweep_is_booked_in_one_go_with_a_fill_event_each(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    client_id, account_id = await open_account(db)
    command = PlaceOrder(
        account_id=account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=600, price=PRICE
    )
    placed = await services.place.place(client_id, command)
    assert placed.order is not None, placed.errors
    order_id = placed.order.id
    await services.booking.book([trade(order_id, "e1", PRICE, 100, False)])
    # e1 again (a retry) in the middle of a batch: the batch falls back to one by one, e1 stays single
    await services.booking.book([trade(order_id, "e2", PRICE, 100, False), trade(order_id, "e1", PRICE, 100, False)])
    await services.booking.book(
        [
            trade(order_id, "e3", PRICE, 100, False),
            trade(order_id, "e4", PRICE, 200, True),
            trade(order_id, "e5", PRICE, 100, True),
        ]
    )
    async with db.read() as session:
        order = await session.get(OrderRow, order_id)
        fills = await session.scalar(select(func.count()).select_from(FillRow).where(FillRow.order_id == order_id))
        query = select(AccountEventRow).where(AccountEventRow.account_id == account_id).order_by(AccountEventRow.seq)
        events = (await session.scalars(query)).all()
        account = await session.get(AccountRow, account_id)
        position = await session.get(PositionRow, (account_id, "600000"))
    assert fills == 5 and order.status == "FILLED" and order.cum_qty == 600 and order.frozen_cash == 0
    assert [e.kind for e in events] == ["ACCEPTED"] + ["FILL"] * 5
    assert [e.seq for e in events] == list(range(1, 7)) and account.last_seq == 6
    assert [e.payload["data"]["order"]["cum_qty"] for e in events[1:]] == [100, 200, 300, 500, 600]
    assert position.quantity == 1100 and position.bought_today == 600
    assert account.frozen == 0 and account.balance == CASH - 600 * PRICE - order.fees_paid
    await db.dispose()
