"""Margin trading through the services on both backends (C7): a price move crosses the warning and the
liquidation lines (events pushed), new financing is then refused; short sales refused by an empty lending
pool or a price below the last; interest posted over several days; repay and return keep the ledger whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from brokerql.domain.common import OrderType, Side
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.commands import PlaceOrder, RepayMargin, ReturnShares
from brokerql.domain.trading.invariants import check_invariants
from brokerql.domain.trading.orders import OrderPurpose
from brokerql.services.products.margin import MarginService
from brokerql.services.trading import ExecutionBooking, PlaceOrderService
from brokerql.store.accounts import load_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, PositionRow
from tests.fakes import FakeClock, fixed_facts, fixed_tier
from tests.reports import trade

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


class Prices:
    """Quotes a test sets: `snapshot` answers the last price given, or none."""

    def __init__(self) -> None:
        self.last: dict[str, Decimal] = {}

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        return {"last": str(self.last[symbol])} if symbol in self.last else None


class Desk:
    def __init__(self, db: Database) -> None:
        self.db, self.clock, self.quotes = db, FakeClock(T0), Prices()
        instruments = dict(DEMO_INSTRUMENTS)
        self.place = PlaceOrderService(
            db, instruments, self.quotes, DEMO_TIER_CATALOG, fixed_tier("GOLD"), self.clock, market_always_open=True
        )
        self.place.client_facts = fixed_facts()  # clients without profiles (suitability: test_compliance.py)
        self.booking = ExecutionBooking(db, instruments, self.clock)
        self.margin = MarginService(db, self.quotes, instruments, self.clock)

    async def account(self, cash: str, holdings: dict[str, int] | None = None) -> tuple[str, str]:
        client_id, account_id = new_id("cli"), new_id("acc")
        async with self.db.transaction() as uow:
            uow.session.add(ClientRow(id=client_id, username=client_id, name="m", password_hash="x", tier_code="GOLD"))
            await uow.session.flush()
            money = Decimal(cash)
            uow.session.add(
                AccountRow(id=account_id, client_id=client_id, type="MARGIN", balance=money, available=money)
            )
            await uow.session.flush()
            for symbol, quantity in (holdings or {}).items():
                uow.session.add(
                    PositionRow(account_id=account_id, symbol=symbol, quantity=quantity, sellable_quantity=quantity)
                )
        return client_id, account_id

    async def order(self, client_id: str, account_id: str, purpose: OrderPurpose, symbol: str, qty: int, price: str):  # type: ignore[no-untyped-def]
        side = Side.BUY if purpose in (OrderPurpose.FINANCING_BUY, OrderPurpose.BUY_TO_RETURN) else Side.SELL
        command = PlaceOrder(
            account_id=account_id, symbol=symbol, side=side, type=OrderType.LIMIT, quantity=qty,
            price=Decimal(price), purpose=purpose,
        )  # fmt: skip
        return await self.place.place(client_id, command)

    async def filled(self, client_id: str, account_id: str, purpose: OrderPurpose, symbol: str, qty: int, price: str):  # type: ignore[no-untyped-def]
        placed = await self.order(client_id, account_id, purpose, symbol, qty, price)
        assert placed.order is not None, placed.errors
        await self.booking.book([trade(placed.order.id, new_id("x"), Decimal(price), qty)])
        return placed.order

    async def events(self, account_id: str) -> list[AccountEventRow]:
        async with self.db.read() as session:
            query = select(AccountEventRow).where(AccountEventRow.account_id == account_id)
            return list((await session.scalars(query.order_by(AccountEventRow.seq))).all())


async def test_a_price_fall_crosses_the_warning_then_the_liquidation_line(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    desk = Desk(db)
    client_id, account_id = await desk.account("150000")
    desk.quotes.last["600000"] = Decimal("13.00")
    await desk.filled(client_id, account_id, OrderPurpose.FINANCING_BUY, "600000", 10_000, "13.00")
    view = await desk.margin.view(account_id)
    owed = Decimal("130000") + Decimal("33.80")  # + commission 32.50 and transfer fee 1.30
    assert view is not None and view.liabilities["financing"] == owed
    assert view.ratio == Decimal("2.1533") and view.zone.value == "SAFE"  # (150,000 + 130,000) / 130,033.80

    desk.quotes.last["600000"] = Decimal("4.60")  # (150,000 + 46,000) / 130,033.80 = 1.5073: still safe
    assert await desk.margin.evaluate_all() == []
    desk.quotes.last["600000"] = Decimal("4.40")  # 1.4919: warning
    warned = await desk.margin.evaluate_all()
    assert [(c.zone, c.previous_zone, c.ratio) for c in warned] == [("WARNING", "SAFE", Decimal("1.4919"))]
    assert await desk.margin.evaluate_all() == []  # no new crossing, no new event
    desk.quotes.last["600000"] = Decimal("1.80")  # 1.2920: liquidation
    crossed = await desk.margin.evaluate(account_id)
    assert crossed is not None and (crossed.zone, crossed.ratio) == ("LIQUIDATION", Decimal("1.2920"))
    events = [e for e in await desk.events(account_id) if e.kind == "MARGIN_LINE_CROSSED"]
    assert [(e.payload["data"]["code"], e.payload["data"]["credit"]["zone"]) for e in events] == [
        ("MARGIN_WARNING", "WARNING"),
        ("MARGIN_LIQUIDATION", "LIQUIDATION"),
    ]
    # below the liquidation line new financing is refused, and the client is told why
    refused = await desk.order(client_id, account_id, OrderPurpose.FINANCING_BUY, "600000", 100, "13.00")
    assert [e.code for e in refused.errors] == ["BELOW_LIQUIDATION_LINE"]
    # repaying brings it back: 60,000 repaid -> (90,000 + 18,000) / 70,033.80 = 1.5421
    repaid = await desk.margin.repay(client_id, RepayMargin(account_id=account_id, amount=Decimal("60000")))
    assert repaid.errors == [] and repaid.detail is not None and repaid.detail.principal == Decimal("60000")
    kinds = [e.kind for e in await desk.events(account_id)]
    assert kinds[-2:] == ["MARGIN_REPAID", "MARGIN_LINE_CROSSED"]
    await db.dispose()


async def test_short_sales_refused_by_the_pool_and_by_the_price_rule(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    desk = Desk(db)
    client_id, account_id = await desk.account("1000000")
    desk.quotes.last.update({"600000": Decimal("13.52"), "601318": Decimal("56.80"), "600519": Decimal("1450.00")})
    empty = await desk.order(client_id, account_id, OrderPurpose.SHORT_SELL, "601318", 100, "56.80")
    assert [e.code for e in empty.errors] == ["LENDING_POOL_EMPTY"]  # nothing to lend of 601318
    below = await desk.order(client_id, account_id, OrderPurpose.SHORT_SELL, "600000", 100, "13.51")
    assert [e.code for e in below.errors] == ["SHORT_SELL_PRICE"]  # below the last price 13.52
    # the pool of 600519 holds 500 shares: 400 lent (working), then only 100 left
    first = await desk.order(client_id, account_id, OrderPurpose.SHORT_SELL, "600519", 400, "1450.00")
    assert first.errors == [] and first.order is not None
    second = await desk.order(client_id, account_id, OrderPurpose.SHORT_SELL, "600519", 200, "1450.00")
    assert [e.code for e in second.errors] == ["LENDING_POOL_SHORT"]
    not_listed = await desk.order(client_id, account_id, OrderPurpose.SHORT_SELL, "510050", 100, "3.100")
    assert [e.code for e in not_listed.errors] == ["NOT_MARGIN_ELIGIBLE"]
    # sold short: proceeds held, shares owed; then returned from shares bought (buy to return)
    await desk.booking.book([trade(first.order.id, "s1", Decimal("1450.00"), 400)])
    desk.quotes.last["600519"] = Decimal("1400.00")
    await desk.filled(client_id, account_id, OrderPurpose.BUY_TO_RETURN, "600519", 400, "1400.00")
    async with db.transaction() as uow:
        loaded = await load_account(uow, account_id)
        assert loaded is not None and loaded.account.credit == {} and loaded.account.funds.margin == 0
        assert check_invariants(loaded.account) == []
        # sold 400 at 1450, bought back at 1400: the gain less both sides' fees stays in cash
        sell_fees = Decimal("145.00") + Decimal("290.00") + Decimal("5.80")  # commission, stamp duty, transfer
        buy_fees = Decimal("140.00") + Decimal("5.60")
        assert loaded.account.funds.balance == Decimal("1000000") + 400 * 50 - sell_fees - buy_fees
    await db.dispose()


async def test_interest_accrues_over_several_days_and_return_shares(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    desk = Desk(db)
    client_id, account_id = await desk.account("500000", {"000001": 1_000})
    desk.quotes.last.update({"600000": Decimal("13.00"), "000001": Decimal("11.48")})
    await desk.filled(client_id, account_id, OrderPurpose.FINANCING_BUY, "600000", 10_000, "13.00")  # 130,033.80 owed
    await desk.filled(client_id, account_id, OrderPurpose.SHORT_SELL, "000001", 1_000, "11.48")  # 11,480 raised
    desk.clock.advance(timedelta(days=3))  # Friday: 3 calendar days of interest
    await desk.margin.evaluate(account_id)  # the first touch of the day posts it
    desk.clock.advance(timedelta(days=3))  # Monday: 3 more (Fri, Sat, Sun)
    await desk.margin.evaluate(account_id)
    posted = [e.payload["data"]["credit"] for e in await desk.events(account_id) if e.kind == "MARGIN_INTEREST"]
    daily = (Decimal("130033.80") * Decimal("0.06") / 360).quantize(Decimal("0.01")) + (
        Decimal("11480") * Decimal("0.08") / 360
    ).quantize(Decimal("0.01"))  # 21.67 + 2.55
    assert [(Decimal(p["interest"]), p["quantity"]) for p in posted] == [(daily * 3, 3), (daily * 3, 3)]
    # return the 1,000 shares held directly: proceeds released, the short's interest paid
    returned = await desk.margin.return_shares(
        client_id, ReturnShares(account_id=account_id, symbol="000001", quantity=1_000)
    )
    assert returned.errors == [] and returned.detail is not None
    assert returned.detail.interest == Decimal("2.55") * 6
    view = await desk.margin.view(account_id)
    assert view is not None and [d.kind.value for d in view.debts] == ["FINANCING"]
    assert view.liabilities["interest"] == Decimal("21.67") * 6
    await db.dispose()
