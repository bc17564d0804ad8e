"""The one source of "now": every service, the exchange and the API ask an injected `Clock`.

Production uses `SystemClock`; tests pass a fake clock they move by hand (tests/fakes.py), so no test
monkeypatches a module's time function, and every time-dependent rule can be driven deterministically.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()
