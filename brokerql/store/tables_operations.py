"""Operations tables (E3): trading halts, alert rules edited by operators, and the alert history."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from brokerql.store.columns import UtcDateTime, utcnow


class TradingHaltRow(SQLModel, table=True):
    """A halt in force: a symbol, or `*` for the whole market. Resuming deletes the row."""

    __tablename__ = "trading_halt"
    symbol: str = Field(primary_key=True, max_length=16)
    halted_by: str = Field(max_length=40)
    halted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class AlertRuleRow(SQLModel, table=True):
    """An alert rule; a row named like a built-in rule overrides the built-in's threshold."""

    __tablename__ = "alert_rule"
    name: str = Field(primary_key=True, max_length=64)
    figure: str = Field(max_length=64)
    comparator: str = Field(max_length=2)
    threshold: float
    duration_seconds: float = 0.0
    severity: str = Field(max_length=16)
    enabled: bool = True
    updated_by: str = Field(max_length=40)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class AlertRow(SQLModel, table=True):
    """An alert raised by a rule, cleared when the figure recovers, acknowledged by an operator."""

    __tablename__ = "alert"
    id: str = Field(primary_key=True, max_length=40)
    rule: str = Field(index=True, max_length=64)
    severity: str = Field(max_length=16)
    message: str = Field(max_length=255)
    value: float | None = None
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False, index=True)
    cleared_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
