"""What the API hands the trading service, and what the service answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce
from brokerql.domain.market.boards import Board
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading.cancels import CancelCondition, CancelScope
from brokerql.domain.trading.fees import FeeBasis
from brokerql.domain.trading.gateway import SubmitOrder
from brokerql.domain.trading.orders import Order
from brokerql.store.tables import OrderRow

_EXCHANGE_OF_BOARD = {
    Board.SSE_MAIN: "SSE",
    Board.STAR: "SSE",
    Board.ETF: "SSE",
    Board.SZSE_MAIN: "SZSE",
    Board.CHINEXT: "SZSE",
    Board.HK: "HKEX",
    Board.CFFEX_INDEX_FUTURE: "CFFEX",
}


def fee_basis(instrument: Instrument) -> FeeBasis:
    """ETFs and futures pay no stamp duty; the transfer fee depends on the exchange."""
    exempt = instrument.board in (Board.ETF, Board.CFFEX_INDEX_FUTURE)
    return FeeBasis(exchange=_EXCHANGE_OF_BOARD[instrument.board], stamp_duty_exempt=exempt)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the client asked for, after the API layer parsed it (price levels already resolved)."""

    account_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: int
    price: Decimal | None = None
    client_order_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    reference_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """A flexible cancel (D3): which orders of an account, and whether only to preview them."""

    account_id: str
    scope: CancelScope
    order_ids: list[str] | None = None
    symbol: str | None = None
    side: Side | None = None
    condition: CancelCondition | None = None
    dry_run: bool = False


@dataclass
class CancelOutcome:
    """The orders a cancel covered (as last seen) and why any were not, or could not be, cancelled."""

    orders: list[OrderRow] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class PlaceOutcome:
    """The accepted (or idempotently repeated) order, or the rejections."""

    order: OrderRow | None = None
    errors: list[Rejection] = field(default_factory=list)


def submit_command(order: Order) -> SubmitOrder:
    """The venue command for an accepted order: what is left of it, as it stands."""
    return SubmitOrder(
        order_id=order.id,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        price=order.price,
        quantity=order.leaves_qty,
        time_in_force=order.time_in_force,
        created_at=order.created_at,
    )
