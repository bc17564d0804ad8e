"""Back-office types (A5, C10, F1): parameters, dictionary, services, servers, API clients, operator log."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import strawberry

from brokerql.schema.errors import UserError
from brokerql.schema.types.identity import Operator


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@strawberry.type(description="A run-time system parameter.")
class SystemParameter:
    key: str = strawberry.field(description="Dotted key, e.g. login.lock_after.")
    value: str = strawberry.field(description="Current value.")
    description: str = strawberry.field(description="What it controls.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_row(cls, r: Any) -> SystemParameter:
        return cls(key=r.key, value=r.value, description=r.description, updated_at=r.updated_at)


@strawberry.type(description="An entry of the data dictionary (code lists shown by front ends).")
class DictionaryEntry:
    category: str = strawberry.field(description="List name, e.g. risk_level.")
    code: str = strawberry.field(description="Stable code.")
    label: str = strawberry.field(description="Display label.")
    sort_order: int = strawberry.field(description="Position in the list.")
    enabled: bool = strawberry.field(description="Disabled entries stay for old data but are not offered.")

    @classmethod
    def from_row(cls, r: Any) -> DictionaryEntry:
        return cls(category=r.category, code=r.code, label=r.label, sort_order=r.sort_order, enabled=r.enabled)


@strawberry.type(description="A bookable service (预约功能).")
class BookableService:
    code: str = strawberry.field(description="Service code.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the client gets.")
    min_tier: str = strawberry.field(description="Lowest tier that may book it.")
    enabled: bool = strawberry.field(description="Whether it is offered.")

    @classmethod
    def from_row(cls, r: Any) -> BookableService:
        return cls(code=r.code, name=r.name, description=r.description, min_tier=r.min_tier, enabled=r.enabled)


@strawberry.type(description="A server to probe when the load-balanced name fails (C10).")
class Server:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Short name.")
    url: str = strawberry.field(description="GraphQL endpoint URL.")
    region: str = strawberry.field(description="Region, e.g. SH.")
    kinds: list[str] = strawberry.field(description="What it serves: API, QUOTES, ...")
    weight: int = strawberry.field(description="Probe preference: higher first.")
    enabled: bool = strawberry.field(description="Whether clients are given it.")

    @classmethod
    def from_row(cls, r: Any) -> Server:
        return cls(
            id=strawberry.ID(r.id), name=r.name, url=r.url, region=r.region, kinds=list(r.kinds), weight=r.weight,
            enabled=r.enabled,
        )  # fmt: skip


@strawberry.type(description="A registered API client (partner application, F1).")
class ApiClient:
    client_id: str = strawberry.field(description="OAuth2 client_id.")
    name: str = strawberry.field(description="Partner name.")
    scopes: list[str] = strawberry.field(description="Scopes it may request.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    revoked: bool = strawberry.field(description="Revoked clients get no tokens; their tokens stop working.")

    @classmethod
    def from_row(cls, r: Any) -> ApiClient:
        return cls(
            client_id=r.client_id, name=r.name, scopes=list(r.scopes), created_at=r.created_at,
            revoked=r.revoked_at is not None,
        )  # fmt: skip


@strawberry.type(description="Result of createApiClient: the secret is shown this once only.")
class ApiClientPayload:
    api_client: ApiClient | None = strawberry.field(description="The registered client.")
    client_secret: str | None = strawberry.field(description="The client secret; store it now, it is not kept.")
    errors: list[UserError] = strawberry.field(description="Why registration was refused, if it was.")


@strawberry.type(description="An operator log entry: who did what to which target, when, before and after.")
class OperatorLogEntry:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    operator_id: strawberry.ID = strawberry.field(description="Who.")
    action: str = strawberry.field(description="What, e.g. tier.edit, client.update, parameter.set.")
    target: str = strawberry.field(description="Which object.")
    before: str | None = strawberry.field(description="The object before, as JSON.")
    after: str | None = strawberry.field(description="The object after, as JSON.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, r: Any) -> OperatorLogEntry:
        return cls(
            id=strawberry.ID(r.id), operator_id=strawberry.ID(r.operator_id), action=r.action, target=r.target,
            before=_json(r.before), after=_json(r.after), at=r.at,
        )  # fmt: skip


@strawberry.type(description="Result of a parameter change.")
class SystemParameterPayload:
    parameter: SystemParameter | None = strawberry.field(description="The parameter after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of an operator change.")
class OperatorPayload:
    operator: Operator | None = strawberry.field(description="The operator after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="A client's booking of a service (bookService).")
class ServiceBooking:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    client_id: strawberry.ID = strawberry.field(description="Who booked.")
    service_code: str = strawberry.field(description="The bookable service.")
    note: str = strawberry.field(description="The client's note for the broker.")
    status: str = strawberry.field(description="BOOKED.")
    created_at: datetime = strawberry.field(description="When it was booked.")

    @classmethod
    def from_row(cls, r: Any) -> ServiceBooking:
        return cls(
            id=strawberry.ID(r.id), client_id=strawberry.ID(r.client_id), service_code=r.service_code, note=r.note,
            status=r.status, created_at=r.created_at,
        )  # fmt: skip


@strawberry.type(description="Result of a change to a service or a server.")
class ServicePayload:
    service: BookableService | None = strawberry.field(description="The service after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of a server list change.")
class ServerPayload:
    server: Server | None = strawberry.field(description="The server after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.input(description="Operators' client list filter; all given criteria must hold.")
class ClientFilterInput:
    tier: str | None = strawberry.field(default=None, description="Tier code.")
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="Branch.")
    status: str | None = strawberry.field(default=None, description="ACTIVE, LOCKED, CLOSED, EXPIRED.")
    risk_level: str | None = strawberry.field(default=None, description="C1 to C5.")
    search: str | None = strawberry.field(default=None, description="Part of the username or name.")


@strawberry.input(description="An operator's changes to a client's profile; only given fields change.")
class UpdateClientInput:
    name: str | None = strawberry.field(default=None, description="Full name.")
    id_type: str | None = strawberry.field(default=None, description="ID document type.")
    id_number: str | None = strawberry.field(default=None, description="ID number.")
    birth_date: date | None = strawberry.field(default=None, description="Date of birth.")
    gender: str | None = strawberry.field(default=None, description="MALE, FEMALE or UNKNOWN.")
    phone: str | None = strawberry.field(default=None, description="Mobile phone.")
    email: str | None = strawberry.field(default=None, description="E-mail.")
    address: str | None = strawberry.field(default=None, description="Postal address.")
    risk_level: str | None = strawberry.field(default=None, description="C1 to C5.")
    investment_experience_years: int | None = strawberry.field(default=None, description="Years of experience.")
    suitability: list[str] | None = strawberry.field(default=None, description="Suitable products.")
    service_plan: str | None = strawberry.field(default=None, description="Service plan code.")
    advisor: str | None = strawberry.field(default=None, description="Assigned advisor.")
    channels: list[str] | None = strawberry.field(default=None, description="Preferred channels.")
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="Branch.")
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="Account manager.")
    status: str | None = strawberry.field(default=None, description="ACTIVE, LOCKED or CLOSED.")


@strawberry.input(description="A server list entry; give id to change an existing one.")
class ServerInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Existing server, or none for a new one.")
    name: str = strawberry.field(description="Short name.")
    url: str = strawberry.field(description="Endpoint URL.")
    region: str = strawberry.field(default="", description="Region.")
    kinds: list[str] = strawberry.field(default_factory=lambda: ["API"], description="What it serves.")
    weight: int = strawberry.field(default=1, description="Probe preference.")
    enabled: bool = strawberry.field(default=True, description="Offered to clients.")


@strawberry.input(description="A bookable service; an existing code is updated.")
class BookableServiceInput:
    code: str = strawberry.field(description="Service code.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(default="", description="What the client gets.")
    min_tier: str = strawberry.field(default="STANDARD", description="Lowest tier that may book it.")
    enabled: bool = strawberry.field(default=True, description="Offered to clients.")
