"""D2 trading preferences of a client: confirmations, default price and quantity, hotkeys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from brokerql.domain.common import Rejection, Side
from brokerql.domain.trading.commands import UpdatePreferences
from brokerql.domain.trading.fees import A_SHARE, DEFAULT_SCHEDULE, FeeBasis, FeeSchedule, estimate_buy_freeze
from brokerql.domain.trading.hotkeys import MAX_HOTKEYS, HotkeyAction, normalize_chord
from brokerql.domain.trading.price_levels import PriceLevel


@dataclass(frozen=True, slots=True)
class PositionRatio:
    """Default quantity as a share of what is possible: sellable shares, or what the cash buys."""

    value: Decimal


@dataclass(frozen=True, slots=True)
class FixedQuantity:
    """Default quantity as a number of shares."""

    shares: int


DefaultQuantity = PositionRatio | FixedQuantity


@dataclass(frozen=True, slots=True)
class TradingPreferences:
    """One client's order-entry preferences; `default_price_level` is a quote level or a fixed price."""

    confirm_on_order: bool = True
    confirm_on_cancel: bool = True
    default_price_level: PriceLevel | Decimal = PriceLevel.LAST
    default_quantity: DefaultQuantity = FixedQuantity(100)
    hotkeys: Mapping[str, HotkeyAction] = field(default_factory=dict)


def validate_preferences(prefs: TradingPreferences) -> list[Rejection]:
    """Every problem with `prefs` as a coded rejection ([] = valid); fields use the GraphQL names."""
    problems: list[Rejection] = []
    price = prefs.default_price_level
    if not isinstance(price, PriceLevel) and not (isinstance(price, Decimal) and price.is_finite() and price > 0):
        problems.append(
            Rejection(
                "INVALID_PRICE",
                "default price must be a quote level or a positive price",
                "defaultPriceLevel",
            )
        )
    quantity = prefs.default_quantity
    if isinstance(quantity, PositionRatio):
        if not (quantity.value.is_finite() and 0 < quantity.value <= 1):
            problems.append(Rejection("INVALID_QUANTITY", "a ratio must be above 0 and at most 1", "defaultQuantity"))
    elif not (isinstance(quantity, FixedQuantity) and quantity.shares > 0):
        problems.append(Rejection("INVALID_QUANTITY", "default quantity must be positive", "defaultQuantity"))
    problems.extend(_hotkey_problems(prefs.hotkeys))
    return problems


def updated(current: TradingPreferences, change: UpdatePreferences) -> TradingPreferences | list[Rejection]:
    """`current` with `change` applied, if the result is valid as a whole; otherwise every problem."""
    if change.default_price_level is not None and change.default_price is not None:
        return [Rejection("INVALID_ARGUMENT", "give defaultPriceLevel or defaultPrice, not both", "defaultPrice")]
    if change.default_quantity_ratio is not None and change.default_quantity_shares is not None:
        return [Rejection("INVALID_ARGUMENT", "give a ratio or a number of shares, not both", "defaultQuantity")]
    chords = [chord for chord, _action in change.hotkeys or ()]
    if len(set(chords)) != len(chords):
        return [Rejection("DUPLICATE_HOTKEY", "the same chord is given twice", "hotkeys")]
    prefs = current
    if change.confirm_on_order is not None:
        prefs = replace(prefs, confirm_on_order=change.confirm_on_order)
    if change.confirm_on_cancel is not None:
        prefs = replace(prefs, confirm_on_cancel=change.confirm_on_cancel)
    price = change.default_price_level if change.default_price_level is not None else change.default_price
    if price is not None:
        prefs = replace(prefs, default_price_level=price)
    if change.default_quantity_ratio is not None:
        prefs = replace(prefs, default_quantity=PositionRatio(change.default_quantity_ratio))
    if change.default_quantity_shares is not None:
        prefs = replace(prefs, default_quantity=FixedQuantity(change.default_quantity_shares))
    if change.hotkeys is not None:
        prefs = replace(prefs, hotkeys=dict(change.hotkeys))  # type: ignore[arg-type] - validated next
    problems = validate_preferences(prefs)
    return problems or prefs


def _hotkey_problems(hotkeys: Mapping[str, HotkeyAction | str]) -> list[Rejection]:
    if len(hotkeys) > MAX_HOTKEYS:
        return [Rejection("TOO_MANY_HOTKEYS", f"at most {MAX_HOTKEYS} hotkeys", "hotkeys")]
    problems: list[Rejection] = []
    seen: dict[str, str] = {}
    for chord, action in hotkeys.items():
        canonical = normalize_chord(chord)
        if canonical is None:
            problems.append(Rejection("INVALID_HOTKEY", f"{chord!r} is not a key chord", "hotkeys"))
        elif canonical in seen:
            problems.append(
                Rejection("DUPLICATE_HOTKEY", f"{chord!r} is the same chord as {seen[canonical]!r}", "hotkeys")
            )
        else:
            seen[canonical] = chord
        if action not in HotkeyAction.__members__.values():
            problems.append(Rejection("UNKNOWN_HOTKEY_ACTION", f"{action!r} is not an action", "hotkeys"))
    return problems


def round_to_lot(quantity: int, lot_size: int, increment: int | None = None) -> int:
    """Largest valid quantity <= `quantity`: a lot, then steps of `increment` (STAR: 200, then 1)."""
    step = increment or lot_size
    if quantity < lot_size:
        return 0
    return lot_size + (quantity - lot_size) // step * step


def resolve_default_quantity(
    default: DefaultQuantity,
    *,
    side: Side,
    lot_size: int,
    increment: int | None = None,
    sellable: int = 0,
    available_cash: Decimal | None = None,
    price: Decimal | None = None,
    schedule: FeeSchedule = DEFAULT_SCHEDULE,
    basis: FeeBasis = A_SHARE,
) -> int:
    """The quantity to prefill, rounded down to the lot (0 = nothing sensible to propose).

    Sells never exceed `sellable`, and selling all of it may keep an odd lot (the exchange allows
    an odd remainder only when it goes at once). A buy ratio spends that share of `available_cash`
    at `price`, fees included; a fixed buy is only rounded (the order checks will judge the cash).
    """
    if side is Side.SELL:
        wanted = sellable * default.value if isinstance(default, PositionRatio) else default.shares
        quantity = min(int(wanted), sellable)
        return sellable if quantity == sellable else round_to_lot(quantity, lot_size, increment)
    if isinstance(default, FixedQuantity):
        return round_to_lot(default.shares, lot_size, increment)
    if available_cash is None or price is None or price <= 0:
        return 0
    budget = available_cash * default.value
    # Freeze = q*p*(1+transfer) + max(min commission, q*p*rate): solve both regimes, take the lower.
    unit = price * (1 + schedule.transfer_fee_rate)
    guess = min((budget - schedule.min_commission) / unit, budget / (unit + price * schedule.commission_rate))
    quantity = round_to_lot(max(0, int(guess)), lot_size, increment)
    # Cent rounding of the fees can still tip it over by a step or two.
    while quantity and estimate_buy_freeze(price, quantity, schedule, basis) > budget:
        quantity = round_to_lot(quantity - 1, lot_size, increment)
    return quantity
