"""Who may call what: operator permissions (A5) and principal kinds, checked first in every resolver."""

from __future__ import annotations

import strawberry

from brokerql.domain.identity.roles import Permission
from brokerql.schema.errors import forbidden, unauthenticated
from brokerql.services.identity.operators import OperatorStanding
from brokerql.services.tokens import Principal


async def require_operator(info: strawberry.Info, permission: Permission | None = None) -> Principal:
    """An operator holding `permission` (any operator when None): UNAUTHENTICATED / FORBIDDEN otherwise."""
    principal = info.context.principal()
    if principal is None or principal.kind != "operator":
        raise unauthenticated("Log in as an operator (operatorLogin) first.")
    standing = await info.context.container.identity.operators.standing(principal.subject_id, permission)
    if standing is OperatorStanding.GONE:
        raise unauthenticated("This operator no longer exists.")
    if standing is OperatorStanding.FORBIDDEN and permission is not None:
        raise forbidden(f"Your roles do not include {permission.value}.", permission=permission.value)
    return principal


def require_partner(info: strawberry.Info, scope: str) -> Principal:
    principal = info.context.principal()
    if principal is None or principal.kind != "partner":
        raise unauthenticated()
    if scope not in principal.scopes:
        raise forbidden(f"This API client's token lacks the {scope} scope.", scope=scope)
    return principal


def require_any(info: strawberry.Info, partner_scope: str | None = None) -> Principal:
    """Any logged-in client or operator; a partner only with `partner_scope`."""
    principal = info.context.principal()
    if principal is None:
        raise unauthenticated()
    if principal.kind == "partner":
        return require_partner(info, partner_scope or "-")
    return principal
