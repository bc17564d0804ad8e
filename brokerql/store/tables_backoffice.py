"""Back-office (A5), partner (F1), tier and grading (A2-A4) tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText, Money, UtcDateTime, utcnow


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class SystemParameterRow(SQLModel, table=True):
    """A run-time system parameter (e.g. login.lock_after), edited by operators."""

    __tablename__ = "system_parameter"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
    description: str = Field(default="", max_length=255)
    updated_at: datetime = _ts()


class DictionaryEntryRow(SQLModel, table=True):
    """The data dictionary: code lists (risk levels, genders, channels, ...) shown by front ends."""

    __tablename__ = "dictionary_entry"
    category: str = Field(primary_key=True, max_length=32)
    code: str = Field(primary_key=True, max_length=32)
    label: str = Field(max_length=128)
    sort_order: int = 0
    enabled: bool = True


class BookableServiceRow(SQLModel, table=True):
    """A bookable service (预约功能), e.g. an advisor call or an IPO reminder."""

    __tablename__ = "bookable_service"
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=128)
    description: str = Field(default="", max_length=255)
    min_tier: str = Field(default="STANDARD", max_length=16)
    enabled: bool = True


class ServiceBookingRow(SQLModel, table=True):
    """A client's booking of a service."""

    __tablename__ = "service_booking"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    service_code: str = Field(foreign_key="bookable_service.code", max_length=32)
    note: str = Field(default="", max_length=255)
    status: str = Field(default="BOOKED", max_length=16)
    created_at: datetime = _ts()


class ServerRow(SQLModel, table=True):
    """C10: a server clients may probe when the load-balanced name fails."""

    __tablename__ = "server"
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=64)
    url: str = Field(unique=True, max_length=255)
    region: str = Field(default="", max_length=32)
    kinds: list[str] = Field(default_factory=list, sa_type=JsonText)
    weight: int = 1
    enabled: bool = True


class ApiClientRow(SQLModel, table=True):
    """F1: a registered API client (partner application) with its secret's hash and allowed scopes."""

    __tablename__ = "api_client"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=128)
    secret_hash: str = Field(max_length=128)
    scopes: list[str] = Field(default_factory=list, sa_type=JsonText)
    created_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)


class TierRow(SQLModel, table=True):
    """A4: a tier and the entitlements it grants; the process's TierCatalog is loaded from here."""

    __tablename__ = "tier"
    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    rank: int
    entitlements: list[str] = Field(default_factory=list, sa_type=JsonText)
    requests_per_minute: int
    max_subscriptions: int
    version: int = 1
    updated_at: datetime = _ts()


class GradingModelRow(SQLModel, table=True):
    """A2: the operator-edited grading model (weights, scorers, thresholds, grace days); one row."""

    __tablename__ = "grading_model"
    id: int = Field(default=1, primary_key=True)
    model: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    version: int = 1
    updated_at: datetime = _ts()


class ClientDimensionRow(SQLModel, table=True):
    """A2 dimension data of a client (turnover, commission, tenure, activity; assets are computed)."""

    __tablename__ = "client_dimension"
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=40)
    dimension: str = Field(primary_key=True, max_length=16)
    value: Decimal = Field(default=Decimal(0), sa_type=Money)


class GradingRunRow(SQLModel, table=True):
    """One grading run over every client, with the model version it used."""

    __tablename__ = "grading_run"
    id: str = Field(primary_key=True, max_length=40)
    operator_id: str | None = Field(default=None, max_length=40)
    model_version: int
    clients: int = 0
    at: datetime = _ts()


class GradingResultRow(SQLModel, table=True):
    """A client's score in a run, the tier it earns, and the explanation (contributions)."""

    __tablename__ = "grading_result"
    run_id: str = Field(foreign_key="grading_run.id", primary_key=True, max_length=40)
    client_id: str = Field(primary_key=True, max_length=40)
    current_tier: str = Field(max_length=16)
    eligible_tier: str = Field(max_length=16)
    score: Decimal = Field(sa_type=Money)
    status: str = Field(max_length=24, index=True)
    grace_ends_at: datetime | None = _ts(nullable=True)
    contributions: list[dict[str, str]] = Field(default_factory=list, sa_type=JsonText)


class LevelApplicationRow(SQLModel, table=True):
    """A3: a client's application to move up to a tier, and its decision."""

    __tablename__ = "level_application"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    tier: str = Field(max_length=16)
    status: str = Field(default="OPEN", max_length=16, index=True)
    applied_at: datetime = _ts()
    decided_at: datetime | None = _ts(nullable=True)
    decided_by: str | None = Field(default=None, max_length=40)


class LevelChangeRow(SQLModel, table=True):
    """A3: the full history of tier changes (one row per change, never updated)."""

    __tablename__ = "level_change"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    from_tier: str | None = Field(default=None, max_length=16)
    to_tier: str | None = Field(default=None, max_length=16)
    reason: str = Field(max_length=24)
    by_operator: str | None = Field(default=None, max_length=40)
    note: str = Field(default="", max_length=255)
    at: datetime = _ts()


class BrowsingRecordRow(SQLModel, table=True):
    """A3: what a client viewed (an article, a column, an instrument, a screen)."""

    __tablename__ = "browsing_record"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    kind: str = Field(max_length=24)
    ref: str = Field(max_length=128)
    at: datetime = _ts()
