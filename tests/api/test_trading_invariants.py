"""Invariants of the trading core through the real service and database, on every backend.

A hypothesis state machine places random orders, books random fills (partial, full, repeated), asks
for cancels and answers them as the exchange would (confirm, or fill first and refuse), and runs the
daily settlement; after every step the stored account must pass check_invariants, cash and shares
must equal the initial holdings plus what the fills moved, no order may be overfilled, and the
account's event seqs must run 1..lastSeq without a gap. A second test races many placeOrder calls on
one account: exactly the affordable ones are accepted and available never goes negative.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update

from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.cancels import CancelScope
from brokerql.domain.trading.commands import CancelOrders, PlaceOrder
from brokerql.domain.trading.invariants import check_invariants
from brokerql.store.accounts import load_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.orders import order_from_row
from brokerql.store.tables import AccountEventRow, AccountRow, ClientRow, FillRow, OrderRow, PositionRow
from tests.api.trading_helpers import PLACE, trading_client, trading_services
from tests.reports import cancel_rejected, canceled, expired, trade

SYMBOLS = ("600000", "000001")
CASH = Decimal("300000")
HELD = {"600000": (2000, Decimal("26000")), "000001": (1000, Decimal("11000"))}
exec_ids = itertools.count()


class TradingMachine(RuleBasedStateMachine):
    """One fresh account per run; the database URL comes from the backend under test."""

    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.db = Database(self.url)
        self.services = trading_services(self.db)
        self.client_id = new_id("cli")
        self.account_id = new_id("acc")
        self.live = 0  # orders that may still trade (kept by the rules, so preconditions need no query)

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()

    @initialize()
    def open_account(self) -> None:
        async def create() -> None:
            async with self.db.transaction() as uow:
                uow.session.add(
                    ClientRow(id=self.client_id, username=self.client_id, name="m", password_hash="x", tier_code="GOLD")
                )
                await uow.session.flush()
                uow.session.add(
                    AccountRow(id=self.account_id, client_id=self.client_id, type="CASH", balance=CASH, available=CASH)
                )
                await uow.session.flush()
                for symbol, (quantity, cost) in HELD.items():
                    uow.session.add(
                        PositionRow(
                            account_id=self.account_id,
                            symbol=symbol,
                            quantity=quantity,
                            sellable_quantity=quantity,
                            cost=cost,
                        )
                    )

        self.run(create())

    async def _orders(self) -> list[OrderRow]:
        async with self.db.read() as session:
            query = select(OrderRow).where(OrderRow.account_id == self.account_id).order_by(OrderRow.id)
            return list((await session.scalars(query)).all())

    def _pick(self, data: st.DataObject, statuses: set[str]) -> OrderRow | None:
        candidates = [o for o in self.run(self._orders()) if o.status in statuses and o.leaves_qty > 0]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(Side),
        market=st.booleans(),
        ticks=st.integers(-120, 120),
        lots=st.integers(1, 40),
        odd=st.sampled_from([0] * 9 + [50]),
        client_order_id=st.sampled_from([None] * 8 + ["k1", "k2"]),
    )
    def place(self, symbol, side, market, ticks, lots, odd, client_order_id) -> None:  # type: ignore[no-untyped-def]
        instrument = DEMO_INSTRUMENTS[symbol]
        price = instrument.prev_close + Decimal("0.01") * ticks
        command = PlaceOrder(
            account_id=self.account_id,
            symbol=symbol,
            side=side,
            type=OrderType.MARKET if market else OrderType.LIMIT,
            quantity=lots * 100 + odd,
            price=None if market else price,
            client_order_id=client_order_id,
        )
        outcome = self.run(self.services.place.place(self.client_id, command))
        assert (outcome.order is None) == bool(outcome.errors)
        self._count_live()

    def _count_live(self) -> None:
        self.live = sum(o.status in ("NEW", "PARTIALLY_FILLED", "PENDING_CANCEL") for o in self.run(self._orders()))

    @precondition(lambda self: self.live)
    @rule(data=st.data(), whole=st.booleans(), maker=st.booleans(), repeat=st.booleans(), parts=st.integers(1, 3))
    def fill(self, data, whole, maker, repeat, parts) -> None:  # type: ignore[no-untyped-def]
        order = self._pick(data, {"NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"})
        if order is None:
            return
        instrument = DEMO_INSTRUMENTS[order.symbol]
        low, high = instrument.limit_down, instrument.limit_up
        if order.type == "LIMIT":
            low, high = (low, order.price) if order.side == "BUY" else (order.price, high)
        cents = data.draw(st.integers(int(low * 100), int(high * 100)))
        quantity = order.leaves_qty if whole else data.draw(st.integers(1, order.leaves_qty))
        price = Decimal(cents) / 100
        if parts > 1 and quantity >= parts:  # a sweep: consecutive executions booked together
            sizes = [quantity // parts] * (parts - 1) + [quantity - quantity // parts * (parts - 1)]
            executions = [trade(order.id, f"e{next(exec_ids)}", price, q, maker) for q in sizes]
            for _ in range(2 if repeat else 1):  # a repeated batch falls back to one by one and books nothing
                self.run(self.services.booking.book(executions))
            self._count_live()
            return
        exec_id = f"e{next(exec_ids)}"
        for _ in range(2 if repeat else 1):  # the exchange retrying a fill must not book it twice
            self.run(self.services.booking.book([trade(order.id, exec_id, price, quantity, maker)]))
        self._count_live()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def day_ends(self, data) -> None:  # type: ignore[no-untyped-def]
        """The exchange expires a resting DAY order (retried: the second booking changes nothing)."""
        order = self._pick(data, {"NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"})
        if order is not None:
            for _ in range(2):
                self.run(self.services.booking.book([expired(order.id, order.leaves_qty)]))
        self._count_live()

    @rule(
        data=st.data(), scope=st.sampled_from([CancelScope.ONE, CancelScope.ALL, CancelScope.SYMBOL, CancelScope.LAST])
    )
    def request_cancel(self, data, scope) -> None:  # type: ignore[no-untyped-def]
        order = (
            self._pick(data, {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED"}) if scope is CancelScope.ONE else None
        )
        command = CancelOrders(
            account_id=self.account_id,
            scope=scope,
            order_ids=(order.id,) if order else ("nope",),
            symbol=data.draw(st.sampled_from(SYMBOLS)),
        )
        self.run(self.services.cancel.cancel(self.client_id, command))
        self._count_live()

    @precondition(lambda self: self.live)
    @rule(data=st.data(), fill_first=st.booleans())
    def exchange_answers_cancel(self, data, fill_first) -> None:  # type: ignore[no-untyped-def]
        order = self._pick(data, {"PENDING_CANCEL"})
        if order is None:
            return
        if fill_first:  # the fill won the race
            price = order.price or DEMO_INSTRUMENTS[order.symbol].prev_close
            self.run(
                self.services.booking.book([trade(order.id, f"e{next(exec_ids)}", price, order.leaves_qty, False)])
            )
            self.run(self.services.booking.book([cancel_rejected(order.id, "the order had already filled")]))
        else:
            self.run(self.services.booking.book([canceled(order.id, order.leaves_qty, "canceled by client")]))
        self._count_live()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def exchange_cancels_remainder(self, data) -> None:  # type: ignore[no-untyped-def]
        order = self._pick(data, {"NEW", "PARTIALLY_FILLED"})
        if order is not None:
            self.run(self.services.booking.book([canceled(order.id, order.leaves_qty, "IOC remainder")]))
        self._count_live()

    @rule()
    def next_trading_day(self) -> None:
        async def roll() -> None:
            async with self.db.transaction() as uow:
                await uow.session.execute(
                    update(AccountRow).where(AccountRow.id == self.account_id).values(trading_day="2000-01-03")
                )
            # The first change of the day settles it: a cancel of an unknown order changes nothing else.
            touch = CancelOrders(account_id=self.account_id, scope=CancelScope.ONE, order_ids=("nope",))
            await self.services.cancel.cancel(self.client_id, touch)

        self.run(roll())

    @invariant()
    def ledger_is_consistent(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        async with self.db.transaction() as uow:
            loaded = await load_account(uow, self.account_id)
            if loaded is None:  # before initialize
                return
            row, account = loaded.row, loaded.account
            orders = [order_from_row(o) for o in await self._orders()]
            fills = (await uow.session.scalars(select(FillRow).where(FillRow.account_id == self.account_id))).all()
            seqs = (
                await uow.session.scalars(
                    select(AccountEventRow.seq)
                    .where(AccountEventRow.account_id == self.account_id)
                    .order_by(AccountEventRow.seq)
                )
            ).all()
        assert check_invariants(account, orders) == []
        moved = Decimal(0)
        shares = {s: q for s, (q, _c) in HELD.items()}
        for f in fills:
            sign = 1 if f.side == "SELL" else -1
            moved += sign * f.price * f.quantity - (f.commission + f.stamp_duty + f.transfer_fee)
            shares[f.symbol] = shares.get(f.symbol, 0) - sign * f.quantity
        assert account.funds.balance == CASH + moved
        assert {s: account.position(s).quantity for s in shares} == shares
        for o in orders:
            filled = sum(f.quantity for f in fills if f.order_id == o.id)
            assert o.cum_qty == filled <= o.quantity
            assert o.leaves_qty == (0 if o.status.is_terminal else o.quantity - o.cum_qty)
        assert list(seqs) == list(range(1, row.last_seq + 1))


def test_random_orders_fills_and_cancels_keep_every_invariant(backend) -> None:
    TradingMachine.url = backend.settings.database_url
    run_state_machine_as_test(
        TradingMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


async def test_concurrent_orders_on_one_account_accept_exactly_the_affordable_ones(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        cash = Decimal("100000")
        async with client.container.db.transaction() as uow:
            await uow.session.execute(
                update(AccountRow).where(AccountRow.id == account).values(balance=cash, available=cash)
            )
        # 1000 x 13.00 freezes 13000 + 5 commission (minimum) + 0.13 transfer fee = 13005.13: 7 fit in 100000.
        order = {
            "accountId": account,
            "symbol": "600000",
            "side": "BUY",
            "type": "LIMIT",
            "price": "13.00",
            "quantity": 1000,
        }
        results = await asyncio.gather(*(client.execute(PLACE, {"i": order}) for _ in range(40)))
        payloads = [r["data"]["placeOrder"] for r in results]
        accepted = [p for p in payloads if p["order"] is not None]
        refused = [e["code"] for p in payloads for e in p["errors"]]
        assert len(accepted) == 7 and refused == ["INSUFFICIENT_FUNDS"] * 33
        async with client.container.db.transaction() as uow:
            stored = (await load_account(uow, account)).account  # type: ignore[union-attr]
            rows = (await uow.session.scalars(select(OrderRow).where(OrderRow.account_id == account))).all()
        assert stored.funds.available == cash - 7 * Decimal("13005.13") >= 0
        assert check_invariants(stored, [order_from_row(r) for r in rows]) == []
