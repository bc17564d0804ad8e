"""ETF creation and premium arbitrage through the services on both backends (C6): the estimate before it
is sent equals what is booked when the legs fill at the estimated prices; creation moves the constituents,
the substituted cash and the cash component; each step is an event on the account's stream."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from brokerql.domain.common import Side
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, Substitution
from brokerql.domain.trading.commands import ConvertEtf, RunEtfArbitrage, TradeEtfBasket
from brokerql.domain.trading.invariants import check_invariants
from brokerql.services.products.etf import EtfService
from brokerql.services.trading import ExecutionBooking, PlaceOrderService
from brokerql.store.accounts import load_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, OrderRow
from tests.fakes import FakeClock, fixed_facts, fixed_tier
from tests.reports import trade

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ETF = DEMO_INSTRUMENTS["510300"]
CASH = Decimal("10000000")


class Prices:
    def __init__(self, last: dict[str, Decimal]) -> None:
        self.last = last

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        return {"last": str(self.last[symbol])} if symbol in self.last else None


async def setup(db: Database, etf_last: str) -> tuple[EtfService, ExecutionBooking, str, str]:
    clock = FakeClock(T0)
    quotes = Prices({s: i.prev_close for s, i in DEMO_INSTRUMENTS.items()} | {"510300": Decimal(etf_last)})
    instruments = dict(DEMO_INSTRUMENTS)
    place = PlaceOrderService(
        db, instruments, quotes, DEMO_TIER_CATALOG, fixed_tier("GOLD"), clock, market_always_open=True
    )
    place.client_facts = fixed_facts()  # the test's client has no profile (suitability: tests/api/test_compliance.py)
    service = EtfService(db, place, quotes, instruments, clock)
    client_id, account_id = new_id("cli"), new_id("acc")
    async with db.transaction() as uow:
        uow.session.add(ClientRow(id=client_id, username=client_id, name="e", password_hash="x", tier_code="GOLD"))
        await uow.session.flush()
        uow.session.add(AccountRow(id=account_id, client_id=client_id, type="CASH", balance=CASH, available=CASH))
    return service, ExecutionBooking(db, instruments, clock), client_id, account_id


async def fill_all(db: Database, booking: ExecutionBooking, order_ids: list[str], prices: dict[str, Decimal]) -> None:
    async with db.read() as session:
        orders = (await session.scalars(select(OrderRow).where(OrderRow.id.in_(order_ids)))).all()
    for order in orders:
        await booking.book([trade(order.id, new_id("x"), prices[order.symbol], order.quantity)])


async def test_premium_arbitrage_books_exactly_its_estimate_when_fills_meet_it(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    service, booking, client_id, account_id = await setup(db, "4.700")  # IOPV 4.650: a 1.08% premium
    command = RunEtfArbitrage(account_id=account_id, etf="510300", units=1, direction="PREMIUM")
    priced = await service.runs.arbitrage(client_id, replace(command, estimate_only=True))
    assert priced.run is None and priced.estimate is not None
    started = await service.runs.arbitrage(client_id, command)
    assert started.errors == [] and started.run is not None and started.estimate == priced.estimate
    run = started.run
    in_kind = [line for line in ETF.pcf if line.substitution is not Substitution.MUST_CASH]
    assert len(run.first_orders) == len(in_kind) and run.status == "LEGS_WORKING"
    prices = {s: i.prev_close for s, i in DEMO_INSTRUMENTS.items()} | {"510300": Decimal("4.700")}
    assert (await service.runs.advance(run.id)).status == "LEGS_WORKING"  # type: ignore[union-attr]
    await fill_all(db, booking, run.first_orders, prices)  # the basket fills at the estimated prices
    converted = await service.runs.advance(run.id)
    assert converted is not None and converted.status == "CONVERTED" and len(converted.second_orders) == 1
    expected_cash = priced.estimate.substituted + priced.estimate.cash_component + priced.estimate.conversion_fee
    assert converted.conversion_cash == expected_cash
    await fill_all(db, booking, converted.second_orders, prices)  # the ETF sells at 4.700
    done = await service.runs.advance(run.id)
    assert done is not None and done.status == "DONE"
    assert done.realised_pnl == done.estimated_pnl == priced.estimate.pnl
    assert priced.estimate.pnl > 0  # 45,000 of premium less about 2,900 of fees
    async with db.transaction() as uow:
        loaded = await load_account(uow, account_id)
        assert loaded is not None and check_invariants(loaded.account) == []
        held = {s: p.quantity for s, p in loaded.account.positions.items() if p.quantity}
        assert held == {}  # everything bought went into the ETF, which was sold (flat lines go at the roll)
        assert loaded.account.funds.balance == CASH + priced.estimate.pnl
    async with db.read() as session:
        query = select(AccountEventRow).where(AccountEventRow.account_id == account_id).order_by(AccountEventRow.seq)
        steps = [
            (e.kind, e.payload["data"]["code"])
            for e in (await session.scalars(query)).all()
            if e.kind.startswith("ETF")
        ]
    assert steps == [
        ("ETF_ARBITRAGE", "STARTED"),
        ("ETF_CREATED", None),
        ("ETF_ARBITRAGE", "CONVERTED"),
        ("ETF_ARBITRAGE", "DONE"),
    ]
    await db.dispose()


async def test_creation_needs_the_basket_and_redemption_gives_it_back(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    service, _, client_id, account_id = await setup(db, "4.650")
    # nothing held: ALLOWED lines are all substituted by cash at prev close + 10%
    created = await service.convert(client_id, ConvertEtf(account_id=account_id, etf="510300", units=1))
    assert created.errors == [] and created.detail is not None
    allowed = sum(
        (
            (DEMO_INSTRUMENTS[line.symbol].prev_close * line.quantity * Decimal("1.10")).quantize(Decimal("0.01"))
            for line in ETF.pcf
            if line.substitution is Substitution.ALLOWED
        ),
        Decimal(0),
    )
    must = sum((line.cash_amount for line in ETF.pcf if line.substitution is Substitution.MUST_CASH), Decimal(0))
    assert created.detail.substituted == allowed + must and created.detail.etf_shares == 900_000
    redeemed = await service.convert(client_id, ConvertEtf(account_id=account_id, etf="510300", units=1, create=False))
    assert redeemed.errors == [] and redeemed.detail is not None
    too_many = await service.convert(client_id, ConvertEtf(account_id=account_id, etf="510300", units=1, create=False))
    assert [e.code for e in too_many.errors] == ["INSUFFICIENT_POSITION"]
    async with db.transaction() as uow:
        loaded = await load_account(uow, account_id)
        assert loaded is not None and check_invariants(loaded.account) == []
        positions = loaded.account.positions
        assert {s: p.quantity for s, p in positions.items()} == {
            line.symbol: line.quantity for line in ETF.pcf if line.substitution is Substitution.ALLOWED
        }
        assert all(p.sellable_quantity == p.quantity for p in positions.values())  # sellable the same day
    await db.dispose()


async def test_the_pcf_basket_goes_all_legs_or_none(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    service, _, client_id, account_id = await setup(db, "4.650")
    in_kind = {line.symbol: line.quantity * 2 for line in ETF.pcf if line.substitution is not Substitution.MUST_CASH}
    placed = await service.trade_basket(
        client_id, TradeEtfBasket(account_id=account_id, etf="510300", units=2, side=Side.BUY)
    )
    assert placed.errors == [] and {o.symbol: o.quantity for o in placed.orders} == in_kind
    # three units more do not fit the cash left: nothing of them is placed
    refused = await service.trade_basket(
        client_id, TradeEtfBasket(account_id=account_id, etf="510300", units=3, side=Side.BUY)
    )
    assert refused.orders == [] and {e.code for e in refused.errors} == {"INSUFFICIENT_FUNDS"}
    async with db.read() as session:
        count = len((await session.scalars(select(OrderRow).where(OrderRow.account_id == account_id))).all())
    assert count == len(in_kind)
    await db.dispose()


async def test_discount_arbitrage_buys_redeems_sells_and_books_its_estimate(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    service, booking, client_id, account_id = await setup(db, "4.600")  # IOPV 4.650: a 1.08% discount
    command = RunEtfArbitrage(account_id=account_id, etf="510300", units=1, direction="DISCOUNT")
    started = await service.runs.arbitrage(client_id, command)
    assert started.errors == [] and started.run is not None and started.estimate is not None
    assert started.estimate.pnl > 0 and len(started.run.first_orders) == 1  # the ETF buy
    prices = {s: i.prev_close for s, i in DEMO_INSTRUMENTS.items()} | {"510300": Decimal("4.600")}
    await fill_all(db, booking, started.run.first_orders, prices)
    converted = await service.runs.advance(started.run.id)
    assert converted is not None and converted.status == "CONVERTED"
    in_kind = [line for line in ETF.pcf if line.substitution is not Substitution.MUST_CASH]
    assert len(converted.second_orders) == len(in_kind)  # the redeemed shares, sold the same day
    await fill_all(db, booking, converted.second_orders, prices)
    done = await service.runs.advance(started.run.id)
    assert done is not None and done.status == "DONE" and done.realised_pnl == started.estimate.pnl
    async with db.transaction() as uow:
        loaded = await load_account(uow, account_id)
        assert loaded is not None and check_invariants(loaded.account) == []
        assert loaded.account.funds.balance == CASH + started.estimate.pnl
    await db.dispose()
