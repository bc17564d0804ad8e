"""Test doubles that implement the project's real interfaces (no mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


class FakeClock:
    """A `brokerql.domain.clock.Clock` that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        return self.current


@dataclass
class RecordingSmsSender:
    """A `brokerql.domain.identity.sms.SmsSender` that remembers every (phone, code) sent, in order."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    async def send_code(self, phone: str, code: str) -> None:
        """Record the message instead of sending it."""
        self.sent.append((phone, code))

    async def send_text(self, phone: str, text: str) -> None:
        """Record the notification instead of sending it."""
        self.texts.append((phone, text))

    def last_code(self, phone: str) -> str | None:
        """The latest code sent to ``phone``, if any."""
        return next((c for p, c in reversed(self.sent) if p == phone), None)


class NoQuotes:
    """Market data before the first quote (the `snapshot` of `services.market.MarketData`): always None."""

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        return None


def fixed_tier(code: str):  # type: ignore[no-untyped-def]
    """A `tier_of` that answers `code` for every client (the tests' accounts are created without the API)."""

    async def tier_of(client_id: str) -> str:
        return code

    return tier_of


def fixed_facts(risk_level: str = "C5", assets: str = "10000000", months: int = 120):  # type: ignore[no-untyped-def]
    """A `client_facts` source answering the same ClientFacts for every client (the tests' clients are
    created without profiles; the default may buy every product on every board)."""
    from decimal import Decimal

    from brokerql.domain.compliance.suitability import ClientFacts

    facts = ClientFacts(risk_level, Decimal(assets), months)

    async def client_facts(client_id: str) -> ClientFacts:
        return facts

    return client_facts
