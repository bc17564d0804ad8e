"""Baskets (C4, 组合委托): a client's named list of legs, scaled into orders, and the runs they become.

Pure rules, no I/O:

- A basket's legs give shares per basket unit (`quantity`) or a share of the basket's value
  (`weight`); all legs of one basket use the same kind (a leg giving neither takes the basket's
  `default_quantity`).
- Scaling (`scale_legs`): by a multiplier (quantity legs x multiplier; weight legs share
  multiplier x `default_amount`) or to a target amount at the legs' prices. Every leg is rounded
  DOWN to its board's lot (STAR: 200, then steps of 1), so a basket never buys more than asked;
  a leg that rounds to nothing is reported per leg (`LOT_SIZE`).
- Rejection policy: all or nothing. A basket is one decision about a mix of
  holdings, and half a mix is a position the client never chose: when any leg would be refused
  (price limit, halt, odd lot after rounding, funds or shares, counted together), no leg is sent
  and every leg's reasons come back. A top-up follows the same rule for the legs it resubmits.
- What a submitted basket becomes, a run, is `basket_runs.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from brokerql.domain.common import Rejection, Side
from brokerql.domain.trading.preferences import round_to_lot
from brokerql.domain.trading.price_levels import PriceLevel

ZERO = Decimal(0)
MAX_LEGS = 50
MAX_NAME = 64
MAX_DESCRIPTION = 500
# Sanity bounds, far above any real order, that keep every figure a client sees in range.
MAX_MULTIPLIER = Decimal(10_000)
MAX_AMOUNT = Decimal(10**12)
MAX_ORDER_QUANTITY = 10_000_000  # x 50 legs stays within a GraphQL Int


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
    if default_amount is not None and not 0 < default_amount <= MAX_AMOUNT:
        message = f"defaultAmount must be positive, at most {MAX_AMOUNT}."
        errors.append(Rejection("BAD_AMOUNT", message, "defaultAmount"))
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
        return round_to_lot(
            int(Decimal(quantity).to_integral_value(rounding=ROUND_FLOOR)), self.lot_size, self.increment
        )


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
        """LOT_SIZE when the leg rounds to nothing (it would be an odd lot); BAD_QUANTITY beyond one order."""
        if self.quantity > 0:
            return None
        shares = f"{self.exact.normalize():f}"
        if self.exact > MAX_ORDER_QUANTITY:
            message = f"{self.symbol}: {shares} shares is more than one order may hold ({MAX_ORDER_QUANTITY})."
            return Rejection("BAD_QUANTITY", message, "quantity")
        return Rejection("LOT_SIZE", f"{self.symbol}: {shares} shares round to less than one lot.", "quantity")


def scaling_rejection(basket: Basket, scaling: Scaling) -> Rejection | None:
    """Why `scaling` cannot size `basket` (None when it can)."""
    if scaling.multiplier is not None and scaling.amount is not None:
        return Rejection("BAD_SCALING", "Give a multiplier or an amount, not both.", "multiplier")
    if scaling.multiplier is not None and not 0 < scaling.multiplier <= MAX_MULTIPLIER:
        return Rejection("BAD_SCALING", f"The multiplier must be positive, at most {MAX_MULTIPLIER}.", "multiplier")
    if scaling.amount is not None and not 0 < scaling.amount <= MAX_AMOUNT:
        return Rejection("BAD_SCALING", f"The amount must be positive, at most {MAX_AMOUNT}.", "amount")
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
    scaled = []
    for leg in basket.legs:
        quantity = lots[leg.symbol].round_down(exact[leg.symbol])
        quantity = quantity if quantity <= MAX_ORDER_QUANTITY else 0  # refused as BAD_QUANTITY
        scaled.append(ScaledLeg(leg.symbol, exact[leg.symbol], quantity, prices.get(leg.symbol)))
    return scaled


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
