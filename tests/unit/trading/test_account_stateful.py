"""Random trading days against one Account: the ledger must stay consistent and conserve money.

Conservation law (average cost method): nothing creates or destroys value except fees, and fees
are part of both the cost of a buy and the realised P&L of a sell, so at every step

    balance + sum(position.cost) - realised_pnl == initial cash + initial cost of holdings

(plus deposits minus withdrawals). Independently, the balance must equal the initial cash minus
every buy's notional + fees plus every sell's notional - fees, and each position's quantity the
initial one plus bought minus sold.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading import (
    Account,
    Funds,
    Order,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    Position,
    check_invariants,
)
from tests.unit.trading.factories import at

TICK = Decimal("0.01")
# symbol -> previous close; the penny stock makes the minimum commission exceed some proceeds.
PREV_CLOSE = {"600000": Decimal("10.00"), "000725": Decimal("1.50"), "688981": Decimal("45.00")}


def band(symbol: str) -> tuple[Decimal, Decimal]:
    """Daily price limits (+-10%) in ticks."""
    close = PREV_CLOSE[symbol]
    return (close * Decimal("0.9")).quantize(TICK), (close * Decimal("1.1")).quantize(TICK)


def price_in(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(int(low / TICK), int(high / TICK)).map(lambda n: n * TICK)


class AccountMachine(RuleBasedStateMachine):
    """Places, fills, cancels and expires orders at random, rolling days in between."""

    @initialize(
        cash=st.one_of(st.just(0), st.integers(0, 300_000)).map(Decimal),
        holdings=st.fixed_dictionaries({s: st.integers(0, 30) for s in PREV_CLOSE}),
    )
    def open_account(self, cash: Decimal, holdings: dict[str, int]) -> None:
        positions = {
            s: Position.settled(s, lots * 100, PREV_CLOSE[s] * lots * 100) for s, lots in holdings.items() if lots
        }
        self.account = Account("acc", funds=Funds.of(cash), positions=positions)
        self.orders: list[Order] = []
        self.constant = cash + sum((p.cost for p in positions.values()), Decimal(0))
        self.expected_balance = cash
        self.expected_qty = {s: lots * 100 for s, lots in holdings.items()}
        self.clock = 0

    def _tick(self):
        self.clock += 1
        return at(self.clock)

    def _working(self, *statuses: OrderStatus) -> list[Order]:
        wanted = statuses or (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)
        return [o for o in self.orders if o.status in wanted]

    @rule(
        data=st.data(),
        symbol=st.sampled_from(sorted(PREV_CLOSE)),
        side=st.sampled_from(Side),
        market=st.booleans(),
    )
    def place(self, data, symbol: str, side: Side, market: bool) -> None:
        low, high = band(symbol)
        if side is Side.BUY:
            quantity = data.draw(st.integers(1, 30)) * 100
        else:
            quantity = data.draw(st.integers(1, self.expected_qty[symbol] + 150))
        price = None if market else data.draw(price_in(low, high))
        ts = self._tick()
        order = Order(
            id=f"o{len(self.orders)}",
            account_id="acc",
            symbol=symbol,
            side=side,
            type=OrderType.MARKET if market else OrderType.LIMIT,
            price=price,
            quantity=quantity,
            created_at=ts,
            updated_at=ts,
        )
        protective = high if side is Side.BUY else low
        event = self.account.accept(order, ts=ts, protective_price=protective)
        assert order.status is (OrderStatus.NEW if event.kind == "ACCEPTED" else OrderStatus.REJECTED)
        self.orders.append(order)

    @precondition(lambda self: self._working())
    @rule(data=st.data())
    def fill(self, data) -> None:
        order = data.draw(st.sampled_from(self._working()))
        low, high = band(order.symbol)
        if order.price is not None:
            low, high = (low, order.price) if order.side is Side.BUY else (order.price, high)
        price = data.draw(price_in(low, high))
        # Small first fills matter: they pay the whole minimum commission on tiny proceeds.
        quantity = data.draw(st.one_of(st.integers(1, min(order.leaves_qty, 3)), st.integers(1, order.leaves_qty)))
        fees = self.account.fees_for_fill(order, price, quantity)
        fill = OrderFilled(
            order_id=order.id,
            ts=self._tick(),
            fill_id=f"f{self.clock}",
            price=price,
            quantity=quantity,
            fees=fees,
        )
        self.account.book_fill(order, fill)
        sign = 1 if order.side is Side.BUY else -1
        self.expected_balance += -sign * fill.notional - fees.total
        self.expected_qty[order.symbol] += sign * quantity

    @precondition(lambda self: self._working(OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED))
    @rule(data=st.data())
    def request_cancel(self, data) -> None:
        order = data.draw(st.sampled_from(self._working(OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)))
        order.apply(OrderCancelRequested(order_id=order.id, ts=self._tick()))

    @precondition(lambda self: self._working(OrderStatus.PENDING_CANCEL))
    @rule(data=st.data(), accepted=st.booleans())
    def answer_cancel(self, data, accepted: bool) -> None:
        order = data.draw(st.sampled_from(self._working(OrderStatus.PENDING_CANCEL)))
        if accepted:
            event = OrderCanceled(order_id=order.id, ts=self._tick(), canceled_quantity=order.leaves_qty)
            self.account.close_order(order, event)
            assert order.status is OrderStatus.CANCELED
        else:
            order.apply(OrderCancelRejected(order_id=order.id, ts=self._tick()))
            assert order.status.is_cancelable

    @precondition(lambda self: self._working())
    @rule(data=st.data())
    def exchange_cancels(self, data) -> None:
        """IOC remainders and unprompted cancels go straight to CANCELED."""
        order = data.draw(st.sampled_from(self._working()))
        self.account.close_order(
            order, OrderCanceled(order_id=order.id, ts=self._tick(), canceled_quantity=order.leaves_qty)
        )

    @rule(expire=st.booleans())
    def end_of_day(self, expire: bool) -> None:
        if expire:
            for order in self._working():
                self.account.close_order(order, OrderExpired(order_id=order.id, ts=self._tick()))
        self.account.roll_day()
        for position in self.account.positions.values():
            assert position.bought_today == 0

    @rule(data=st.data())
    def move_cash(self, data) -> None:
        amount = data.draw(st.integers(0, 10_000).map(Decimal))
        if data.draw(st.booleans()):
            self.account.deposit(amount)
        else:
            amount = min(amount, self.account.funds.withdrawable)
            self.account.withdraw(amount)
            amount = -amount
        self.constant += amount
        self.expected_balance += amount

    @invariant()
    def ledger_is_consistent(self) -> None:
        assert check_invariants(self.account, self.orders) == []

    @invariant()
    def money_is_conserved(self) -> None:
        account = self.account
        costs = sum((p.cost for p in account.positions.values()), Decimal(0))
        assert account.funds.balance + costs - account.realised_pnl == self.constant
        assert account.funds.balance == self.expected_balance

    @invariant()
    def shares_are_conserved(self) -> None:
        for symbol, quantity in self.expected_qty.items():
            assert self.account.position(symbol).quantity == quantity

    @invariant()
    def orders_are_consistent(self) -> None:
        for order in self.orders:
            assert order.cum_qty + order.leaves_qty == (
                order.quantity if not order.status.is_terminal else order.cum_qty
            )
            assert order.frozen_cash >= 0
            assert (order.status is OrderStatus.FILLED) == (order.cum_qty == order.quantity)


AccountMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestAccount = AccountMachine.TestCase
