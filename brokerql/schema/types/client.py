"""Clients (A1), their profile's four attribute groups, branches, account managers, and tiers (A4)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from brokerql.domain.identity.tiers import TierCode
from brokerql.schema.types.trading import Account
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import AccountManagerRow, BranchRow, ClientProfileRow


@strawberry.type(description="Numeric limits of a tier.")
class TierLimits:
    requests_per_minute: int = strawberry.field(description="API requests per minute.")
    max_subscriptions: int = strawberry.field(description="Concurrent subscriptions.")


@strawberry.type(description="A client level (客户级别) and the entitlements it grants.")
class Tier:
    code: str = strawberry.field(description="TRIAL, STANDARD, SILVER, GOLD, PLATINUM or DIAMOND.")
    name: str = strawberry.field(description="Display name, English and Chinese.")
    rank: int = strawberry.field(description="Order of the tiers: higher ranks include more.")
    entitlements: list[str] = strawberry.field(description="Entitlement keys granted, e.g. quotes.level2.")
    limits: TierLimits = strawberry.field(description="Request and subscription limits.")


def tier_of(info: strawberry.Info, code: str) -> Tier:
    tier = info.context.container.catalog.tier(TierCode(code))
    return Tier(
        code=tier.code.value,
        name=tier.name,
        rank=tier.rank,
        entitlements=sorted(tier.entitlements),
        limits=TierLimits(
            requests_per_minute=tier.limits.requests_per_minute, max_subscriptions=tier.limits.max_subscriptions
        ),
    )


@strawberry.type(description="A branch office (营业部).")
class Branch:
    id: strawberry.ID = strawberry.field(description="Opaque branch id.")
    code: str = strawberry.field(description="Branch code.")
    name: str = strawberry.field(description="Branch name.")
    city: str = strawberry.field(description="City.")

    @classmethod
    def from_row(cls, row: BranchRow) -> Branch:
        return cls(id=strawberry.ID(row.id), code=row.code, name=row.name, city=row.city)


@strawberry.type(description="An account manager (客户经理).")
class AccountManager:
    id: strawberry.ID = strawberry.field(description="Opaque manager id.")
    name: str = strawberry.field(description="Name.")
    phone: str = strawberry.field(description="Work phone.")
    branch_id: strawberry.ID = strawberry.field(description="The manager's branch.")

    @classmethod
    def from_row(cls, row: AccountManagerRow) -> AccountManager:
        return cls(id=strawberry.ID(row.id), name=row.name, phone=row.phone, branch_id=strawberry.ID(row.branch_id))


@strawberry.type(description="Natural attributes: who the client is and how to reach them.")
class NaturalAttributes:
    id_type: str = strawberry.field(description="ID document type (data dictionary `id_type`).")
    id_number_masked: str = strawberry.field(description="ID number with the middle digits hidden.")
    birth_date: date | None = strawberry.field(description="Date of birth.")
    gender: str = strawberry.field(description="MALE, FEMALE or UNKNOWN.")
    phone: str | None = strawberry.field(description="Mobile phone.")
    email: str = strawberry.field(description="E-mail address.")
    address: str = strawberry.field(description="Postal address.")


@strawberry.type(description="Risk attributes: assessment level and suitability (适当性).")
class RiskAttributes:
    risk_level: str = strawberry.field(description="Risk assessment level C1 (cautious) to C5 (aggressive).")
    investment_experience_years: int = strawberry.field(description="Years of investment experience.")
    assessed_at: datetime | None = strawberry.field(description="When the risk assessment was made.")
    suitability: list[str] = strawberry.field(description="Products the client is suitable for, e.g. STAR, MARGIN.")


@strawberry.type(description="Service attributes: plan, advisor and channels.")
class ServiceAttributes:
    service_plan: str = strawberry.field(description="Service plan code.")
    advisor: str = strawberry.field(description="Assigned investment advisor.")
    channels: list[str] = strawberry.field(description="Preferred channels: APP, WEB, SMS, PHONE, EMAIL.")


@strawberry.type(description="Branch attributes: the branch and the account manager.")
class BranchAttributes:
    branch: Branch | None = strawberry.field(description="The client's branch (营业部).")
    manager: AccountManager | None = strawberry.field(description="The client's account manager.")


def mask(value: str) -> str:
    return value if len(value) <= 6 else f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


@strawberry.type(description="A client (客户) of the broker.")
class Client:
    id: strawberry.ID = strawberry.field(description="Opaque client id.")
    username: str = strawberry.field(description="Login name.")
    name: str = strawberry.field(description="Full name.")
    status: str = strawberry.field(description="ACTIVE, LOCKED (by the broker), CLOSED or EXPIRED (trial ended).")
    created_at: datetime = strawberry.field(description="When the client was registered.")
    _tier_code: strawberry.Private[str]

    @strawberry.field(description="The client's current tier and what it grants.")
    def tier(self, info: strawberry.Info) -> Tier:
        return tier_of(info, self._tier_code)

    @strawberry.field(description="The client's trading accounts (CASH, MARGIN, FUTURES).")
    async def accounts(self, info: strawberry.Info) -> list[Account]:
        return [Account.of(a) for a in await info.context.container.trading_queries.accounts_of(str(self.id))]

    async def _profile(self, info: strawberry.Info) -> ClientProfileRow:
        return await info.context.container.identity.clients.profile(str(self.id))

    @strawberry.field(description="Natural attributes (A1).")
    async def natural(self, info: strawberry.Info) -> NaturalAttributes:
        p = await self._profile(info)
        return NaturalAttributes(
            id_type=p.id_type, id_number_masked=mask(p.id_number), birth_date=p.birth_date, gender=p.gender,
            phone=p.phone, email=p.email, address=p.address,
        )  # fmt: skip

    @strawberry.field(description="Risk attributes (A1).")
    async def risk(self, info: strawberry.Info) -> RiskAttributes:
        p = await self._profile(info)
        return RiskAttributes(
            risk_level=p.risk_level, investment_experience_years=p.investment_experience_years,
            assessed_at=p.risk_assessed_at, suitability=list(p.suitability),
        )  # fmt: skip

    @strawberry.field(description="Service attributes (A1).")
    async def service(self, info: strawberry.Info) -> ServiceAttributes:
        p = await self._profile(info)
        return ServiceAttributes(service_plan=p.service_plan, advisor=p.advisor, channels=list(p.channels))

    @strawberry.field(description="Branch attributes (A1).")
    async def branch(self, info: strawberry.Info) -> BranchAttributes:
        p = await self._profile(info)
        clients = info.context.container.identity.clients
        branch, manager = await clients.branch(p.branch_id), await clients.manager(p.manager_id)
        return BranchAttributes(
            branch=Branch.from_row(branch) if branch else None,
            manager=AccountManager.from_row(manager) if manager else None,
        )

    @strawberry.field(description="For TRIAL clients: when the trial ends.")
    async def trial_expires_at(self, info: strawberry.Info) -> datetime | None:
        return (await self._profile(info)).trial_expires_at

    @classmethod
    def from_row(cls, row: ClientRow) -> Client:
        return cls(
            id=strawberry.ID(row.id), username=row.username, name=row.name, status=row.status,
            created_at=row.created_at, _tier_code=row.tier_code,
        )  # fmt: skip
