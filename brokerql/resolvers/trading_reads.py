"""account, tradingDesk, syncState, tradingPreferences and updatePreferences: read args, call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.schema.errors import UserError, not_found
from brokerql.schema.types.trading import Account
from brokerql.schema.types.trading_views import (
    AccountSnapshot,
    TradingPreferencesView,
    UpdatePreferencesInput,
    UpdatePreferencesPayload,
)


async def account(
    info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The account id.")]
) -> Account:
    principal = info.context.require_client()
    state = await info.context.container.trading_queries.account_of(principal.subject_id, str(id))
    if state is None:
        raise not_found("Account")
    return Account.of(state)


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
    return TradingPreferencesView.of(await info.context.container.trading.preferences.get(principal.subject_id))


async def update_preferences(
    info: strawberry.Info,
    input: Annotated[UpdatePreferencesInput, strawberry.argument(description="What to change.")],
) -> UpdatePreferencesPayload:
    principal = info.context.require_client()
    outcome = await info.context.container.trading.preferences.update(principal.subject_id, input.to_command())
    return UpdatePreferencesPayload(
        preferences=TradingPreferencesView.of(outcome.preferences) if outcome.preferences else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )
