"""Vocabulary shared by every part of the domain core."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    """DAY rests until cancelled or the day ends; IOC fills what it can now; FOK all or nothing."""

    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A business rule said no: a stable machine code, a human message, and the input field at fault."""

    code: str
    message: str
    field: str | None = None


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Money never passes through float: accept only exact representations."""
    if isinstance(value, float):  # pragma: no cover - guard against misuse
        raise TypeError("money must not be a float")
    return value if isinstance(value, Decimal) else Decimal(value)
