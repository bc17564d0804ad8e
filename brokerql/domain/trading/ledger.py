"""Ledger values: funds and positions as immutable values whose operations return new values.

No operation may leave `available` or `sellable_quantity` below zero: it raises LedgerError instead,
with the same code the client sees (INSUFFICIENT_FUNDS, INSUFFICIENT_POSITION).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from brokerql.domain.rounding import average
from brokerql.domain.trading.fees import CENT, ZERO, Fees


class LedgerError(Exception):
    """A ledger operation refused; `code` is a stable payload code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _positive(amount: Decimal | int, what: str) -> None:
    if amount < 0:
        raise ValueError(f"{what} must not be negative, got {amount}")


@dataclass(frozen=True, slots=True)
class Funds:
    """Cash of one account: balance = available + frozen + margin.

    `unsettled` is today's sell proceeds: usable to buy at once, but withdrawable only after the
    daily settlement (A-share cash is T+0 for trading, T+1 for withdrawal). `margin` is cash held:
    margin of open futures positions, or a margin account's short-sale proceeds (0 otherwise).
    """

    balance: Decimal = ZERO
    available: Decimal = ZERO
    frozen: Decimal = ZERO
    unsettled: Decimal = ZERO
    margin: Decimal = ZERO

    @classmethod
    def of(cls, cash: Decimal) -> Funds:
        """Funds holding `cash`, all of it available."""
        return cls(cash, cash, ZERO)

    @property
    def withdrawable(self) -> Decimal:
        """Available cash that may leave the broker today."""
        return max(ZERO, self.available - self.unsettled)

    def deposit(self, amount: Decimal) -> Funds:
        """Cash in (bank transfer)."""
        _positive(amount, "deposit")
        return replace(self, balance=self.balance + amount, available=self.available + amount)

    def withdraw(self, amount: Decimal) -> Funds:
        """Cash out, limited to what is withdrawable."""
        _positive(amount, "withdrawal")
        if amount > self.withdrawable:
            raise LedgerError("INSUFFICIENT_FUNDS", f"withdrawable {self.withdrawable}, asked {amount}")
        return replace(self, balance=self.balance - amount, available=self.available - amount)

    def freeze(self, amount: Decimal) -> Funds:
        """Set cash aside for an order."""
        _positive(amount, "freeze")
        if amount > self.available:
            raise LedgerError("INSUFFICIENT_FUNDS", f"available {self.available}, needs {amount}")
        return replace(self, available=self.available - amount, frozen=self.frozen + amount)

    def release(self, amount: Decimal) -> Funds:
        """Give frozen cash back to available (order finished without using it)."""
        _positive(amount, "release")
        if amount > self.frozen:
            raise LedgerError("LEDGER_INCONSISTENT", f"release {amount} exceeds frozen {self.frozen}")
        return replace(self, available=self.available + amount, frozen=self.frozen - amount)

    def settle(self, delta: Decimal, consumed: Decimal, refund: Decimal = ZERO) -> Funds:
        """Book a fill: balance moves by `delta`; `consumed` of the frozen cash pays for it, any
        remaining cost comes out of available; `refund` goes from frozen back to available.
        """
        _positive(consumed, "consumed")
        _positive(refund, "refund")
        if consumed + refund > self.frozen:
            raise LedgerError("LEDGER_INCONSISTENT", f"uses {consumed + refund} of frozen {self.frozen}")
        available = self.available + delta + consumed + refund
        if available < 0:
            raise LedgerError("INSUFFICIENT_FUNDS", f"fill short by {-available}")
        return replace(
            self,
            balance=self.balance + delta,
            available=available,
            frozen=self.frozen - consumed - refund,
            unsettled=self.unsettled + max(ZERO, delta),
        )

    def book_margined(
        self, delta: Decimal, margin_delta: Decimal, consumed: Decimal = ZERO, refund: Decimal = ZERO
    ) -> Funds:
        """A futures fill: balance moves by `delta` (P&L - fees), `margin_delta` moves between available
        and margin, `consumed` of the frozen cash pays for it and `refund` goes back to available."""
        _positive(consumed, "consumed")
        _positive(refund, "refund")
        if consumed + refund > self.frozen:
            raise LedgerError("LEDGER_INCONSISTENT", f"uses {consumed + refund} of frozen {self.frozen}")
        if self.margin + margin_delta < 0:
            raise LedgerError("LEDGER_INCONSISTENT", f"releases {-margin_delta} of margin {self.margin}")
        available = self.available + delta - margin_delta + consumed + refund
        if available < 0:
            raise LedgerError("INSUFFICIENT_FUNDS", f"fill short by {-available}")
        return replace(
            self,
            balance=self.balance + delta,
            available=available,
            frozen=self.frozen - consumed - refund,
            margin=self.margin + margin_delta,
        )

    def receive(self, amount: Decimal) -> Funds:
        """Cash in from a conversion (an ETF redemption's cash); usable at once."""
        _positive(amount, "receipt")
        return replace(self, balance=self.balance + amount, available=self.available + amount)

    def pay(self, amount: Decimal) -> Funds:
        """Cash leaves the account to settle a debt (a margin repayment or interest)."""
        _positive(amount, "payment")
        if amount > self.available:
            raise LedgerError("INSUFFICIENT_FUNDS", f"available {self.available}, needs {amount}")
        return replace(self, balance=self.balance - amount, available=self.available - amount)

    def mark(self, variation: Decimal, margin_delta: Decimal) -> Funds:
        """A daily futures settlement: the variation margin moves cash, the margin is re-struck.

        Unlike a fill this may leave `available` below zero: that deficit is a margin call (追加保证金),
        to be met by a deposit or by closing positions; new opens are refused meanwhile (no cash to freeze).
        """
        return replace(
            self,
            balance=self.balance + variation,
            available=self.available + variation - margin_delta,
            margin=self.margin + margin_delta,
        )

    def roll_day(self) -> Funds:
        """Daily settlement: today's proceeds become withdrawable."""
        return replace(self, unsettled=ZERO)


