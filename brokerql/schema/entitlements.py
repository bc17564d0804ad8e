"""Tier entitlements as schema permissions: declared on the field, visible in the SDL, checked per call."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.schema_directive import Location
from strawberry.types import Info

from brokerql.domain.identity.partner_scopes import partner_entitlements, scope_granting
from brokerql.domain.identity.tiers import TierCode
from brokerql.schema.errors import CodedError, ErrorCode, unauthenticated
from brokerql.services.tokens import Principal


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="This field needs the named tier entitlement; clients below it get FORBIDDEN.",
)
class Entitlement:
    key: str  # the entitlement key, e.g. quotes.level2


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="This operation checks these tier entitlements in its own logic; which applies depends on "
    "its arguments (e.g. the account type or the instrument). Refusals name the key.",
)
class ChecksEntitlements:
    keys: list[str]  # the entitlement keys the operation's rules may require


def checks_entitlements(*keys: str) -> list[object]:
    """`directives=` for a field whose resolver or service checks entitlements itself (listed by
    entitlementCatalog like a field permission). Pass the rule's own key tuple, never a hand list."""
    return [ChecksEntitlements(keys=list(keys))]


def _partner(info: Info) -> Principal | None:
    principal = info.context.principal()
    return principal if principal is not None and principal.kind == "partner" else None


def forbidden_for(info: Info, key: str) -> CodedError:
    if _partner(info) is not None:  # partners have scopes, not tiers (F1)
        scope = scope_granting(key)
        return CodedError(ErrorCode.FORBIDDEN, f"This API client's token lacks the {scope} scope.", scope=scope)
    catalog = info.context.container.catalog
    lowest = catalog.lowest_tier_granting(key)
    return CodedError(
        ErrorCode.FORBIDDEN,
        f"Your tier does not include {key}" + (f"; it comes with {lowest.value} and above." if lowest else "."),
        entitlement=key,
        requiredTier=lowest.value if lowest else None,
    )


@dataclass(frozen=True, slots=True)
class HeldEntitlements:
    """What a caller may see: `grants(key)`, and `key`, equal for two callers exactly when their grants
    are (a partner's scopes, or a tier in one version of the tier catalog)."""

    key: Hashable
    grants: Callable[[str], bool]


async def held_entitlements(context: Any) -> HeldEntitlements | None:
    """The caller's entitlements: a partner's by its token's scopes (F1), a client's by its tier (read
    as `tier_of` caches it). None for an anonymous caller or an operator, who hold no tier. Raises
    UNAUTHENTICATED for a token that does not verify."""
    principal = context.principal()
    if principal is None:
        return None
    if principal.kind == "partner":  # partners have scopes, not tiers
        held = partner_entitlements(principal.scopes)
        return HeldEntitlements(("partner", held), held.__contains__)
    if principal.kind != "client":
        return None
    container = context.container
    tier = TierCode(await container.auth.tier_of(principal.subject_id))
    catalog = container.catalog.current  # immutable; an edit replaces it
    return HeldEntitlements(("tier", tier, catalog), lambda key: catalog.grants(tier, key))


async def required_entitlements(context: Any) -> HeldEntitlements:
    """`held_entitlements`, or UNAUTHENTICATED for a caller who holds none (anonymous, an operator)."""
    held = await held_entitlements(context)
    if held is None:
        raise unauthenticated()
    return held


async def has_entitlement(info: Info, key: str) -> bool:
    return (await required_entitlements(info.context)).grants(key)


class Entitled(BasePermission):
    """Use as `extensions=[PermissionExtension(permissions=[Entitled("quotes.level2")])]` on a field."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._schema_directive = Entitlement(key=key)

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if await has_entitlement(info, self.key):
            return True
        raise forbidden_for(info, self.key)
