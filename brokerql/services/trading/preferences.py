"""D2 trading preferences: read (defaults when none stored) and change, validated by the domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.entitlement_rules import preference_entitlements
from brokerql.domain.trading.commands import UpdatePreferences
from brokerql.domain.trading.hotkeys import HotkeyAction, normalize_chord
from brokerql.domain.trading.preferences import FixedQuantity, PositionRatio, TradingPreferences, updated
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.store.database import Database
from brokerql.store.tables_trading import TradingPreferencesRow


@dataclass
class PreferencesOutcome:
    preferences: TradingPreferences | None = None
    errors: list[Rejection] = field(default_factory=list)


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


async def _nothing_missing(client_id: str, keys: tuple[str, ...]) -> list[Rejection]:
    return []


class PreferencesService:
    """D2: read a client's preferences and apply a partial change (`preferences.updated`: the domain's rule)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        # Which of these entitlement keys the client lacks (the tier catalog; wired by the container).
        self.missing: Callable[[str, tuple[str, ...]], Awaitable[list[Rejection]]] = _nothing_missing

    async def get(self, client_id: str) -> TradingPreferences:
        """The client's preferences, or the defaults."""
        async with self.db.read() as session:
            return preferences_of(await session.get(TradingPreferencesRow, client_id))

    async def update(self, client_id: str, change: UpdatePreferences) -> PreferencesOutcome:
        """Apply a partial change; nothing is stored unless the result is valid as a whole."""
        refused = await self.missing(client_id, preference_entitlements(change.hotkeys is not None))
        if refused:
            return PreferencesOutcome(errors=refused)
        async with self.db.transaction() as uow:
            row = await uow.session.get(TradingPreferencesRow, client_id, with_for_update=not uow.is_sqlite)
            merged = updated(preferences_of(row), change)
            if isinstance(merged, list):
                return PreferencesOutcome(errors=merged)
            row = row or TradingPreferencesRow(client_id=client_id)
            price = merged.default_price_level
            row.confirm_on_order, row.confirm_on_cancel = merged.confirm_on_order, merged.confirm_on_cancel
            row.default_price_level = price.value if isinstance(price, PriceLevel) else None
            row.default_price = None if isinstance(price, PriceLevel) else price
            quantity = merged.default_quantity
            row.default_quantity_ratio = quantity.value if isinstance(quantity, PositionRatio) else None
            row.default_quantity_shares = quantity.shares if isinstance(quantity, FixedQuantity) else None
            row.hotkeys = {normalize_chord(c) or c: str(a) for c, a in merged.hotkeys.items()}
            row.updated_at = self.clock.now()
            uow.session.add(row)
        return PreferencesOutcome(preferences_of(row), [])
