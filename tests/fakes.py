"""Test doubles that implement the project's real interfaces (no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A `brokerql.domain.clock.Clock` that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        return self.current
