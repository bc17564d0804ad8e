"""Strict Decimal and DateTime inputs: a bad value is BAD_USER_INPUT, never an exception in a service.

- Decimal: a finite number of at most 20 integer digits and 8 decimals (the NUMERIC(28, 8) of the money
  columns), given as a string or a JSON number. NaN, sNaN, Infinity, 1e400 and 30-digit integers are
  refused with a message saying so.
- DateTime: ISO 8601 with a time zone offset (`2026-11-30T09:30:00+08:00` or `...Z`). A DateTime without
  an offset is refused: reading it as UTC would silently shift a Shanghai-time filter by eight hours.
"""

from __future__ import annotations

import datetime as dt
import decimal

import dateutil.parser
from strawberry.types.scalar import ScalarDefinition

from brokerql.schema.errors import CodedError, ErrorCode

MAX_INTEGER_DIGITS = 20
MAX_DECIMALS = 8
MAX_TEXT = 64


def _refuse(message: str) -> CodedError:
    return CodedError(ErrorCode.BAD_USER_INPUT, message)


def parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _refuse('A Decimal is a string such as "12.34" (or a JSON number).')
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _refuse(f"Decimal value is too long ({len(text)} characters).")
    try:
        number = decimal.Decimal(text)
    except decimal.DecimalException:
        raise _refuse(f'"{text}" is not a decimal number.') from None
    if not number.is_finite():
        raise _refuse(f'"{text}" is not a finite decimal number.')
    _sign, digits, exponent = number.normalize().as_tuple()  # trailing zeros do not count
    assert isinstance(exponent, int)
    integer_digits = len(digits) + exponent
    decimals = -exponent if exponent < 0 else 0
    if integer_digits > MAX_INTEGER_DIGITS or decimals > MAX_DECIMALS:
        raise _refuse(
            f'"{text}" is out of range: at most {MAX_INTEGER_DIGITS} integer digits and {MAX_DECIMALS} decimals.'
        )
    return number


def parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _refuse("A DateTime is an ISO 8601 string with a time zone, e.g. 2026-11-30T09:30:00+08:00.")
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise _refuse(f'"{value}" is not an ISO 8601 date and time.') from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _refuse(f'"{value}" has no time zone: add an offset such as +08:00 or Z.')
    return parsed


DECIMAL = ScalarDefinition(
    name="Decimal",
    description="Decimal (fixed-point)",
    specified_by_url=None,
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=decimal.Decimal,
)

DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=dt.datetime.isoformat,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

OVERRIDES = {decimal.Decimal: DECIMAL, dt.datetime: DATETIME}


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def nul_refusal(query: str, variables: object) -> CodedError | None:
    """Text holding U+0000 (in the document, escaped or raw, or in a variable): BAD_USER_INPUT.

    PostgreSQL's text cannot hold it at all, so such a value would fail deep in a query as an internal
    error; no field of this API has a use for it."""
    if "\\u0000" in query or "\x00" in query or _holds_nul(variables):
        return _refuse("Text may not contain the NUL character (U+0000).")
    return None
