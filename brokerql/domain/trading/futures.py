"""Index futures (C8): contract specs, margin, fees, net positions, daily mark-to-market and delivery.

Pure and exact (Decimal). The conventions are CFFEX's for the CSI 300 future (IF):

- Notional of q contracts at price p is p x q x multiplier (300 for IF); the tick is 0.2 index points.
- Margin is notional x the contract's margin rate (CFFEX's minimum for IF is 12%; a broker may add
  more). It is taken when a position opens and re-struck at every settlement price.
- Daily settlement is mark-to-market (逐日盯市): each position's gain since the last settlement price
  (or since its open price, for lots opened today) moves cash, and its basis becomes the settlement
  price. So closing a lot held overnight realises only the move since the last settlement.
- Fees are a rate of notional: opening and closing yesterday's lots 0.023‰, closing today's lots
  (平今) ten times that, 0.23‰ (CFFEX's fee table for IF since 2023). A close takes yesterday's lots
  first (先开先平), so the cheaper fee applies as far as it can.
- The contract expires on the third Friday of its month (CFFEX rule for IF); what is still open is
  settled in cash at the final settlement price (交割结算价), with a delivery fee of 0.01% of notional.

Positions are net: one direction per contract. An order on the position's side opens more; an order
on the other side closes, at most the closable quantity. Opens in the other direction are refused
(FUTURES_OPPOSITE_POSITION) while a position or working opens exist.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection, Side

ZERO = Decimal(0)
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Money as the clearing house books it: cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _q4(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


class Direction(StrEnum):
    """Which way a futures position is held."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1

    @classmethod
    def opened_by(cls, side: Side) -> Direction:
        return cls.LONG if side is Side.BUY else cls.SHORT


@dataclass(frozen=True, slots=True)
class FuturesSpec:
    """One contract's terms: multiplier, tick, margin rate, fee rates, position limit and expiry."""

    symbol: str
    multiplier: int = 300
    tick: Decimal = Decimal("0.2")
    margin_rate: Decimal = Decimal("0.12")
    open_fee_rate: Decimal = Decimal("0.000023")
    close_yesterday_fee_rate: Decimal = Decimal("0.000023")
    close_today_fee_rate: Decimal = Decimal("0.00023")
    delivery_fee_rate: Decimal = Decimal("0.0001")
    # CFFEX: a non-hedging client may hold at most 5,000 contracts of one IF contract month.
    position_limit: int = 5000

    @property
    def expiry(self) -> date:
        """Last trading day: the third Friday of the contract month (IF2612 -> 2026-12-18)."""
        return expiry_of(self.symbol)

    def notional(self, price: Decimal, quantity: int) -> Decimal:
        return price * quantity * self.multiplier

    def margin(self, price: Decimal, quantity: int) -> Decimal:
        """Margin held for `quantity` contracts at `price`, in cents (rounded up never exceeds by > 1 cent)."""
        return cents(self.notional(price, quantity) * self.margin_rate)

    def fee(self, rate: Decimal, price: Decimal, quantity: int) -> Decimal:
        return cents(self.notional(price, quantity) * rate)


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month."""
    first = date(year, month, 1)
    offset = (calendar.FRIDAY - first.weekday()) % 7
    return date(year, month, 1 + offset + 14)


def expiry_of(symbol: str) -> date:
    """Expiry of a CFFEX index future named PRODUCT+YYMM (IF2612: December 2026)."""
    yymm = symbol[-4:]
    if not yymm.isdigit():
        raise ValueError(f"{symbol} is not a dated futures contract")
    return third_friday(2000 + int(yymm[:2]), int(yymm[2:]))


@dataclass(frozen=True, slots=True)
class FuturesPosition:
    """A net position in one contract.

    `yd_quantity` lots were held over a settlement and carry `settle_price` as their basis;
    `td_quantity` lots were opened today for `td_cost` (sum of open price x quantity, no multiplier).
    `frozen_quantity` is held by working closes, `pending_open` by working opens; `margin` is held
    cash. `open_cost` (sum of open prices x quantity) is kept only to show the average open price.
    """

    symbol: str
    direction: Direction
    yd_quantity: int = 0
    td_quantity: int = 0
    frozen_quantity: int = 0
    pending_open: int = 0
    settle_price: Decimal = ZERO
    td_cost: Decimal = ZERO
    open_cost: Decimal = ZERO
    margin: Decimal = ZERO

    @property
    def quantity(self) -> int:
        return self.yd_quantity + self.td_quantity

    @property
    def closable(self) -> int:
        return self.quantity - self.frozen_quantity

    @property
    def is_empty(self) -> bool:
        return not (self.quantity or self.frozen_quantity or self.pending_open)

    @property
    def average_open_price(self) -> Decimal | None:
        return None if not self.quantity else self.open_cost / self.quantity

    def basis_value(self) -> Decimal:
        """Sum of each lot's basis price (settlement or open price) x quantity."""
        return self.settle_price * self.yd_quantity + self.td_cost

    def unrealised_pnl(self, price: Decimal, spec: FuturesSpec) -> Decimal:
        """Gain since the last settlement (or open) if all were closed at `price`: the mark-to-market
        P&L that the next settlement would move into cash, before fees."""
        return (price * self.quantity - self.basis_value()) * spec.multiplier * self.direction.sign


