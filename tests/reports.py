"""Execution reports as the exchange sends them, for tests that book directly through the trading service."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.gateway import ExecType, ExecutionReport

_TS = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def trade(order_id: str, exec_id: str, price: Decimal, quantity: int, maker: bool = False) -> ExecutionReport:
    return ExecutionReport(
        exec_id=exec_id,
        order_id=order_id,
        symbol="",
        exec_type=ExecType.TRADE,
        last_qty=quantity,
        last_px=Decimal(price),
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        ts=_TS,
    )


def _other(order_id: str, exec_type: ExecType, quantity: int, text: str) -> ExecutionReport:
    return ExecutionReport(
        exec_id=f"{order_id}:{exec_type}",
        order_id=order_id,
        symbol="",
        exec_type=exec_type,
        last_qty=quantity,
        text=text,
        ts=_TS,
    )


def canceled(order_id: str, quantity: int, text: str = "canceled by client") -> ExecutionReport:
    return _other(order_id, ExecType.CANCELED, quantity, text)


def expired(order_id: str, quantity: int) -> ExecutionReport:
    return _other(order_id, ExecType.EXPIRED, quantity, "end of trading day")


def cancel_rejected(order_id: str, text: str = "the order had already filled") -> ExecutionReport:
    return _other(order_id, ExecType.CANCEL_REJECTED, 0, text)
