"""Column types and id helpers that keep money exact and ids opaque on every backend."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import DateTime, Numeric, String, Text
from sqlalchemy.types import TypeDecorator


class Money(TypeDecorator):
    """Decimal stored as NUMERIC on PostgreSQL and as text on SQLite, whose NUMERIC is a float."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(28, 8, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        value = Decimal(value)
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return canonical(Decimal(value))


def canonical(value: Decimal) -> Decimal:
    """Drop trailing zeros (PostgreSQL pads NUMERIC(28, 8)) without turning 100 into 1E+2."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal


class UtcDateTime(TypeDecorator):
    """Timestamps are always aware UTC, also on SQLite which stores them naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonText(TypeDecorator):
    """A JSON document kept as text: portable, and the payloads are only ever read whole."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"), default=str)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class RecordJson(JsonText):
    """A message's envelope (`bus.codec.to_record`: JSON builtins only, money as strings) kept as text:
    encoded and decoded with msgspec. Every order writes two (its event and its outbox row) and the
    exchange's journal one a report; json.dumps was 2% of an order's CPU. The text decodes to what
    json.dumps would have written (non-ASCII is written as UTF-8 rather than escaped)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else _RECORDS.encode(value).decode()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else msgspec.json.decode(value)


_RECORDS = msgspec.json.Encoder()


def new_id(prefix: str) -> str:
    """A time-ordered opaque id such as `ord_0192f3a1b2c3d4e5f6a7`: sortable by creation, unguessable."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(5)}"


def utcnow() -> datetime:
    return datetime.now(UTC)