@dataclass(frozen=True, slots=True)
class FillBooking:
    """What one futures fill does: to the position, to cash and to the order's frozen cash."""

    position: FuturesPosition
    fee: Decimal
    realised: Decimal  # close fills: P&L against each lot's basis, before fees
    margin_delta: Decimal  # + taken for opens, - released for closes
    frozen_used: Decimal  # the part of the order's frozen cash this fill uses


def is_opening(position: FuturesPosition | None, side: Side) -> bool:
    """An order on the position's side (or with no position) opens; the other side closes."""
    return position is None or position.direction is Direction.opened_by(side)


def open_freeze(spec: FuturesSpec, price: Decimal, quantity: int) -> Decimal:
    """Cash an opening order holds: the margin and the open fee at its (worst) price."""
    return spec.margin(price, quantity) + spec.fee(spec.open_fee_rate, price, quantity)


def close_freeze(spec: FuturesSpec, price: Decimal, quantity: int) -> Decimal:
    """Cash a closing order holds: the highest fee it could owe (all of it closing today's lots)."""
    return spec.fee(spec.close_today_fee_rate, price, quantity)


def accept_order(
    position: FuturesPosition | None, spec: FuturesSpec, side: Side, price: Decimal, quantity: int, today: date
) -> tuple[FuturesPosition, Decimal] | Rejection:
    """The position after accepting an order and the cash to freeze for it, or why it is refused."""
    if today > spec.expiry:
        return Rejection("CONTRACT_EXPIRED", f"{spec.symbol} expired on {spec.expiry}.", "symbol")
    if is_opening(position, side):
        held = position or FuturesPosition(spec.symbol, Direction.opened_by(side))
        if held.quantity + held.pending_open + quantity > spec.position_limit:
            return Rejection(
                "POSITION_LIMIT",
                f"At most {spec.position_limit} contracts of {spec.symbol}; you hold or are opening "
                f"{held.quantity + held.pending_open}.",
                "quantity",
            )
        return replace(held, pending_open=held.pending_open + quantity), open_freeze(spec, price, quantity)
    assert position is not None
    if position.pending_open:
        return Rejection(
            "FUTURES_OPPOSITE_POSITION",
            f"Opens of {spec.symbol} are working; cancel them before trading the other way.",
            "side",
        )
    if quantity > position.closable:
        return Rejection(
            "INSUFFICIENT_POSITION",
            f"A close of {spec.symbol} may cover at most {position.closable} {position.direction} contracts "
            "(positions are net: close before opening the other way).",
            "quantity",
        )
    frozen = replace(position, frozen_quantity=position.frozen_quantity + quantity)
    return frozen, close_freeze(spec, price, quantity)


def release_order(position: FuturesPosition, side: Side, quantity: int) -> FuturesPosition:
    """What a cancelled or expired remainder of `quantity` gives back to the position."""
    if is_opening(position, side):
        if quantity > position.pending_open:
            raise ValueError(f"release {quantity} opens of {position.symbol}, {position.pending_open} pending")
        return replace(position, pending_open=position.pending_open - quantity)
    if quantity > position.frozen_quantity:
        raise ValueError(f"release {quantity} closes of {position.symbol}, {position.frozen_quantity} frozen")
    return replace(position, frozen_quantity=position.frozen_quantity - quantity)


def fill_fee(position: FuturesPosition | None, spec: FuturesSpec, side: Side, price: Decimal, quantity: int) -> Decimal:
    """The fee of one fill: open rate, or close-yesterday for yesterday's lots then close-today."""
    if is_opening(position, side):
        return spec.fee(spec.open_fee_rate, price, quantity)
    assert position is not None
    yd = min(quantity, position.yd_quantity)
    return spec.fee(spec.close_yesterday_fee_rate, price, yd) + spec.fee(
        spec.close_today_fee_rate, price, quantity - yd
    )


def book_fill(position: FuturesPosition, spec: FuturesSpec, side: Side, price: Decimal, quantity: int) -> FillBooking:
    """Book one fill of an accepted order (its quantity is pending or frozen on `position`)."""
    fee = fill_fee(position, spec, side, price, quantity)
    if is_opening(position, side):
        if quantity > position.pending_open:
            raise ValueError(f"open fill of {quantity} with {position.pending_open} pending")
        margin = spec.margin(price, quantity)
        opened = replace(
            position,
            pending_open=position.pending_open - quantity,
            td_quantity=position.td_quantity + quantity,
            td_cost=position.td_cost + price * quantity,
            open_cost=position.open_cost + price * quantity,
            margin=position.margin + margin,
        )
        return FillBooking(opened, fee, ZERO, margin, margin + fee)
    if quantity > position.frozen_quantity:
        raise ValueError(f"close fill of {quantity} with {position.frozen_quantity} frozen")
    yd = min(quantity, position.yd_quantity)
    td = quantity - yd
    # Pro-rata basis of today's lots leaving, to 4 decimals (a stored figure; P&L is in cents anyway)
    td_basis = position.td_cost if td == position.td_quantity else _q4(position.td_cost * td / position.td_quantity)
    basis = position.settle_price * yd + td_basis
    realised = cents((price * quantity - basis) * spec.multiplier * position.direction.sign)
    left = position.quantity - quantity
    released = position.margin if left == 0 else cents(position.margin * quantity / position.quantity)
    open_removed = position.open_cost if left == 0 else _q4(position.open_cost * quantity / position.quantity)
    closed = replace(
        position,
        yd_quantity=position.yd_quantity - yd,
        td_quantity=position.td_quantity - td,
        td_cost=position.td_cost - td_basis,
        open_cost=position.open_cost - open_removed,
        frozen_quantity=position.frozen_quantity - quantity,
        margin=position.margin - released,
    )
    return FillBooking(closed, fee, realised, -released, fee)


@dataclass(frozen=True, slots=True)
class Settlement:
    """One position's daily settlement: the cash it moves and the margin it now needs."""

    position: FuturesPosition | None  # None: delivered (expired) and gone
    variation: Decimal  # mark-to-market gain (+) or loss (-) moved into cash
    margin_delta: Decimal  # change of the margin held (+ takes more from available)
    fee: Decimal  # delivery fee at expiry
    delivered: int  # contracts settled in cash at expiry


def settle(position: FuturesPosition, spec: FuturesSpec, price: Decimal, *, final: bool = False) -> Settlement:
    """Mark `position` to the settlement `price`; with `final`, deliver it in cash at that price.

    Variation = (price x quantity - basis value) x multiplier x sign, in cents. All lots then carry
    `price` as their basis (today's lots become yesterday's), and the margin is struck at `price`.
    Working orders keep what they hold (the venue ends them at the close anyway).
    """
    variation = cents(position.unrealised_pnl(price, spec))
    if final:
        fee = spec.fee(spec.delivery_fee_rate, price, position.quantity)
        return Settlement(None, variation, -position.margin, fee, position.quantity)
    margin = spec.margin(price, position.quantity)
    marked = replace(
        position,
        yd_quantity=position.quantity,
        td_quantity=0,
        td_cost=ZERO,
        settle_price=price,
        margin=margin,
    )
    return Settlement(marked, variation, margin - position.margin, ZERO, 0)


def is_final_settlement(spec: FuturesSpec, day: date) -> bool:
    """A settlement on (or, if missed, after) the last trading day delivers the contract."""
    return day >= spec.expiry


FUTURES_SPECS: dict[str, FuturesSpec] = {"IF2612": FuturesSpec("IF2612")}


def spec_of(symbol: str, multiplier: int = 300) -> FuturesSpec:
    """The demo's terms of a contract (IF defaults for any dated contract not listed)."""
    return FUTURES_SPECS.get(symbol) or FuturesSpec(symbol, multiplier=multiplier)


def risk_degree(margin: Decimal, equity: Decimal) -> Decimal | None:
    """Margin in use over equity (风险度), 4 decimals: above 1 the account owes a margin call."""
    if equity <= 0:
        return None
    return (margin / equity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
