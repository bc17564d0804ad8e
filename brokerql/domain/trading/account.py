"""The account aggregate: funds, positions and fees, kept consistent with the account's orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.trading import credit_account, etf, futures_account, margin
from brokerql.domain.trading import futures as fut
from brokerql.domain.trading.fees import (
    A_SHARE,
    CENT,
    DEFAULT_SCHEDULE,
    ZERO,
    FeeBasis,
    Fees,
    FeeSchedule,
    estimate_buy_freeze,
    sell_fee_buffer,
)
from brokerql.domain.trading.ledger import Funds, LedgerError, Position, settle_buy_fill, settle_sell_fill
from brokerql.domain.trading.orders import (
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderPurpose,
    OrderRejected,
    OrderStatus,
    cash_movement_of_fill,
)


class AccountType(StrEnum):
    """The products an account trades (C2): stock cash account, margin, index futures."""

    CASH = "CASH"
    MARGIN = "MARGIN"
    FUTURES = "FUTURES"


@dataclass(slots=True, eq=False)
class Account:
    """One trading account. Its methods keep funds and positions in step with its orders.

    What an order holds frozen is always `order.frozen_cash` (cash) and, for a working sell,
    `order.leaves_qty` (shares); `check_invariants(account, orders)` verifies exactly that.
    Each method computes the new values first and assigns them last, so a raise changes nothing.
    """

    id: str
    type: AccountType = AccountType.CASH
    funds: Funds = field(default_factory=Funds)
    positions: dict[str, Position] = field(default_factory=dict)
    fee_schedule: FeeSchedule = DEFAULT_SCHEDULE
    realised_pnl: Decimal = ZERO  # since the account opened, after fees (average cost method)
    # FUTURES accounts: net positions per contract (domain/trading/futures.py has the arithmetic)
    futures: dict[str, fut.FuturesPosition] = field(default_factory=dict)
    # MARGIN accounts: debts by (kind, symbol) and the credit terms (domain/trading/margin.py)
    credit: dict[margin.DebtKey, margin.Debt] = field(default_factory=dict)
    terms: margin.MarginTerms = field(default_factory=margin.MarginTerms)

    def sells_from_shares(self, purpose: OrderPurpose = OrderPurpose.NORMAL) -> bool:
        """Whether a sell needs shares held: not on futures accounts (a sell opens a short or closes a
        long), nor for a margin account's short sale (the shares are borrowed)."""
        return self.type is not AccountType.FUTURES and purpose is not OrderPurpose.SHORT_SELL

    def position(self, symbol: str) -> Position:
        """The holding of `symbol` (an empty one if none)."""
        return self.positions.get(symbol) or Position(symbol)

    def deposit(self, amount: Decimal) -> None:
        """Cash in from the bank."""
        self.funds = self.funds.deposit(amount)

    def withdraw(self, amount: Decimal) -> None:
        """Cash out to the bank; raises LedgerError(INSUFFICIENT_FUNDS) beyond withdrawable."""
        self.funds = self.funds.withdraw(amount)

    def freeze_needed(
        self, order: Order, *, protective_price: Decimal | None = None, basis: FeeBasis = A_SHARE
    ) -> Decimal:
        """Cash an order must freeze: buys notional + fees at the limit (market buys at the
        protective price, e.g. limit up); sells a fee buffer at the lowest price they may trade.
        """
        price = order.price if order.type is OrderType.LIMIT else protective_price
        if order.side is Side.BUY:
            if price is None:
                raise ValueError("a market buy needs a protective price to freeze cash at")
            return estimate_buy_freeze(price, order.leaves_qty, self.fee_schedule, basis)
        return sell_fee_buffer(price or CENT, self.fee_schedule, basis)

    def reserve_for(
        self, order: Order, *, protective_price: Decimal | None = None, basis: FeeBasis = A_SHARE
    ) -> list[Rejection]:
        """Freeze what `order` needs (cash; for sells also the shares); [] on success.

        Prefer `accept`, which also records the frozen cash on the order. Whoever calls this alone
        must put `freeze_needed(...)` in the OrderAccepted, or `release_for` if it rejects anyway.
        """
        self._own(order)
        if order.status is not OrderStatus.PENDING_NEW:  # reserving twice would freeze twice
            raise ValueError(f"order {order.id} is {order.status}; only PENDING_NEW orders reserve")
        rejections: list[Rejection] = []
        funds, position = self.funds, self.position(order.symbol)
        try:
            funds = funds.freeze(self.freeze_needed(order, protective_price=protective_price, basis=basis))
        except LedgerError as error:
            rejections.append(Rejection(error.code, error.message, "quantity"))
        if order.side is Side.SELL:
            try:
                position = position.freeze(order.leaves_qty)
            except LedgerError as error:
                rejections.append(Rejection(error.code, error.message, "quantity"))
        if not rejections:
            self.funds = funds
            if order.side is Side.SELL:
                self.positions[order.symbol] = position
        return rejections

    def accept(
        self,
        order: Order,
        *,
        ts: datetime,
        protective_price: Decimal | None = None,
        basis: FeeBasis = A_SHARE,
    ) -> OrderAccepted | OrderRejected:
        """Reserve for a PENDING_NEW order and apply the outcome to it; returns the event to store."""
        if self.type is AccountType.FUTURES:
            self._own(order)
            return futures_account.accept(self, order, ts=ts, protective_price=protective_price)
        if order.purpose is not OrderPurpose.NORMAL:
            if self.type is not AccountType.MARGIN:
                raise ValueError(f"a {order.purpose} order needs a margin account")
            return credit_account.accept(self, order, ts=ts)
        return self.accept_as_cash(order, ts=ts, protective_price=protective_price, basis=basis)

    def accept_as_cash(
        self,
        order: Order,
        *,
        ts: datetime,
        protective_price: Decimal | None = None,
        basis: FeeBasis = A_SHARE,
    ) -> OrderAccepted | OrderRejected:
        """The cash-account rule: freeze notional + fees (buys) or the shares and a fee buffer (sells)."""
        event: OrderAccepted | OrderRejected
        rejections = self.reserve_for(order, protective_price=protective_price, basis=basis)
        if rejections:
            first = rejections[0]
            event = OrderRejected(order_id=order.id, ts=ts, code=first.code, reason=first.message)
        else:
            frozen = self.freeze_needed(order, protective_price=protective_price, basis=basis)
            event = OrderAccepted(order_id=order.id, ts=ts, frozen_cash=frozen)
        order.apply(event)
        return event

    def fees_for_fill(self, order: Order, price: Decimal, quantity: int, basis: FeeBasis = A_SHARE) -> Fees:
        """Fees of the next fill of `order` under this account's schedule (minimum once per order).
        Futures pay the contract's rate per fill (open, close-yesterday or close-today) as commission."""
        if self.type is AccountType.FUTURES:
            return futures_account.fill_fees(self, order, price, quantity)
        return self.fee_schedule.fill_fees(order.side, order.notional, price * quantity, basis)

    def book_fill(self, order: Order, fill: OrderFilled, *, t_plus: int = 1, cash_days: int = 1) -> Decimal:
        """Book one execution into funds, position and the order; returns the realised P&L of a
        sell fill (0 for buys). `t_plus=0` makes bought shares sellable at once (T+0 products);
        `cash_days=2` keeps sale proceeds unwithdrawable one settlement longer (Stock Connect, T+2).
        """
        self._own(order)
        if self.type is AccountType.FUTURES:
            return futures_account.book_fill(self, order, fill)
        if order.purpose is not OrderPurpose.NORMAL:
            realised = credit_account.book_fill(self, order, fill, t_plus=t_plus)
            self.realised_pnl += realised
            return realised
        order.check(fill)
        _, consumed, refund = cash_movement_of_fill(order, fill)
        price = fill.price if fill.settlement_rate == 1 else fill.price * fill.settlement_rate  # in CNY
        args = dict(price=price, quantity=fill.quantity, fees=fill.fees, frozen_portion=consumed, refund=refund)
        realised = ZERO
        if order.side is Side.BUY:
            funds, position = settle_buy_fill(self.funds, self.position(order.symbol), **args, t_plus=t_plus)
        else:
            funds, position, realised = settle_sell_fill(
                self.funds, self.position(order.symbol), **args, cash_days=cash_days
            )
        order.apply(fill)
        self.funds, self.positions[order.symbol] = funds, position
        self.realised_pnl += realised
        return realised

    def complete_fill(self, order: Order, fill: OrderFilled) -> OrderFilled:
        """`fill` as this account type books it: futures fills carry the domain's fee and the frozen
        cash they use; other accounts' fills are unchanged."""
        return futures_account.complete_fill(self, order, fill) if self.type is AccountType.FUTURES else fill

    def settle_futures(self, symbol: str, price: Decimal, *, final: bool) -> fut.Settlement | None:
        """Mark one contract to its settlement price (deliver it when `final`); None if not held."""
        return futures_account.settle(self, symbol, price, final=final)

    def create_etf(self, conversion: etf.Conversion) -> Decimal:
        """Book an ETF creation (domain/trading/etf.py priced it): the in-kind shares and the cash leave,
        the ETF shares arrive sellable today at their cost. Returns the cash paid."""
        positions = dict(self.positions)
        moved_cost = ZERO
        for line in conversion.lines:
            if line.shares:
                positions[line.symbol], cost = self.position(line.symbol).deliver(line.shares)
                moved_cost += cost
        cash = conversion.creation_cash
        funds = self.funds.pay(cash) if cash > 0 else self.funds.receive(-cash) if cash < 0 else self.funds
        cost = max(ZERO, moved_cost + cash)
        positions[conversion.etf] = self.position(conversion.etf).add_bought(conversion.etf_shares, cost, t_plus=0)
        self.funds, self.positions = funds, {s: p for s, p in positions.items() if p.quantity or p.frozen_quantity}
        self.realised_pnl += max(ZERO, -(moved_cost + cash))  # never a negative cost: a gain if cash came back
        return cash

    def redeem_etf(self, conversion: etf.Conversion, prices: dict[str, Decimal]) -> Decimal:
        """Book an ETF redemption: the ETF shares leave at their cost, the in-kind shares arrive sellable
        today, the cash moves. The ETF's cost less the cash received is spread over the shares by value
        at `prices` (a cash surplus over that cost is realised). Returns the cash received."""
        positions = dict(self.positions)
        positions[conversion.etf], etf_cost = self.position(conversion.etf).deliver(conversion.etf_shares)
        cash = conversion.redemption_cash
        funds = self.funds.receive(cash) if cash > 0 else self.funds.pay(-cash) if cash < 0 else self.funds
        in_kind = [line for line in conversion.lines if line.shares]
        value = sum((prices[line.symbol] * line.shares for line in in_kind), ZERO)
        to_spread = max(ZERO, etf_cost - cash)
        spread = ZERO
        for i, line in enumerate(in_kind):
            last = i == len(in_kind) - 1
            share = to_spread * prices[line.symbol] * line.shares / value
            cost = to_spread - spread if last else CENT * int(share / CENT)  # cents, the rest on the last line
            spread += cost
            positions[line.symbol] = self.position(line.symbol).add_bought(line.shares, cost, t_plus=0)
        self.funds, self.positions = funds, {s: p for s, p in positions.items() if p.quantity or p.frozen_quantity}
        self.realised_pnl += max(ZERO, cash - etf_cost)
        return cash

    def release_for(self, order: Order, quantity: int | None = None) -> None:
        """Give back what a working order holds for `quantity` unfilled shares (default: all left).

        A-share cancels take the whole remainder, so cash is released in full; a partial quantity
        only makes sense for the shares of a sell.
        """
        self._own(order)
        quantity = order.leaves_qty if quantity is None else quantity
        if self.type is AccountType.FUTURES:
            futures_account.release(self, order, quantity)
            return
        if order.purpose.takes_credit:
            credit_account.release(self, order, quantity)
            return
        if quantity > order.leaves_qty or (order.side is Side.BUY and quantity != order.leaves_qty):
            raise ValueError(f"cannot release {quantity} of order {order.id} with {order.leaves_qty} left")
        funds = self.funds.release(order.frozen_cash)
        position = self.positions.get(order.symbol)
        if order.side is Side.SELL:
            position = self.position(order.symbol).release(quantity)
        self.funds = funds
        if position is not None:
            self.positions[order.symbol] = position

    def close_order(self, order: Order, event: OrderCanceled | OrderExpired | OrderRejected) -> None:
        """End an order without (further) fills: release what it holds, then apply the event."""
        order.check(event)
        if order.status.is_working:  # a PENDING_NEW order holds nothing yet
            self.release_for(order)
        order.apply(event)

    def roll_day(self) -> None:
        """Daily settlement: today's buys become sellable, proceeds withdrawable, flat lines vanish."""
        self.funds = self.funds.roll_day()
        rolled = (p.roll_day() for p in self.positions.values())
        self.positions = {p.symbol: p for p in rolled if p.quantity or p.frozen_quantity}

    def _own(self, order: Order) -> None:
        if order.account_id != self.id:
            raise ValueError(f"order {order.id} belongs to account {order.account_id}, not {self.id}")


def settlement_due(last_settled_day: str | None, today: str) -> bool:
    """Whether an account last settled on `last_settled_day` owes the daily settlement (`Account.roll_day`)
    on `today`. A brand-new account (no day yet) owes none. The write side settles before the first
    change of the day; the read side shows an untouched account as that settlement will make it."""
    return bool(last_settled_day) and last_settled_day != today


def as_of_day(account: Account, last_settled_day: str | None, today: str) -> Account:
    """The account as it stands on `today`: settled if the settlement is due (the stored one is unchanged)."""
    if not settlement_due(last_settled_day, today):
        return account
    settled = Account(account.id, account.type, account.funds, dict(account.positions), account.fee_schedule)
    settled.realised_pnl = account.realised_pnl
    settled.futures = dict(account.futures)
    settled.credit, settled.terms = dict(account.credit), account.terms
    settled.roll_day()
    return settled
