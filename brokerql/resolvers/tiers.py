"""Tier and entitlement discovery (A4) for front ends, and the client's own login history."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.schema.entitlements import ChecksEntitlements, Entitled
from brokerql.schema.types.client import Tier, tier_of
from brokerql.schema.types.identity import ClientLogEntry, EntitlementInfo
from brokerql.schema.types.paging import Connection, connection, page


def guarded_fields(graphql_schema: Any, *, checked_in_code: bool = True) -> dict[str, list[str]]:
    """Entitlement key -> the schema fields (Type.field) that require it: by a field permission
    (FORBIDDEN below it) and, with `checked_in_code`, by the operation's own rules (@checksEntitlements)."""
    found: dict[str, list[str]] = {}
    for type_name, gql_type in graphql_schema.type_map.items():
        for field_name, gql_field in (getattr(gql_type, "fields", None) or {}).items():
            definition = (getattr(gql_field, "extensions", None) or {}).get("strawberry-definition")
            keys: list[str] = []
            for extension in getattr(definition, "extensions", None) or []:
                if isinstance(extension, PermissionExtension):
                    keys += [p.key for p in extension.permissions if isinstance(p, Entitled)]
            if checked_in_code:
                for directive in getattr(definition, "directives", None) or []:
                    keys += directive.keys if isinstance(directive, ChecksEntitlements) else []
            for key in dict.fromkeys(keys):
                found.setdefault(key, []).append(f"{type_name}.{field_name}")
    return found


@cache
def _guarded(graphql_schema: Any) -> dict[str, list[str]]:
    return guarded_fields(graphql_schema)


def tiers(info: strawberry.Info) -> list[Tier]:
    return [tier_of(info, t.code.value) for t in info.context.container.catalog.tiers]


def entitlement_catalog(info: strawberry.Info) -> list[EntitlementInfo]:
    fields = _guarded(info.schema._schema)
    return [
        EntitlementInfo(
            key=key,
            lowest_tier=lowest.value if lowest else None,
            tiers=[t.value for t in holders],
            fields=sorted(fields.get(key, [])),
        )
        for key, lowest, holders in info.context.container.catalog.entitlement_table()
    ]


async def my_login_history(
    info: strawberry.Info, first: int | None = None, after: str | None = None
) -> Connection[ClientLogEntry]:
    principal = info.context.require_client()
    request = page("client-log", first, after)
    rows = await info.context.container.identity.clients.log(
        principal.subject_id, None, request.after_key, request.fetch
    )
    return connection("client-log", rows, request, lambda r: r.id, ClientLogEntry.from_row)
