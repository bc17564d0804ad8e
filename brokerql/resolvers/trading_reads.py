"""account, tradingDesk, syncState, tradingPreferences and updatePreferences: read args, call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.common import Rejection
from brokerql.domain.trading.price_levels import PriceLevel as DomainPriceLevel
from brokerql.schema.errors import UserError, not_found
from brokerql.schema.types.trading import Account
from brokerql.schema.types.trading_views import (
    AccountSnapshot,
    TradingPreferencesView,
    UpdatePreferencesInput,
    UpdatePreferencesPayload,
)
from brokerql.services.trading import PreferencesChange


async def account(
    info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The account id.")]
) -> Account:
    principal = info.context.require_client()
    row = await info.context.container.trading_queries.account_of(principal.subject_id, str(id))
    if row is None:
        raise not_found("Account")
    return Account.from_row(row)


async def account_snapshot(
    info: strawberry.Info,
    account_id: Annotated[strawberry.ID, strawberry.argument(description="One of your accounts.")],
) -> AccountSnapshot:
    principal = info.context.require_client()
    snapshot = await info.context.container.trading_queries.account_snapshot(principal.subject_id, str(account_id))
    if snapshot is None:
        raise not_found("Account")
    return AccountSnapshot.of(snapshot)


async def trading_preferences(info: strawberry.Info) -> TradingPreferencesView:
    principal = info.context.require_client()
    return TradingPreferencesView.of(await info.context.container.trading.preferences(principal.subject_id))


async def update_preferences(
    info: strawberry.Info,
    input: Annotated[UpdatePreferencesInput, strawberry.argument(description="What to change.")],
) -> UpdatePreferencesPayload:
    principal = info.context.require_client()
    hotkeys = None
    if input.hotkeys is not None:
        chords = [h.chord for h in input.hotkeys]
        if len(set(chords)) != len(chords):
            rejection = Rejection("DUPLICATE_HOTKEY", "the same chord is given twice", "hotkeys")
            return UpdatePreferencesPayload(preferences=None, errors=[UserError.of(rejection)])
        hotkeys = {h.chord: h.action.value for h in input.hotkeys}
    change = PreferencesChange(
        confirm_on_order=input.confirm_on_order,
        confirm_on_cancel=input.confirm_on_cancel,
        default_price_level=DomainPriceLevel(input.default_price_level.value) if input.default_price_level else None,
        default_price=input.default_price,
        default_quantity_ratio=input.default_quantity_ratio,
        default_quantity_shares=input.default_quantity_shares,
        hotkeys=hotkeys,
    )
    outcome = await info.context.container.trading.update_preferences(principal.subject_id, change)
    return UpdatePreferencesPayload(
        preferences=TradingPreferencesView.of(outcome.preferences) if outcome.preferences else None,
        errors=[UserError.of(e) for e in outcome.errors or ()],
    )
