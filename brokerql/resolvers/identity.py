"""Login, session refresh, and `me`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.schema.errors import UserError, unauthenticated
from brokerql.schema.inputs import LoginInput, LoginPayload, RefreshSessionInput
from brokerql.schema.types.client import Client
from brokerql.services.auth import LoginOutcome


def _payload(outcome: LoginOutcome) -> LoginPayload:
    return LoginPayload(
        access_token=outcome.access_token,
        refresh_token=outcome.refresh_token,
        expires_in=outcome.expires_in,
        client=Client.from_row(outcome.client) if outcome.client and not outcome.errors else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def login(
    info: strawberry.Info, input: Annotated[LoginInput, strawberry.argument(description="Credentials.")]
) -> LoginPayload:
    account_type = input.account_type.value if input.account_type else None
    outcome = await info.context.container.auth.login(input.username, input.password, account_type)
    return _payload(outcome)


async def refresh_session(
    info: strawberry.Info,
    input: Annotated[RefreshSessionInput, strawberry.argument(description="The refresh token to spend.")],
) -> LoginPayload:
    return _payload(await info.context.container.auth.refresh_session(input.refresh_token))


async def me(info: strawberry.Info) -> Client:
    principal = info.context.require_client()
    row = await info.context.container.trading_queries.client(principal.subject_id)
    if row is None:
        raise unauthenticated("The client of this token no longer exists.")
    return Client.from_row(row)
