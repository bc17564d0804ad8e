"""Baskets (C4, 组合委托): a client's named list of legs, scaled into orders, and the runs they become.

Pure rules, no I/O:

- A basket's legs give shares per basket unit (`quantity`) or a share of the basket's value
  (`weight`); all legs of one basket use the same kind (a leg giving neither takes the basket's
  `default_quantity`).
- Scaling (`scale_legs`): by a multiplier (quantity legs x multiplier; weight legs share
  multiplier x `default_amount`) or to a target amount at the legs' prices. Every leg is rounded
  DOWN to its board's lot (STAR: 200, then steps of 1), so a basket never buys more than asked;
  a leg that rounds to nothing is reported per leg (`LOT_SIZE`).
- Rejection policy (`REJECTION_POLICY`): all or nothing. A basket is one decision about a mix of
  holdings, and half a mix is a position the client never chose: when any leg would be refused
  (price limit, halt, odd lot after rounding, funds or shares, counted together), no leg is sent
  and every leg's reasons come back. A top-up follows the same rule for the legs it resubmits.
- A run's status and completion come from its legs' orders (`run_progress`); what a run allows
  next is a literal table (`RUN_ACTIONS`), like the order transition table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection, Side
from brokerql.domain.trading.orders import OrderStatus
from brokerql.domain.trading.price_levels import PriceLevel

ZERO = Decimal(0)
MAX_LEGS = 50
MAX_NAME = 64
MAX_DESCRIPTION = 500

REJECTION_POLICY = "ALL_OR_NOTHING"


@dataclass(frozen=True, slots=True)
class BasketLeg:
    """One line of a basket: shares per basket unit, or a weight of its value (exactly one, or neither
    to take the basket's default quantity)."""

    symbol: str
    quantity: int | None = None
    weight: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Basket:
    """A client's basket as stored: name, legs and the defaults a submission falls back on."""

    id: str
    client_id: str
    name: str
    legs: tuple[BasketLeg, ...]
    default_quantity: int | None = None
    default_amount: Decimal | None = None
    description: str = ""

    @property
    def by_weight(self) -> bool:
        """Whether the legs share a value by weight (else they give shares per unit)."""
        return any(leg.weight is not None for leg in self.legs)


def validate_basket(
    name: str,
    legs: Sequence[BasketLeg],
    known_symbols: Mapping[str, object],
    *,
    default_quantity: int | None,
    default_amount: Decimal | None,
    description: str = "",
) -> list[Rejection]:
    """Why a basket definition cannot be stored ([] when it can)."""
    errors: list[Rejection] = []
    if not name.strip() or len(name) > MAX_NAME:
        errors.append(Rejection("BAD_NAME", f"A basket needs a name of 1 to {MAX_NAME} characters.", "name"))
    if len(description) > MAX_DESCRIPTION:
        errors.append(Rejection("BAD_DESCRIPTION", f"At most {MAX_DESCRIPTION} characters.", "description"))
    if not 1 <= len(legs) <= MAX_LEGS:
        errors.append(Rejection("BAD_LEGS", f"A basket has 1 to {MAX_LEGS} legs.", "legs"))
    if default_quantity is not None and default_quantity <= 0:
        errors.append(Rejection("BAD_QUANTITY", "defaultQuantity must be positive.", "defaultQuantity"))
    if default_amount is not None and default_amount <= 0:
        errors.append(Rejection("BAD_AMOUNT", "defaultAmount must be positive.", "defaultAmount"))
    seen: set[str] = set()
    weighted = [leg.weight is not None for leg in legs]
    if any(weighted) and not all(weighted):
        errors.append(Rejection("MIXED_LEGS", "Give every leg a weight, or none (quantities).", "legs"))
    for i, leg in enumerate(legs):
        field = f"legs[{i}]"
        if leg.symbol not in known_symbols:
            errors.append(Rejection("UNKNOWN_SYMBOL", f"No instrument {leg.symbol}.", field))
        if leg.symbol in seen:
            errors.append(Rejection("DUPLICATE_LEG", f"{leg.symbol} appears twice.", field))
        seen.add(leg.symbol)
        if leg.quantity is not None and leg.weight is not None:
            errors.append(Rejection("BAD_LEG", "A leg gives a quantity or a weight, not both.", field))
        if leg.quantity is not None and leg.quantity <= 0:
            errors.append(Rejection("BAD_QUANTITY", "A leg's quantity must be positive.", field))
        if leg.weight is not None and leg.weight <= 0:
            errors.append(Rejection("BAD_WEIGHT", "A leg's weight must be positive.", field))
        if leg.quantity is None and leg.weight is None and default_quantity is None:
            message = "Give the leg a quantity or a weight, or the basket a defaultQuantity."
            errors.append(Rejection("BAD_LEG", message, field))
    return errors


@dataclass(frozen=True, slots=True)
class LotRule:
    """How a board sizes orders: the first lot, then steps (STAR buys: 200, then 1)."""

    lot_size: int
    increment: int | None = None

    def round_down(self, quantity: Decimal | int) -> int:
        """The largest valid quantity not above `quantity` (0 when below one lot)."""
        whole = int(Decimal(quantity).to_integral_value(rounding=ROUND_FLOOR))
        step = self.increment or self.lot_size
        if whole < self.lot_size:
            return 0
        return self.lot_size + (whole - self.lot_size) // step * step


@dataclass(frozen=True, slots=True)
class Scaling:
    """How a submission sizes a basket: a multiplier of its units, or a target amount of money."""

    multiplier: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ScaledLeg:
    """A leg sized for one submission: the exact (unrounded) target and the lot-rounded quantity."""

    symbol: str
    exact: Decimal
    quantity: int
    price: Decimal | None

    @property
    def rejection(self) -> Rejection | None:
        """LOT_SIZE when the leg rounds to nothing (it would be an odd lot)."""
        if self.quantity > 0:
            return None
        shares = f"{self.exact.normalize():f}"
        return Rejection("LOT_SIZE", f"{self.symbol}: {shares} shares round to less than one lot.", "quantity")


def scaling_rejection(basket: Basket, scaling: Scaling) -> Rejection | None:
    """Why `scaling` cannot size `basket` (None when it can)."""
    if scaling.multiplier is not None and scaling.amount is not None:
        return Rejection("BAD_SCALING", "Give a multiplier or an amount, not both.", "multiplier")
    if scaling.multiplier is not None and scaling.multiplier <= 0:
        return Rejection("BAD_SCALING", "The multiplier must be positive.", "multiplier")
    if scaling.amount is not None and scaling.amount <= 0:
        return Rejection("BAD_SCALING", "The amount must be positive.", "amount")
    if basket.by_weight and scaling.amount is None and basket.default_amount is None:
        return Rejection("BAD_SCALING", "A basket of weights needs an amount (or a defaultAmount).", "amount")
    return None


def scale_legs(
    basket: Basket,
    scaling: Scaling,
    prices: Mapping[str, Decimal],
    lots: Mapping[str, LotRule],
) -> list[ScaledLeg]:
    """Each leg's quantity for this submission, rounded down to its lot (see the module notes).

    `prices` are the legs' order prices; scaling to an amount needs every one of them (the caller
    prices the legs first). Check `scaling_rejection` before calling.
    """
    exact = _exact_targets(basket, scaling, prices)
    return [
        ScaledLeg(leg.symbol, exact[leg.symbol], lots[leg.symbol].round_down(exact[leg.symbol]), prices.get(leg.symbol))
        for leg in basket.legs
    ]


def _exact_targets(basket: Basket, scaling: Scaling, prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    if basket.by_weight:
        amount = scaling.amount
        if amount is None:
            amount = (basket.default_amount or ZERO) * (scaling.multiplier or 1)
        total_weight = sum((leg.weight or ZERO for leg in basket.legs), ZERO)
        return {leg.symbol: amount * (leg.weight or ZERO) / total_weight / prices[leg.symbol] for leg in basket.legs}
    units = {leg.symbol: Decimal(leg.quantity or basket.default_quantity or 0) for leg in basket.legs}
    if scaling.amount is None:
        multiplier = scaling.multiplier if scaling.multiplier is not None else Decimal(1)
        return {symbol: quantity * multiplier for symbol, quantity in units.items()}
    unit_value = sum((quantity * prices[symbol] for symbol, quantity in units.items()), ZERO)
    return {symbol: quantity * scaling.amount / unit_value for symbol, quantity in units.items()}


# -- runs ---------------------------------------------------------------------------------------------


class RunStatus(StrEnum):
    """Where a basket run stands, read from its legs' orders."""

    WORKING = "WORKING"  # at least one leg has an order on the book
    FILLED = "FILLED"  # every leg traded its full quantity
    STOPPED = "STOPPED"  # nothing working, something unfilled (cancelled, expired): a top-up may resume it


class RunAction(StrEnum):
    CANCEL = "CANCEL"
    TOP_UP = "TOP_UP"


# What a client may do with a run in each status. A top-up of a WORKING run resubmits only the legs
# that have stopped (a working leg's remainder is still on the book).
RUN_ACTIONS: dict[RunStatus, frozenset[RunAction]] = {
    RunStatus.WORKING: frozenset({RunAction.CANCEL, RunAction.TOP_UP}),
    RunStatus.STOPPED: frozenset({RunAction.TOP_UP}),
    RunStatus.FILLED: frozenset(),
}


def refuse_action(status: RunStatus, action: RunAction) -> Rejection | None:
    """RUN_FINISHED / NOTHING_WORKING when the table does not allow `action` now."""
    if action in RUN_ACTIONS[status]:
        return None
    if status is RunStatus.FILLED:
        return Rejection("RUN_FILLED", "Every leg of this run has filled.", "id")
    return Rejection("NOTHING_WORKING", "No leg of this run is working.", "id")


@dataclass(frozen=True, slots=True)
class LegOrder:
    """What a run needs to know of one of its orders."""

    id: str
    symbol: str
    status: OrderStatus
    quantity: int
    cum_qty: int
    leaves_qty: int
    notional: Decimal
    created_at: datetime  # a leg's orders are listed in placing order (the id breaks ties)


@dataclass(frozen=True, slots=True)
class RunLegTarget:
    """A leg as submitted: its symbol, target quantity and the price it was sized at."""

    symbol: str
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class LegProgress:
    symbol: str
    quantity: int
    price: Decimal
    filled_quantity: int
    filled_value: Decimal
    working_quantity: int
    orders: tuple[LegOrder, ...]

    @property
    def remainder(self) -> int:
        """Shares neither filled nor still on the book: what a top-up would resubmit."""
        return max(0, self.quantity - self.filled_quantity - self.working_quantity)

    @property
    def latest(self) -> LegOrder | None:
        return self.orders[-1] if self.orders else None


@dataclass(frozen=True, slots=True)
class RunProgress:
    status: RunStatus
    legs: tuple[LegProgress, ...]

    @property
    def quantity(self) -> int:
        return sum(leg.quantity for leg in self.legs)

    @property
    def filled_quantity(self) -> int:
        return sum(min(leg.filled_quantity, leg.quantity) for leg in self.legs)

    @property
    def value(self) -> Decimal:
        """The run's value at the prices it was sized at."""
        return sum((leg.price * leg.quantity for leg in self.legs), ZERO)

    @property
    def filled_value(self) -> Decimal:
        return sum((leg.filled_value for leg in self.legs), ZERO)

    @property
    def filled_ratio(self) -> Decimal:
        """Filled shares over target shares, 0..1."""
        return Decimal(self.filled_quantity) / self.quantity if self.quantity else ZERO

    @property
    def value_ratio(self) -> Decimal:
        """Traded value over the run's value at its sizing prices (buys filled below their limit stay under 1)."""
        return self.filled_value / self.value if self.value else ZERO


def run_progress(targets: Sequence[RunLegTarget], orders: Sequence[LegOrder]) -> RunProgress:
    """Completion per leg and in total, and the run's status, from its legs' orders."""
    legs = []
    for target in targets:
        mine = tuple(sorted((o for o in orders if o.symbol == target.symbol), key=lambda o: (o.created_at, o.id)))
        legs.append(
            LegProgress(
                symbol=target.symbol,
                quantity=target.quantity,
                price=target.price,
                filled_quantity=sum(o.cum_qty for o in mine),
                filled_value=sum((o.notional for o in mine), ZERO),
                working_quantity=sum(o.leaves_qty for o in mine if _on_the_book(o.status)),
                orders=mine,
            )
        )
    if any(leg.working_quantity for leg in legs):
        status = RunStatus.WORKING
    elif all(leg.filled_quantity >= leg.quantity for leg in legs):
        status = RunStatus.FILLED
    else:
        status = RunStatus.STOPPED
    return RunProgress(status, tuple(legs))


def _on_the_book(status: OrderStatus) -> bool:
    return status.is_working or status is OrderStatus.PENDING_NEW


def top_up_quantities(progress: RunProgress, lots: Mapping[str, LotRule]) -> dict[str, int]:
    """Each stopped leg's remainder, rounded down to its lot (a remainder under one lot stays unfilled:
    buying it would need an odd lot the exchange refuses)."""
    quantities = {leg.symbol: lots[leg.symbol].round_down(leg.remainder) for leg in progress.legs if leg.remainder}
    return {symbol: quantity for symbol, quantity in quantities.items() if quantity}


# -- commands -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DefineBasket:
    """Create a basket, or replace an existing one's definition (`basket_id`)."""

    name: str
    legs: tuple[BasketLeg, ...]
    default_quantity: int | None = None
    default_amount: Decimal | None = None
    description: str = ""
    basket_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitBasket:
    """Buy or sell a basket in an account, sized by `scaling`, priced at a quote level or per leg.
    With `preview`, only say what would happen."""

    basket_id: str
    account_id: str
    side: Side
    scaling: Scaling
    price_level: PriceLevel | None = None
    prices: tuple[tuple[str, Decimal], ...] = ()
    preview: bool = False


def pricing_rejection(basket: Basket, command: SubmitBasket) -> list[Rejection]:
    """A submission is priced at one quote level for every leg, or with a limit for each leg."""
    given = dict(command.prices)
    if command.price_level is not None and given:
        return [Rejection("BAD_PRICE", "Give a priceLevel or prices, not both.", "prices")]
    if command.price_level is not None:
        return []
    errors = [
        Rejection("BAD_PRICE", f"No price for {leg.symbol}.", f"prices[{leg.symbol}]")
        for leg in basket.legs
        if given.get(leg.symbol) is None or given[leg.symbol] <= 0
    ]
    unknown = sorted(set(given) - {leg.symbol for leg in basket.legs})
    errors += [Rejection("BAD_PRICE", f"{s} is not a leg of this basket.", f"prices[{s}]") for s in unknown]
    return errors
