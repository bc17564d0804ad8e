"""Trading halts: a symbol, or the whole market, refuses new orders. Resting orders stay on the book.

The halt set is a plain value: the operations service loads it from the database (and keeps it fresh
across processes); order placement asks `refusal(symbol)` before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerql.domain.common import Rejection

MARKET = "*"  # the halt row that stands for the whole market
TRADING_HALTED = "TRADING_HALTED"


@dataclass(frozen=True)
class Halts:
    """The symbols halted now; MARKET in the set halts every symbol."""

    symbols: frozenset[str] = field(default_factory=frozenset)

    @property
    def market_halted(self) -> bool:
        return MARKET in self.symbols

    def is_halted(self, symbol: str) -> bool:
        return self.market_halted or symbol in self.symbols

    def refusal(self, symbol: str) -> Rejection | None:
        """Why an order on `symbol` is refused now, or None when trading is open."""
        if self.market_halted:
            return Rejection(TRADING_HALTED, "Trading is halted on the whole market.", "symbol")
        if symbol in self.symbols:
            return Rejection(TRADING_HALTED, f"Trading in {symbol} is halted.", "symbol")
        return None


def scope_of(symbol: str | None) -> str:
    """The halt key of a haltTrading/resumeTrading call: the symbol, or MARKET when none is given."""
    return symbol.strip().upper() if symbol and symbol.strip() else MARKET
