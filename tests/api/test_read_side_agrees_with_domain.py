"""The API shows the domain's figures: a property test over random fills, on every backend.

Hypothesis places random orders through `placeOrder`, books random (partial) fills of them through the
booking service the exchange calls, and sets a random last price. Then every derived figure read through
GraphQL (averagePrice, price, position cost, averageCost, marketValue, unrealisedPnl, withdrawable and
the other funds, realised P&L) is compared with what the domain computes from the stored state, put
through the one rounding policy (`domain/rounding.py`). The count of disagreements must be 0.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from brokerql.container import Container
from brokerql.domain import rounding
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.trading.account import as_of_day
from brokerql.exchange.engine import quote_topic
from brokerql.store.accounts import account_of
from brokerql.store.orders import order_from_row
from brokerql.store.tables import AccountRow, OrderRow, PositionRow
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.api.trading_helpers import PLACE
from tests.reports import trade

SYMBOLS = ("600000", "000001", "510300")
READ = """query($a: ID!) { account(id: $a) {
  realisedPnl cash { balance available frozen withdrawable }
  positions { symbol cost averageCost lastPrice marketValue unrealisedPnl }
  orders(first: 100) { edges { node { id price averagePrice feesPaid frozenCash } } } } }"""
exec_ids = itertools.count()

step = st.tuples(
    st.sampled_from(SYMBOLS),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(-30, 30),  # ticks from the previous close
    st.integers(1, 5),  # lots
    st.integers(1, 500),  # filled quantity (capped by the order)
    st.integers(0, 3),  # ticks better than the limit the fill trades at
)


def s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class Harness:
    """One served app (no exchange: the test is the venue) on its own event loop for all examples."""

    def __init__(self, backend: Any) -> None:
        self.loop = asyncio.new_event_loop()
        settings_ = backend.settings.model_copy(update={"cancel_confirm_seconds": 0})
        self.container = Container.build(settings_, with_exchange=False)
        self._serving = serve_in_process(settings_, self.container)
        self.client: GraphQLClient = self.run(self._serving.__aenter__())
        self.run(self.client.login("gold001"))
        self.account: str = self.run(self.client.account_id())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self._serving.__aexit__(None, None, None))
        self.loop.close()

    async def play(self, steps: list[tuple[str, str, int, int, int, int]], lasts: dict[str, int]) -> None:
        booking = self.container.trading.booking
        for symbol, side, ticks, lots, filled, better in steps:
            instrument = DEMO_INSTRUMENTS[symbol]
            tick = instrument.tick_size
            price = instrument.prev_close + tick * ticks
            order = {"accountId": self.account, "symbol": symbol, "side": side, "type": "LIMIT",
                     "price": str(price), "quantity": lots * instrument.lot_size}  # fmt: skip
            placed = (await self.client.execute(PLACE, {"i": order}))["data"]["placeOrder"]["order"]
            if placed is None:
                continue  # refused (funds, shares, limits): nothing to fill
            at = price - tick * better if side == "BUY" else price + tick * better
            quantity = min(filled, placed["leavesQuantity"])
            await booking.book([trade(placed["id"], f"p{next(exec_ids)}", at, quantity, better == 0)])
        for symbol, ticks in lasts.items():
            instrument = DEMO_INSTRUMENTS[symbol]
            last = instrument.prev_close + instrument.tick_size * ticks
            snapshot = {"symbol": symbol, "last": str(last), "bids": [], "asks": []}
            await self.container.bus.publish(quote_topic(symbol), snapshot, retain=True)

    async def disagreements(self) -> tuple[int, int]:
        """(figures compared, figures that differ) between the API and the domain on the stored state."""
        api = (await self.client.execute(READ, {"a": self.account}))["data"]["account"]
        async with self.container.db.read() as session:
            row = await session.get(AccountRow, self.account)
            positions = (await session.scalars(select(PositionRow).where(PositionRow.account_id == row.id))).all()
            orders = (await session.scalars(select(OrderRow).where(OrderRow.account_id == row.id))).all()
        today = trading_day(self.container.clock.now()).isoformat()
        account = as_of_day(account_of(row, positions), row.trading_day, today)
        funds = account.funds
        expected: dict[str, str | None] = {
            "balance": s(rounding.money(funds.balance)),
            "available": s(rounding.money(funds.available)),
            "frozen": s(rounding.money(funds.frozen)),
            "withdrawable": s(rounding.money(funds.withdrawable)),
            "realisedPnl": s(rounding.money(account.realised_pnl)),
        }
        got: dict[str, str | None] = {**api["cash"], "realisedPnl": api["realisedPnl"]}
        for p in api["positions"]:
            domain = account.positions[p["symbol"]]
            board = DEMO_INSTRUMENTS[p["symbol"]].board
            snapshot = await self.container.market.snapshot(p["symbol"])
            last = Decimal(snapshot["last"]) if snapshot else None
            for name, value in (
                ("cost", rounding.money(domain.cost)),
                ("averageCost", domain.avg_cost),
                ("lastPrice", None if last is None else rounding.price(last, board)),
                ("marketValue", None if last is None else rounding.money(domain.market_value(last))),
                ("unrealisedPnl", None if last is None else rounding.money(domain.unrealised_pnl(last))),
            ):
                expected[f"{p['symbol']}.{name}"], got[f"{p['symbol']}.{name}"] = s(value), p[name]
        by_id = {o.id: order_from_row(o) for o in orders}
        for edge in api["orders"]["edges"]:
            node, domain_order = edge["node"], by_id[edge["node"]["id"]]
            board = DEMO_INSTRUMENTS[domain_order.symbol].board
            for name, value in (
                ("averagePrice", domain_order.avg_px),
                ("price", rounding.price(domain_order.price, board) if domain_order.price is not None else None),
                ("feesPaid", rounding.money(domain_order.fees_paid)),
                ("frozenCash", rounding.money(domain_order.frozen_cash)),
            ):
                expected[f"{node['id']}.{name}"], got[f"{node['id']}.{name}"] = s(value), node[name]
        differing = [k for k in expected if expected[k] != got.get(k)]
        if differing:  # shown on failure: (domain, API) per figure
            print({k: (expected[k], got.get(k)) for k in differing})
        return len(expected), len(differing)


def test_api_and_domain_agree_on_every_derived_figure_over_random_fills(backend) -> None:  # type: ignore[no-untyped-def]
    harness = Harness(backend)
    totals = {"compared": 0, "differing": 0}

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        steps=st.lists(step, min_size=1, max_size=6),
        lasts=st.dictionaries(st.sampled_from(SYMBOLS), st.integers(-40, 40), max_size=3),
    )
    def example(steps, lasts) -> None:  # type: ignore[no-untyped-def]
        harness.run(harness.play(steps, lasts))
        compared, differing = harness.run(harness.disagreements())
        totals["compared"] += compared
        totals["differing"] += differing
        assert differing == 0

    try:
        example()
    finally:
        harness.close()
    assert totals["differing"] == 0 and totals["compared"] > 100, totals
