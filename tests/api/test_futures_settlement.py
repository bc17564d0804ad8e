"""Futures settlement through the services on both backends: two daily settlements move cash by the
variation margin, the last trading day's settlement delivers in cash, and a repeat changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.services.products.futures import FuturesSettlementService
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow
from brokerql.store.tables_trading import FuturesPositionRow
from tests.api.trading_helpers import trading_services
from tests.fakes import FakeClock
from tests.reports import trade

CASH = Decimal("2000000")
DAY1 = datetime(2026, 12, 16, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Shanghai
EXPIRY = datetime(2026, 12, 18, 6, 0, tzinfo=UTC)  # Friday 14:00: IF2612's last trading day


async def futures_account(db: Database) -> tuple[str, str]:
    client_id, account_id = new_id("cli"), new_id("acc")
    async with db.transaction() as uow:
        uow.session.add(ClientRow(id=client_id, username=client_id, name="f", password_hash="x", tier_code="DIAMOND"))
        await uow.session.flush()
        uow.session.add(AccountRow(id=account_id, client_id=client_id, type="FUTURES", balance=CASH, available=CASH))
    return client_id, account_id


async def test_two_settlements_then_delivery_at_expiry(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    clock = FakeClock(DAY1)
    services = trading_services(db, clock, tier="DIAMOND")
    settlement = FuturesSettlementService(db, services.booking.instruments, clock)
    client_id, account_id = await futures_account(db)
    command = PlaceOrder(
        account_id=account_id, symbol="IF2612", side=Side.SELL, type=OrderType.LIMIT, quantity=3,
        price=Decimal("4620.0"),
    )  # fmt: skip
    placed = await services.place.place(client_id, command)
    assert placed.order is not None, placed.errors
    await services.booking.book([trade(placed.order.id, "x1", Decimal("4620.0"), 3)])
    open_fee = (Decimal("4620.0") * 900 * Decimal("0.000023")).quantize(Decimal("0.01"))

    first = await settlement.settle("IF2612", Decimal("4630.0"))  # a short loses 10 x 900 = 9,000
    clock.advance(days=1)
    second = await settlement.settle("IF2612", Decimal("4600.2"))  # gains 29.8 x 900 = 26,820
    repeat = await settlement.settle("IF2612", Decimal("4600.2"))  # same price, nothing opened today: 0
    assert [s.variation for s in first.settled + second.settled + repeat.settled] == [
        Decimal("-9000.00"),
        Decimal("26820.00"),
        Decimal("0.00"),
    ]
    async with db.read() as session:
        row = await session.get(AccountRow, account_id)
        position = await session.get(FuturesPositionRow, (account_id, "IF2612"))
    assert position.yd_quantity == 3 and position.settle_price == Decimal("4600.2")
    assert row.margin == (Decimal("4600.2") * 900 * Decimal("0.12")).quantize(Decimal("0.01"))
    assert row.balance == CASH - open_fee - 9000 + 26820 == row.available + row.margin + row.frozen

    clock.advance(EXPIRY - clock.now())
    delivered = await settlement.settle("IF2612", Decimal("4580.0"))  # final: +20.2 x 900 = 18,180
    assert delivered.final and delivered.settled[0].delivered == 3
    delivery_fee = (Decimal("4580.0") * 900 * Decimal("0.0001")).quantize(Decimal("0.01"))
    async with db.read() as session:
        row = await session.get(AccountRow, account_id)
        left = await session.get(FuturesPositionRow, (account_id, "IF2612"))
        query = select(AccountEventRow.kind).where(AccountEventRow.account_id == account_id)
        kinds = (await session.scalars(query.order_by(AccountEventRow.seq))).all()
    assert left is None and row.margin == 0
    # cash over the life of the short: (4620 - 4580) x 900 - fees, however the settlements split it
    assert row.balance == CASH + (Decimal("4620.0") - Decimal("4580.0")) * 900 - open_fee - delivery_fee
    assert row.available == row.balance and row.realized_pnl == row.balance - CASH
    settled = [k for k in kinds if k.startswith("FUTURES_")]  # DAY_SETTLED marks each new day between them
    assert settled == ["FUTURES_SETTLED", "FUTURES_SETTLED", "FUTURES_SETTLED", "FUTURES_DELIVERED"]
    # after its last trading day the contract takes no more orders
    clock.advance(days=3)
    late = await services.place.place(client_id, command)
    assert [e.code for e in late.errors] == ["CONTRACT_EXPIRED"]
    await db.dispose()


async def test_the_wizard_freezes_what_a_futures_order_then_freezes(backend) -> None:  # type: ignore[no-untyped-def]
    # The wizard's frozen cash is what the account type's own rule sets aside: for a contract that is
    # its margin (and fee), not the notional a cash account would freeze.
    db = Database(backend.settings.database_url)
    services = trading_services(db, FakeClock(DAY1), tier="DIAMOND")
    client_id, account_id = await futures_account(db)
    command = PlaceOrder(
        account_id=account_id, symbol="IF2612", side=Side.BUY, type=OrderType.LIMIT, quantity=2,
        price=Decimal("4620.0"),
    )  # fmt: skip
    (admission,) = (await services.place.preview(client_id, command)).admissions
    assert admission.admitted and admission.figures is not None
    placed = await services.place.place(client_id, command)
    assert placed.order is not None, placed.errors
    async with db.read() as session:
        row = await session.get(AccountRow, account_id)
    assert admission.figures.frozen_cash == placed.order.frozen_cash == CASH - row.available
    assert admission.figures.frozen_cash < Decimal("4620.0") * 600  # a margin, not the notional
    assert admission.figures.available_after == row.available
    await db.dispose()
