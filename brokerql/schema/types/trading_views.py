"""The D1 "complex mode" view / D4 manual refresh, and the D2 trading preferences."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from brokerql.domain.trading.commands import UpdatePreferences
from brokerql.domain.trading.hotkeys import HotkeyAction as DomainHotkeyAction
from brokerql.domain.trading.preferences import FixedQuantity, PositionRatio, TradingPreferences
from brokerql.domain.trading.price_levels import PriceLevel as DomainPriceLevel
from brokerql.schema.errors import UserError
from brokerql.schema.types.holdings import Funds, Position
from brokerql.schema.types.trading import Account, Fill, Order, PriceLevel
from brokerql.services.queries import AccountSnapshot as SnapshotModel


@strawberry.type(
    description="An account's whole state in one consistent read: funds, positions, working orders and "
    "today's fills, as of event `lastSeq`. Resubscribe to orderEvents with afterSeq: lastSeq to follow on."
)
class AccountSnapshot:
    account: Account = strawberry.field(description="The account.")
    last_seq: int = strawberry.field(description="Seq of the account's latest event this snapshot includes.")
    as_of: datetime = strawberry.field(description="When the snapshot was read.")
    funds: Funds = strawberry.field(description="Cash, incl. available, frozen and withdrawable.")
    positions: list[Position] = strawberry.field(description="Every holding, by symbol.")
    working_orders: list[Order] = strawberry.field(description="Orders still on the book, newest first.")
    todays_fills: list[Fill] = strawberry.field(description="Fills of the current trading day, newest first.")
    complete: bool = strawberry.field(description="False when working orders or today's fills exceeded 1000 each.")

    @classmethod
    def of(cls, snapshot: SnapshotModel) -> AccountSnapshot:
        return cls(
            account=Account.of(snapshot.account),
            last_seq=snapshot.last_seq,
            as_of=snapshot.as_of,
            funds=Funds.of(snapshot.account.funds),
            positions=[Position.of(p) for p in snapshot.positions],
            working_orders=[Order.from_view(o) for o in snapshot.working_orders],
            todays_fills=[Fill.from_view(f) for f in snapshot.todays_fills],
            complete=snapshot.complete,
        )


HotkeyAction = strawberry.enum(
    DomainHotkeyAction, name="HotkeyAction", description="What a hotkey does in the fast-trading client."
)


@strawberry.type(description="One hotkey: a key chord and its action.")
class Hotkey:
    chord: str = strawberry.field(description='Canonical chord, modifiers first, e.g. "CTRL+SHIFT+B".')
    action: HotkeyAction = strawberry.field(description="What it does.")


@strawberry.type(
    name="TradingPreferences", description="A client's order-entry preferences (D2); defaults until first saved."
)
class TradingPreferencesView:
    confirm_on_order: bool = strawberry.field(description="Ask for confirmation before sending an order.")
    confirm_on_cancel: bool = strawberry.field(description="Ask for confirmation before cancelling.")
    default_price_level: PriceLevel | None = strawberry.field(description="Quote level to prefill (or null).")
    default_price: Decimal | None = strawberry.field(description="Fixed price to prefill, when no level is set.")
    default_quantity_ratio: Decimal | None = strawberry.field(
        description="Default quantity as a share (0-1] of what is possible: sellable shares, or what cash buys."
    )
    default_quantity_shares: int | None = strawberry.field(description="Default quantity as a number of shares.")
    hotkeys: list[Hotkey] = strawberry.field(description="The hotkey map, by chord.")

    @classmethod
    def of(cls, prefs: TradingPreferences) -> TradingPreferencesView:
        price, quantity = prefs.default_price_level, prefs.default_quantity
        return cls(
            confirm_on_order=prefs.confirm_on_order,
            confirm_on_cancel=prefs.confirm_on_cancel,
            default_price_level=PriceLevel(price.value) if isinstance(price, DomainPriceLevel) else None,
            default_price=None if isinstance(price, DomainPriceLevel) else price,
            default_quantity_ratio=quantity.value if isinstance(quantity, PositionRatio) else None,
            default_quantity_shares=quantity.shares if isinstance(quantity, FixedQuantity) else None,
            hotkeys=[Hotkey(chord=c, action=HotkeyAction(str(a))) for c, a in sorted(prefs.hotkeys.items())],
        )


@strawberry.input(description="A hotkey to set.")
class HotkeyInput:
    chord: str = strawberry.field(description='Key chord, e.g. "Ctrl+B", "F2", "shift+alt+1".')
    action: HotkeyAction = strawberry.field(description="What it does.")


@strawberry.input(
    description="Change trading preferences. Omitted fields stay as they are; `hotkeys`, when given, replaces the "
    "whole map. Give a price level or a price, and a ratio or a number of shares, not both."
)
class UpdatePreferencesInput:
    confirm_on_order: bool | None = strawberry.field(default=None, description="Confirm before sending orders.")
    confirm_on_cancel: bool | None = strawberry.field(default=None, description="Confirm before cancelling.")
    default_price_level: PriceLevel | None = strawberry.field(default=None, description="Quote level to prefill.")
    default_price: Decimal | None = strawberry.field(default=None, description="Fixed price to prefill instead.")
    default_quantity_ratio: Decimal | None = strawberry.field(default=None, description="Share (0-1] of the maximum.")
    default_quantity_shares: int | None = strawberry.field(default=None, description="Fixed number of shares.")
    hotkeys: list[HotkeyInput] | None = strawberry.field(default=None, description="The complete new hotkey map.")

    def to_command(self) -> UpdatePreferences:
        hotkeys = self.hotkeys
        return UpdatePreferences(
            confirm_on_order=self.confirm_on_order,
            confirm_on_cancel=self.confirm_on_cancel,
            default_price_level=DomainPriceLevel(self.default_price_level.value) if self.default_price_level else None,
            default_price=self.default_price,
            default_quantity_ratio=self.default_quantity_ratio,
            default_quantity_shares=self.default_quantity_shares,
            hotkeys=tuple((h.chord, h.action.value) for h in hotkeys) if hotkeys is not None else None,
        )


@strawberry.type(description="Result of updatePreferences.")
class UpdatePreferencesPayload:
    preferences: TradingPreferencesView | None = strawberry.field(
        description="The stored preferences (null if refused)."
    )
    errors: list[UserError] = strawberry.field(description="Why they were refused, e.g. INVALID_HOTKEY.")
