"""Client orders as the exchange sees them: what it must hold on its books, and where results go.

DAY orders live for one trading day. When the desk rolls an instrument to its next trading day, the
client orders still resting from an earlier day are taken off the book and reported as expired; an
order the database still has working from a past day (the exchange was down at the roll) is expired
when the venue is restored instead of being put back on the book.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from brokerql.domain.trading.gateway import ExecutionReport, WorkingOrder

__all__ = ["ExecutionBooker", "RestingClientOrders", "WorkingOrder"]


class ExecutionBooker(Protocol):
    """Where the venue's results for client orders go (the trading service)."""

    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        """Consecutive execution reports of one order, booked in order, each once (by exec_id)."""

    async def book_together(self, batches: Sequence[Sequence[ExecutionReport]]) -> None:
        """Several orders' TRADE reports (a batch per order, in order), each booked once, at once."""

    async def book_together_in(self, uow: Any, batches: Sequence[Sequence[ExecutionReport]]) -> None:
        """As `book_together`, in the caller's unit of work (the journal's); raises when they cannot all be
        booked there, and the caller then rolls back and books them as usual."""


class RestingClientOrders:
    """The client orders resting on the books: their symbol and the trading day they belong to."""

    def __init__(self) -> None:
        self.symbols: dict[str, str] = {}
        self.days: dict[str, date] = {}

    def add(self, order_id: str, symbol: str, day: date) -> None:
        self.symbols[order_id] = symbol
        self.days[order_id] = day

    def __contains__(self, order_id: object) -> bool:
        return order_id in self.symbols

    def discard(self, order_id: str) -> None:
        self.symbols.pop(order_id, None)
        self.days.pop(order_id, None)

    def before(self, symbol: str, day: date) -> list[str]:
        """The resting orders of `symbol` from a trading day before `day` (oldest first by id)."""
        return sorted(o for o, s in self.symbols.items() if s == symbol and self.days[o] < day)