@dataclass(frozen=True, slots=True)
class Position:
    """Holding of one symbol: quantity = sellable + frozen (by sell orders) + bought today (T+1).

    `cost` is the total cost of what is held, buy fees included (average cost method).
    """

    symbol: str
    quantity: int = 0
    sellable_quantity: int = 0
    frozen_quantity: int = 0
    cost: Decimal = ZERO
    bought_today: int = 0

    @classmethod
    def settled(cls, symbol: str, quantity: int, cost: Decimal) -> Position:
        """A holding bought on earlier days, all of it sellable."""
        return cls(symbol, quantity, quantity, 0, cost, 0)

    @property
    def avg_cost(self) -> Decimal | None:
        """Cost per share for display (`rounding.average`); None when flat."""
        if self.quantity == 0:
            return None
        return average(self.cost / self.quantity)

    def market_value(self, price: Decimal) -> Decimal:
        """Value at `price` (the last price, or the close for statements)."""
        return price * self.quantity

    def unrealised_pnl(self, price: Decimal) -> Decimal:
        """Gain if everything were sold at `price` before fees."""
        return self.market_value(price) - self.cost

    def freeze(self, quantity: int) -> Position:
        """Set shares aside for a sell order."""
        _positive(quantity, "quantity")
        if quantity > self.sellable_quantity:
            hint = " (shares bought today become sellable tomorrow)" if self.bought_today else ""
            raise LedgerError("INSUFFICIENT_POSITION", f"sellable {self.sellable_quantity}, needs {quantity}{hint}")
        return replace(
            self,
            sellable_quantity=self.sellable_quantity - quantity,
            frozen_quantity=self.frozen_quantity + quantity,
        )

    def release(self, quantity: int) -> Position:
        """Give frozen shares back (sell order canceled, expired or rejected)."""
        _positive(quantity, "quantity")
        if quantity > self.frozen_quantity:
            raise LedgerError("LEDGER_INCONSISTENT", f"release {quantity} > frozen {self.frozen_quantity}")
        return replace(
            self,
            sellable_quantity=self.sellable_quantity + quantity,
            frozen_quantity=self.frozen_quantity - quantity,
        )

    def add_bought(self, quantity: int, cost: Decimal, *, t_plus: int = 1) -> Position:
        """Shares a buy fill delivered, sellable today only for T+0 instruments."""
        _positive(quantity, "quantity")
        later = quantity if t_plus > 0 else 0
        return replace(
            self,
            quantity=self.quantity + quantity,
            sellable_quantity=self.sellable_quantity + quantity - later,
            bought_today=self.bought_today + later,
            cost=self.cost + cost,
        )

    def remove_sold(self, quantity: int) -> tuple[Position, Decimal]:
        """Shares a sell fill took out of the frozen ones; returns the position and the cost removed.

        The cost leaves pro rata (average cost), rounded to cents, except that selling the last
        share takes all the remaining cost so a flat position never carries a residue.
        """
        _positive(quantity, "quantity")
        if quantity > self.frozen_quantity:
            raise LedgerError("LEDGER_INCONSISTENT", f"sold {quantity} > frozen {self.frozen_quantity}")
        if quantity == self.quantity:
            removed = self.cost
        else:
            removed = (self.cost * quantity / self.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        position = replace(
            self,
            quantity=self.quantity - quantity,
            frozen_quantity=self.frozen_quantity - quantity,
            cost=self.cost - removed,
        )
        return position, removed

    def deliver(self, quantity: int) -> tuple[Position, Decimal]:
        """Shares leaving for an ETF creation or redemption: sellable ones first, then today's buys (the
        SSE lets both be delivered); returns the position and the cost removed (as `remove_sold`)."""
        _positive(quantity, "quantity")
        if quantity > self.sellable_quantity + self.bought_today:
            raise LedgerError(
                "INSUFFICIENT_POSITION", f"deliverable {self.sellable_quantity + self.bought_today}, needs {quantity}"
            )
        from_sellable = min(quantity, self.sellable_quantity)
        moved = replace(
            self,
            sellable_quantity=self.sellable_quantity - from_sellable,
            bought_today=self.bought_today - (quantity - from_sellable),
            frozen_quantity=self.frozen_quantity + quantity,
        )
        return moved.remove_sold(quantity)

    def roll_day(self) -> Position:
        """Daily settlement: what was bought today becomes sellable (T+1)."""
        return replace(self, sellable_quantity=self.sellable_quantity + self.bought_today, bought_today=0)


def settle_buy_fill(
    funds: Funds,
    position: Position,
    *,
    price: Decimal,
    quantity: int,
    fees: Fees,
    frozen_portion: Decimal,
    refund: Decimal = ZERO,
    t_plus: int = 1,
) -> tuple[Funds, Position]:
    """A buy fill: pay notional + fees out of `frozen_portion` (the rest from available), release
    `refund` when the order finishes, and add the shares at that cost (sellable per `t_plus`).
    """
    cost = price * quantity + fees.total
    return funds.settle(-cost, frozen_portion, refund), position.add_bought(quantity, cost, t_plus=t_plus)


def settle_sell_fill(
    funds: Funds,
    position: Position,
    *,
    price: Decimal,
    quantity: int,
    fees: Fees,
    frozen_portion: Decimal = ZERO,
    refund: Decimal = ZERO,
) -> tuple[Funds, Position, Decimal]:
    """A sell fill: take the frozen shares out, credit proceeds - fees (a fee shortfall is paid from
    `frozen_portion` of the sell's fee buffer), and return the realised P&L at average cost.
    """
    proceeds = price * quantity - fees.total
    position, removed = position.remove_sold(quantity)
    return funds.settle(proceeds, frozen_portion, refund), position, proceeds - removed
