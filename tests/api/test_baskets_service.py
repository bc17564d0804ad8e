"""Baskets, the order wizard and paired orders through the trading services, on both backends: a preview
equals what is then placed, a partly filled run's completion and top-up, the wizard's figures equal the
booked fees and freezes, and a paired order (like a basket) is all or nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading.basket_runs import RunStatus
from brokerql.domain.trading.baskets import BasketLeg, DefineBasket, Scaling, SubmitBasket
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.pairs import PlacePairedOrder
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.services.trading import TradingServices
from brokerql.store.database import Database
from brokerql.store.tables import AccountEventRow, AccountRow, FillRow, OrderRow
from tests.api.test_trading_expiry import CASH, open_account
from tests.api.trading_helpers import trading_services
from tests.reports import canceled, trade

D = Decimal


class Book:
    """Market data with a fixed book per symbol (`services.market.MarketData.snapshot`'s shape)."""

    def __init__(self, **books: tuple[str, str, str]) -> None:
        self.books = {symbol.removeprefix("s"): levels for symbol, levels in books.items()}

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        if symbol not in self.books:
            return None
        bid, ask, last = self.books[symbol]
        return {"symbol": symbol, "last": last, "bids": [[bid, 5000, 3]], "asks": [[ask, 5000, 2]]}


BOOK = Book(
    s600000=("13.50", "13.51", "13.50"), s000001=("11.47", "11.48", "11.48"), s688981=("118.50", "118.60", "118.60")
)


def limit(account_id: str, symbol: str, side: Side, quantity: int, price: str) -> PlaceOrder:
    return PlaceOrder(
        account_id=account_id, symbol=symbol, side=side, type=OrderType.LIMIT, quantity=quantity, price=D(price)
    )


async def setup(backend: Any) -> tuple[Database, TradingServices, str, str, str]:
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    services.place.quotes = BOOK
    client_id, account_id = await open_account(db)
    legs = (BasketLeg("600000", 200), BasketLeg("000001", 300), BasketLeg("688981", 200))
    defined = await services.baskets.define(client_id, DefineBasket(name="three", legs=legs))
    assert defined.basket is not None, defined.errors
    return db, services, client_id, account_id, defined.basket.id


def submit(account_id: str, basket_id: str, **fields: Any) -> SubmitBasket:
    base: dict[str, Any] = dict(basket_id=basket_id, account_id=account_id, side=Side.BUY, scaling=Scaling())
    return SubmitBasket(**(base | fields))


async def orders_of(db: Database, account_id: str) -> list[OrderRow]:
    async with db.read() as session:
        query = select(OrderRow).where(OrderRow.account_id == account_id).order_by(OrderRow.created_at, OrderRow.id)
        return list((await session.scalars(query)).all())


async def available(db: Database, account_id: str) -> Decimal:
    async with db.read() as session:
        return (await session.get(AccountRow, account_id)).available


async def test_a_basket_preview_equals_what_the_submission_then_places(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, basket_id = await setup(backend)
    command = submit(account_id, basket_id, scaling=Scaling(multiplier=D("1.5")), price_level=PriceLevel.ASK1)
    preview = await services.basket_runs.submit(client_id, SubmitBasket(**{**_fields(command), "preview": True}))
    assert preview.run is None and preview.errors == [] and all(leg.accepted for leg in preview.plan)
    assert await orders_of(db, account_id) == []  # a preview writes nothing
    submitted = await services.basket_runs.submit(client_id, command)
    assert submitted.run is not None, submitted.errors
    placed = {o.symbol: o for o in await orders_of(db, account_id)}
    # 200 x 1.5 = 300; 300 x 1.5 = 450 -> 400 (lots of 100); STAR 300 (200, then steps of 1)
    assert {leg.symbol: leg.quantity for leg in preview.plan} == {"600000": 300, "000001": 400, "688981": 300}
    for leg in preview.plan:
        order = placed[leg.symbol]
        assert (order.quantity, order.price, order.basket_run_id) == (leg.quantity, leg.price, submitted.run.id)
        assert leg.admission is not None and leg.admission.figures is not None
        assert order.frozen_cash == leg.admission.figures.frozen_cash
    assert await available(db, account_id) == preview.plan[-1].admission.figures.available_after
    assert submitted.run.progress.status is RunStatus.WORKING and submitted.run.progress.filled_ratio == 0
    await db.dispose()


def _fields(command: SubmitBasket) -> dict[str, Any]:
    return {name: getattr(command, name) for name in SubmitBasket.__dataclass_fields__}


async def test_one_refused_leg_places_no_leg_and_each_legs_reasons_come_back(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, basket_id = await setup(backend)
    # x20: 4,000 x 13.51 + 6,000 x 11.48 + 4,000 x 118.60 = 597,000: far beyond 100,000 of cash
    outcome = await services.basket_runs.submit(
        client_id, submit(account_id, basket_id, scaling=Scaling(multiplier=D(20)), price_level=PriceLevel.ASK1)
    )
    assert outcome.run is None and await orders_of(db, account_id) == []
    assert await available(db, account_id) == CASH
    assert {e.code for e in outcome.errors} == {"INSUFFICIENT_FUNDS"}
    refused = [leg.symbol for leg in outcome.plan if not leg.accepted]
    assert refused and all(e.field.startswith("legs[") for e in outcome.errors)
    by_amount = await services.basket_runs.submit(
        client_id, submit(account_id, basket_id, scaling=Scaling(amount=D(500)), price_level=PriceLevel.ASK1)
    )
    assert {e.code for e in by_amount.errors} == {"LOT_SIZE"} and await orders_of(db, account_id) == []
    await db.dispose()


async def test_completion_cancel_and_top_up_of_a_partly_filled_run(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, basket_id = await setup(backend)
    prices = (("600000", D("13.50")), ("000001", D("11.48")), ("688981", D("118.60")))
    run = (await services.basket_runs.submit(client_id, submit(account_id, basket_id, prices=prices))).run
    assert run is not None
    legs = {leg.symbol: leg.latest.id for leg in run.progress.legs}
    await services.booking.book([trade(legs["600000"], "x1", D("13.50"), 200)])  # filled
    await services.booking.book([trade(legs["000001"], "x2", D("11.48"), 100)])  # 100 of 300
    run = await services.basket_runs.run(client_id, run.id)
    assert [leg.filled_quantity for leg in run.progress.legs] == [200, 100, 0]
    assert run.progress.filled_ratio == D(300) / 700 and run.progress.status is RunStatus.WORKING
    assert run.progress.filled_value == D("13.50") * 200 + D("11.48") * 100

    cancel = await services.basket_runs.cancel_run(client_id, run.id)
    assert cancel.errors == [] and cancel.run is not None
    assert {o.status.value for leg in cancel.run.progress.legs[1:] for o in leg.orders} == {"PENDING_CANCEL"}
    again = await services.basket_runs.cancel_run(client_id, run.id)
    assert [e.code for e in again.errors] == ["CANCEL_PENDING"]
    await services.booking.book([canceled(legs["000001"], 200)])  # the venue confirms
    await services.booking.book([canceled(legs["688981"], 200)])
    run = await services.basket_runs.run(client_id, run.id)
    assert run.progress.status is RunStatus.STOPPED and [leg.remainder for leg in run.progress.legs] == [0, 200, 200]
    stopped = await services.basket_runs.cancel_run(client_id, run.id)
    assert [e.code for e in stopped.errors] == ["NOTHING_WORKING"]

    topped = await services.basket_runs.top_up(client_id, run.id, PriceLevel.ASK1)
    assert topped.errors == [] and topped.run is not None and topped.run.top_ups == 1
    new = {leg.symbol: leg.latest for leg in topped.run.progress.legs}
    assert (new["000001"].quantity, new["688981"].quantity) == (200, 200)
    assert new["600000"].id == legs["600000"]  # the filled leg got no new order
    rows = {o.id: o for o in await orders_of(db, account_id)}
    assert rows[new["000001"].id].price == D("11.48") and rows[new["688981"].id].basket_run_id == run.id
    assert topped.run.progress.status is RunStatus.WORKING
    again = await services.basket_runs.top_up(client_id, run.id, PriceLevel.ASK1)
    assert [e.code for e in again.errors] == ["NOTHING_TO_TOP_UP"]
    async with db.read() as session:
        events = (await session.scalars(select(AccountEventRow).where(AccountEventRow.account_id == account_id))).all()
    assert all(e.payload["data"]["basket_run_id"] == run.id for e in events)  # every event names the run
    await db.dispose()


async def test_the_wizard_figures_equal_the_booked_fees_and_freezes_of_the_same_order(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, _ = await setup(backend)
    for side, level, quantity in ((Side.BUY, PriceLevel.ASK1, 2300), (Side.SELL, PriceLevel.BID1, 500)):
        command = PlaceOrder(
            account_id=account_id,
            symbol="600000",
            side=side,
            type=OrderType.LIMIT,
            quantity=quantity,
            price_level=level,
        )
        preview = (await services.place.preview(client_id, command)).admissions[0]
        assert preview.admitted and preview.figures is not None
        figures = preview.figures
        before = await available(db, account_id)
        placed = await services.place.place(client_id, command)
        assert placed.order is not None and placed.order.price == figures.price
        assert placed.order.frozen_cash == figures.frozen_cash and figures.available_before == before
        assert await available(db, account_id) == figures.available_after
        await services.booking.book([trade(placed.order.id, f"w{side}", figures.price, quantity)])
        async with db.read() as session:
            fill = await session.scalar(select(FillRow).where(FillRow.order_id == placed.order.id))
        booked = (fill.commission, fill.stamp_duty, fill.transfer_fee)
        assert booked == (figures.fees.commission, figures.fees.stamp_duty, figures.fees.transfer_fee)
        assert [c.outcome.value for c in preview.checks] == ["PASSED"] * 9  # CREDIT passes ordinary orders
    refused = (
        await services.place.preview(client_id, limit(account_id, "600000", Side.BUY, 10**6, "13.50"))
    ).admissions[0]
    assert [e.code for e in refused.errors] == ["INSUFFICIENT_FUNDS"] and refused.checks[-1].rule == "FUNDS"
    funds = await available(db, account_id)
    assert refused.figures is not None and refused.figures.available_before == funds
    most = refused.figures.max_quantity
    fits = limit(account_id, "600000", Side.BUY, most, "13.50")
    assert (await services.place.preview(client_id, fits)).admissions[0].admitted
    await db.dispose()


async def test_a_paired_order_is_all_or_nothing_and_links_both_orders(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, _ = await setup(backend)

    def pair(sell_quantity: int) -> PlacePairedOrder:
        buy = limit(account_id, "000001", Side.BUY, 1000, "11.48")
        return PlacePairedOrder(buy=buy, sell=limit(account_id, "600000", Side.SELL, sell_quantity, "13.50"))

    refused = await services.pairs.place_pair(client_id, pair(600))  # only 500 sellable
    assert refused.pair_id is None
    assert [(e.code, e.field) for e in refused.errors] == [("INSUFFICIENT_POSITION", "sell.quantity")]
    assert await orders_of(db, account_id) == [] and await available(db, account_id) == CASH
    placed = await services.pairs.place_pair(client_id, pair(500))
    assert placed.errors == [] and placed.buy is not None and placed.sell is not None
    assert placed.buy.pair_id == placed.sell.pair_id == placed.pair_id
    async with db.read() as session:
        seqs = (
            await session.scalars(select(AccountEventRow.seq).where(AccountEventRow.account_id == account_id))
        ).all()
        linked = await session.scalar(
            select(func.count()).select_from(OrderRow).where(OrderRow.pair_id == placed.pair_id)
        )
    assert sorted(seqs) == [1, 2] and linked == 2
    await db.dispose()


async def test_two_top_ups_at_once_place_the_remainders_once(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, basket_id = await setup(backend)
    prices = (("600000", D("13.50")), ("000001", D("11.48")), ("688981", D("118.60")))
    run = (await services.basket_runs.submit(client_id, submit(account_id, basket_id, prices=prices))).run
    assert run is not None
    for leg in run.progress.legs:  # the venue cancels every leg: the whole basket is left to top up
        await services.booking.book([canceled(leg.latest.id, leg.quantity)])
    first, second = await asyncio.gather(
        services.basket_runs.top_up(client_id, run.id, PriceLevel.ASK1),
        services.basket_runs.top_up(client_id, run.id, PriceLevel.ASK1),
    )
    codes = sorted(e.code for outcome in (first, second) for e in outcome.errors)
    assert codes in (["RUN_CHANGED"], ["NOTHING_TO_TOP_UP"])  # the loser read before, or after, the winner
    assert len(await orders_of(db, account_id)) == 6  # three legs, topped up once
    final = await services.basket_runs.run(client_id, run.id)
    assert final.top_ups == 1 and [leg.working_quantity for leg in final.progress.legs] == [200, 300, 200]
    await db.dispose()


async def test_a_client_edits_lists_and_deletes_only_their_own_baskets_and_runs_outlive_them(backend) -> None:  # type: ignore[no-untyped-def]
    db, services, client_id, account_id, basket_id = await setup(backend)
    other, _ = await open_account(db)
    weights = (BasketLeg("600000", weight=D(2)), BasketLeg("000001", weight=D(1)))
    change = DefineBasket(name="by weight", legs=weights, default_amount=D("30000"), basket_id=basket_id)
    assert (await services.baskets.define(other, change)).errors[0].code == "NOT_FOUND"
    edited = await services.baskets.define(client_id, change)
    assert edited.basket is not None and edited.basket.by_weight and edited.basket.id == basket_id
    assert [b.name for b in await services.baskets.baskets(client_id)] == ["by weight"]
    assert await services.baskets.baskets(other) == []
    mixed = DefineBasket(name="bad", legs=(BasketLeg("600000", 100), BasketLeg("000001", weight=D(1))))
    assert [e.code for e in (await services.baskets.define(client_id, mixed)).errors] == ["MIXED_LEGS"]
    stranger = await services.basket_runs.submit(other, submit(account_id, basket_id, price_level=PriceLevel.ASK1))
    assert [e.code for e in stranger.errors] == ["NOT_FOUND"]
    # 30,000 by weight 2:1 at the asks: 20,000 / 13.51 = 1480.4 -> 1400; 10,000 / 11.48 = 871.1 -> 800
    run = (await services.basket_runs.submit(client_id, submit(account_id, basket_id, price_level=PriceLevel.ASK1))).run
    assert run is not None and [leg.quantity for leg in run.progress.legs] == [1400, 800]
    assert (await services.baskets.delete(other, basket_id)).errors[0].code == "NOT_FOUND"
    assert (await services.baskets.delete(client_id, basket_id)).basket.name == "by weight"
    assert await services.baskets.baskets(client_id) == []
    kept = await services.basket_runs.run(client_id, run.id)
    assert (
        kept is not None and kept.basket_name == "by weight" and await services.basket_runs.run(other, run.id) is None
    )
    await db.dispose()
