"""Sessions' account type (switchAccount) and board eligibility: parse, one service call, map."""

from __future__ import annotations

import strawberry

from brokerql.domain.identity.roles import Permission as P
from brokerql.resolvers.guards import require_operator
from brokerql.resolvers.identity import _payload
from brokerql.schema.errors import UserError
from brokerql.schema.inputs import AccountType, LoginPayload
from brokerql.schema.types.compliance import BoardEligibility
from brokerql.schema.types.identity import ResultPayload


async def switch_account(info: strawberry.Info, account_type: AccountType) -> LoginPayload:
    principal = info.context.require_client()
    return _payload(await info.context.container.auth.switch_account(principal, account_type.value))


async def my_board_eligibility(info: strawberry.Info) -> list[BoardEligibility]:
    principal = info.context.require_client()
    found = await info.context.container.compliance.eligibility(principal.subject_id)
    return [BoardEligibility.of(board, derived, granted) for board, (derived, granted) in found.items()]


async def client_board_eligibility(info: strawberry.Info, client_id: strawberry.ID) -> list[BoardEligibility]:
    await require_operator(info, P.CLIENTS_READ)
    found = await info.context.container.compliance.eligibility(str(client_id))
    return [BoardEligibility.of(board, derived, granted) for board, (derived, granted) in found.items()]


async def set_board_eligibility(
    info: strawberry.Info, client_id: strawberry.ID, board: str, granted: bool, reason: str
) -> ResultPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    errors = await info.context.container.compliance.set_grant(op.subject_id, str(client_id), board, granted, reason)
    return ResultPayload(ok=not errors, errors=[UserError.of(e) for e in errors])
