"""Clients and their tiers."""

from __future__ import annotations

import strawberry

from brokerql.domain.identity.tiers import TierCode
from brokerql.schema.types.trading import Account
from brokerql.store.tables import ClientRow


@strawberry.type(description="A client level (客户级别) and the entitlements it grants.")
class Tier:
    code: str = strawberry.field(description="TRIAL, STANDARD, SILVER, GOLD, PLATINUM or DIAMOND.")
    name: str = strawberry.field(description="Display name, English and Chinese.")
    rank: int = strawberry.field(description="Order of the tiers: higher ranks include more.")
    entitlements: list[str] = strawberry.field(description="Entitlement keys granted, e.g. quotes.level2.")


def tier_of(info: strawberry.Info, code: str) -> Tier:
    tier = info.context.container.catalog.tier(TierCode(code))
    return Tier(code=tier.code.value, name=tier.name, rank=tier.rank, entitlements=sorted(tier.entitlements))


@strawberry.type(description="A client (客户) of the broker.")
class Client:
    id: strawberry.ID = strawberry.field(description="Opaque client id.")
    username: str = strawberry.field(description="Login name.")
    name: str = strawberry.field(description="Full name.")
    _tier_code: strawberry.Private[str]

    @strawberry.field(description="The client's current tier and what it grants.")
    def tier(self, info: strawberry.Info) -> Tier:
        return tier_of(info, self._tier_code)

    @strawberry.field(description="The client's trading accounts (CASH, MARGIN, FUTURES).")
    async def accounts(self, info: strawberry.Info) -> list[Account]:
        rows = await info.context.container.trading_queries.accounts_of(str(self.id))
        return [Account.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: ClientRow) -> Client:
        return cls(id=strawberry.ID(row.id), username=row.username, name=row.name, _tier_code=row.tier_code)
