"""D2 trading preferences: read (defaults when none stored) and change, validated by the domain."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from brokerql.domain.common import Rejection
from brokerql.domain.trading.hotkeys import HotkeyAction, normalize_chord
from brokerql.domain.trading.preferences import (
    FixedQuantity,
    PositionRatio,
    TradingPreferences,
    validate_preferences,
)
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.services.trading.base import TradingBase
from brokerql.store.columns import utcnow
from brokerql.store.tables_trading import TradingPreferencesRow


@dataclass(frozen=True, slots=True)
class PreferencesChange:
    """A partial update: None leaves a setting as it is; `hotkeys` (when given) replaces the whole map."""

    confirm_on_order: bool | None = None
    confirm_on_cancel: bool | None = None
    default_price_level: PriceLevel | None = None
    default_price: Decimal | None = None
    default_quantity_ratio: Decimal | None = None
    default_quantity_shares: int | None = None
    hotkeys: dict[str, str] | None = None


@dataclass
class PreferencesOutcome:
    preferences: TradingPreferences | None = None
    errors: list[Rejection] | None = None


def preferences_of(row: TradingPreferencesRow | None) -> TradingPreferences:
    """The domain value of a stored row (the defaults for a client who never saved any)."""
    if row is None:
        return TradingPreferences()
    price = PriceLevel(row.default_price_level) if row.default_price_level else row.default_price
    ratio = row.default_quantity_ratio
    quantity = PositionRatio(ratio) if ratio is not None else FixedQuantity(row.default_quantity_shares or 0)
    return TradingPreferences(
        confirm_on_order=row.confirm_on_order,
        confirm_on_cancel=row.confirm_on_cancel,
        default_price_level=price if price is not None else PriceLevel.LAST,
        default_quantity=quantity,
        hotkeys={chord: HotkeyAction(action) for chord, action in row.hotkeys.items()},
    )


def _merged(current: TradingPreferences, change: PreferencesChange) -> TradingPreferences | list[Rejection]:
    if change.default_price_level is not None and change.default_price is not None:
        return [Rejection("INVALID_ARGUMENT", "give defaultPriceLevel or defaultPrice, not both", "defaultPrice")]
    if change.default_quantity_ratio is not None and change.default_quantity_shares is not None:
        return [Rejection("INVALID_ARGUMENT", "give a ratio or a number of shares, not both", "defaultQuantity")]
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
    return prefs


class Preferences(TradingBase):
    async def preferences(self, client_id: str) -> TradingPreferences:
        """The client's preferences, or the defaults."""
        async with self.db.read() as session:
            return preferences_of(await session.get(TradingPreferencesRow, client_id))

    async def update_preferences(self, client_id: str, change: PreferencesChange) -> PreferencesOutcome:
        """Apply a partial change; nothing is stored unless the result is valid as a whole."""
        async with self.db.transaction() as uow:
            row = await uow.session.get(TradingPreferencesRow, client_id, with_for_update=not uow.is_sqlite)
            merged = _merged(preferences_of(row), change)
            if isinstance(merged, list):
                return PreferencesOutcome(errors=merged)
            problems = validate_preferences(merged)
            if problems:
                return PreferencesOutcome(errors=problems)
            row = row or TradingPreferencesRow(client_id=client_id)
            price = merged.default_price_level
            row.confirm_on_order, row.confirm_on_cancel = merged.confirm_on_order, merged.confirm_on_cancel
            row.default_price_level = price.value if isinstance(price, PriceLevel) else None
            row.default_price = None if isinstance(price, PriceLevel) else price
            quantity = merged.default_quantity
            row.default_quantity_ratio = quantity.value if isinstance(quantity, PositionRatio) else None
            row.default_quantity_shares = quantity.shares if isinstance(quantity, FixedQuantity) else None
            row.hotkeys = {normalize_chord(c) or c: str(a) for c, a in merged.hotkeys.items()}
            row.updated_at = utcnow()
            uow.session.add(row)
        return PreferencesOutcome(preferences_of(row), [])
