"""Tables of the execution venue's host (imported at the end of brokerql.store.tables).

`execution_report` is the venue's durable journal: every report is written here, with the fencing token
of the lease holder that produced it, before it is booked. `venue_lease` holds the current fencing
token: a journal write by a holder whose token is no longer the current one is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from brokerql.store.columns import RecordJson
from brokerql.store.tables import timestamp


class VenueLeaseRow(SQLModel, table=True):
    """The fencing token of the venue's current lease holder (one row per venue name)."""

    __tablename__ = "venue_lease"
    name: str = Field(primary_key=True, max_length=40)
    token: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    holder: str = Field(default="", max_length=128)
    acquired_at: datetime = timestamp()
    heartbeat_at: datetime = timestamp()
    # When the holder's venue last matched an order / last published market data (liveness, /healthz).
    last_match_at: datetime | None = timestamp(nullable=True)
    last_quote_at: datetime | None = timestamp(nullable=True)


class ExecutionReportRow(SQLModel, table=True):
    """One execution report, journalled before booking; `booked` once the trading service booked it."""

    __tablename__ = "execution_report"
    __table_args__ = (Index("ix_execution_report_booked_seq", "booked", "seq"),)
    # SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    exec_id: str = Field(unique=True, max_length=64)
    order_id: str = Field(index=True, max_length=40)
    exec_type: str = Field(max_length=16)
    last_qty: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_type=RecordJson)
    token: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    booked: bool = False
    created_at: datetime = timestamp()
