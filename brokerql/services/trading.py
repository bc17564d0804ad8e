"""Placing orders and booking what the exchange did with them: the one place orders and accounts change.

Every change runs in one transaction that also appends the account's next event (gapless seq) and
puts it in the outbox, so "acknowledged" always means "durable", and subscribers see exactly the
committed history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce
from brokerql.domain.market.boards import Board
from brokerql.domain.market.instruments import Instrument, validate_order
from brokerql.domain.market.sessions import phase_at, trading_day
from brokerql.domain.trading.account import Account
from brokerql.domain.trading.cancels import CancelCondition, CancelScope, select_orders_to_cancel
from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.fees import FeeBasis
from brokerql.domain.trading.orders import (
    Order,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderError,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    duplicate_client_order_id,
)
from brokerql.exchange.engine import COMMANDS_TOPIC, WorkingOrder
from brokerql.store.accounts import append_event, load_account, order_from_row, order_to_row, save_account
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, FillRow, OrderRow

log = logging.getLogger(__name__)

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
    orders: list[OrderRow] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class PlaceOutcome:
    order: OrderRow | None = None
    errors: list[Rejection] = field(default_factory=list)


class TradingService:
    def __init__(self, db: Database, instruments: dict[str, Instrument], *, market_always_open: bool) -> None:
        self.db = db
        self.instruments = instruments
        self.always_open = market_always_open

    # -- the account's day ---------------------------------------------------------------------------

    async def open_account(self, uow: UnitOfWork, account_id: str, now: datetime) -> tuple[AccountRow, Account] | None:
        """Load and lock an account, running the daily settlement first if a new trading day began."""
        loaded = await load_account(uow, account_id)
        if loaded is None:
            return None
        row, account = loaded
        today = trading_day(now).isoformat()
        if row.trading_day != today:
            if row.trading_day:  # a brand-new account has nothing to settle
                account.roll_day()
                await save_account(uow, row, account, now)
                await append_event(uow, row, "DAY_SETTLED", now=now, extra={"tradingDay": today})
            row.trading_day = today
        return row, account

    # -- placing -------------------------------------------------------------------------------------

    async def place_order(self, client_id: str, request: OrderRequest) -> PlaceOutcome:
        instrument = self.instruments.get(request.symbol)
        if instrument is None:
            return PlaceOutcome(errors=[Rejection("UNKNOWN_SYMBOL", f"No instrument {request.symbol}.", "symbol")])
        now = utcnow()
        async with self.db.transaction() as uow:
            opened = await self.open_account(uow, request.account_id, now)
            if opened is None or opened[0].client_id != client_id:
                return PlaceOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            row, account = opened
            if request.client_order_id:
                existing = await self._by_client_order_id(uow, row.id, request.client_order_id)
                if existing is not None:
                    same = order_from_row(existing).same_request(
                        account_id=row.id,
                        symbol=request.symbol,
                        side=request.side,
                        type=request.type,
                        price=request.price if request.type is OrderType.LIMIT else None,
                        quantity=request.quantity,
                    )
                    return PlaceOutcome(
                        existing if same else None,
                        [] if same else [duplicate_client_order_id(request.client_order_id)],
                    )
            phase = phase_at(instrument.board, now, always_open=self.always_open)
            sellable = account.position(request.symbol).sellable_quantity
            errors = validate_order(
                instrument,
                request.side,
                request.type,
                request.price,
                request.quantity,
                phase=phase,
                reference_price=request.reference_price,
                sellable_quantity=sellable,
            )
            if request.side is Side.SELL and request.quantity > sellable and not errors:
                errors = [Rejection("INSUFFICIENT_POSITION", f"Only {sellable} sellable today.", "quantity")]
            if errors:
                return PlaceOutcome(errors=errors)
            order = Order(
                id=new_id("ord"),
                account_id=row.id,
                symbol=request.symbol,
                side=request.side,
                type=request.type,
                price=request.price if request.type is OrderType.LIMIT else None,
                quantity=request.quantity,
                created_at=now,
                updated_at=now,
                client_order_id=request.client_order_id,
                time_in_force=request.time_in_force,
            )
            event = account.accept(
                order,
                ts=now,
                protective_price=self._protective_price(instrument, request),
                basis=fee_basis(instrument),
            )
            if isinstance(event, OrderRejected):
                return PlaceOutcome(errors=[Rejection(event.code, event.reason, "quantity")])
            order_row = order_to_row(order)
            uow.session.add(order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, "ACCEPTED", now=now, order=order_row)
            uow.emit(COMMANDS_TOPIC, self._command(order_row))
        return PlaceOutcome(order_row)

    @staticmethod
    def _protective_price(instrument: Instrument, request: OrderRequest) -> Decimal | None:
        """Market buys freeze cash at the highest price they could trade: the limit-up price, or for
        boards without limits a wide band over the reference price."""
        if request.type is OrderType.LIMIT:
            return None
        if instrument.limit_up is not None:
            return instrument.limit_up
        reference = request.reference_price or instrument.prev_close
        return instrument.price_up(reference * Decimal("1.5"))

    @staticmethod
    def _command(order: OrderRow) -> dict[str, object]:
        return {
            "type": "new",
            "orderId": order.id,
            "symbol": order.symbol,
            "side": order.side,
            "orderType": order.type,
            "price": None if order.price is None else str(order.price),
            "quantity": order.leaves_qty,
            "timeInForce": order.time_in_force,
        }

    @staticmethod
    async def _by_client_order_id(uow: UnitOfWork, account_id: str, client_order_id: str) -> OrderRow | None:
        return await uow.session.scalar(
            select(OrderRow).where(OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id)
        )

    # -- cancelling ----------------------------------------------------------------------------------

    async def cancel_orders(self, client_id: str, request: CancelRequest) -> CancelOutcome:
        """Select the orders a cancel covers (D3) and, unless it is a dry run, ask the exchange to pull them."""
        now = utcnow()
        async with self.db.transaction() as uow:
            opened = await self.open_account(uow, request.account_id, now)
            if opened is None or opened[0].client_id != client_id:
                return CancelOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            row, _account = opened
            candidates = await self._cancel_candidates(uow, row.id, request.order_ids)
            chosen, errors = select_orders_to_cancel(
                [order_from_row(r) for r in candidates],
                request.scope,
                order_ids=request.order_ids,
                symbol=request.symbol,
                side=request.side,
                condition=request.condition,
            )
            rows = {r.id: r for r in candidates}
            if request.dry_run:
                return CancelOutcome([rows[o.id] for o in chosen], errors)
            for order in chosen:
                order.apply(OrderCancelRequested(order_id=order.id, ts=now))
                order_row = order_to_row(order, rows[order.id])
                await append_event(uow, row, "CANCEL_REQUESTED", now=now, order=order_row)
                uow.emit(COMMANDS_TOPIC, {"type": "cancel", "orderId": order.id, "symbol": order.symbol})
        return CancelOutcome([rows[o.id] for o in chosen], errors)

    @staticmethod
    async def _cancel_candidates(uow: UnitOfWork, account_id: str, named: list[str] | None) -> list[OrderRow]:
        """Working orders, plus any named ones (finished ones give a precise TOO_LATE_TO_CANCEL)."""
        working = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]
        condition = OrderRow.status.in_(working)
        if named:
            condition = or_(condition, OrderRow.id.in_(named))
        query = select(OrderRow).where(OrderRow.account_id == account_id, condition).order_by(OrderRow.id)
        return list((await uow.session.scalars(query)).all())

    # -- booking the exchange's results (ExecutionBooker) ---------------------------------------------

    async def book_fill(self, order_id: str, exec_id: str, price: Decimal, quantity: int, maker: bool) -> None:
        now = utcnow()
        async with self.db.transaction() as uow:
            if await uow.session.scalar(select(FillRow.id).where(FillRow.exec_id == exec_id)):
                return  # already booked: the exchange retried after a lost answer
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, account = loaded
            instrument = self.instruments[order.symbol]
            fees = account.fees_for_fill(order, price, quantity, fee_basis(instrument))
            fill = OrderFilled(
                order_id=order.id,
                ts=now,
                fill_id=new_id("fil"),
                price=price,
                quantity=quantity,
                fees=fees,
                liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
            )
            try:
                account.book_fill(order, fill, t_plus=instrument.t_plus)
            except (OrderError, ValueError) as exc:
                log.error("fill %s for order %s refused by the domain: %s", exec_id, order_id, exc)
                return
            fill_row = FillRow(
                id=fill.fill_id,
                exec_id=exec_id,
                order_id=order.id,
                account_id=row.id,
                symbol=order.symbol,
                side=order.side.value,
                price=price,
                quantity=quantity,
                commission=fees.commission,
                stamp_duty=fees.stamp_duty,
                transfer_fee=fees.transfer_fee,
                created_at=now,
            )
            uow.session.add(fill_row)
            order_to_row(order, order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, "FILL", now=now, order=order_row, fill=fill_snapshot(fill_row))

    async def book_canceled(self, order_id: str, quantity: int, reason: str) -> None:
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, account = loaded
            try:
                account.close_order(
                    order, OrderCanceled(order_id=order.id, ts=now, canceled_quantity=quantity, reason=reason)
                )
            except (OrderError, ValueError) as exc:
                log.error("cancel of %s refused by the domain: %s", order_id, exc)
                return
            order_to_row(order, order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, "CANCELED", now=now, order=order_row, extra={"reason": reason})

    async def book_cancel_rejected(self, order_id: str, reason: str) -> None:
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, _account = loaded
            if order.status is not OrderStatus.PENDING_CANCEL and order.status is not OrderStatus.FILLED:
                return
            order.apply(OrderCancelRejected(order_id=order.id, ts=now, reason=reason))
            order_to_row(order, order_row)
            await append_event(
                uow,
                row,
                "CANCEL_REJECTED",
                now=now,
                order=order_row,
                extra={"code": "TOO_LATE_TO_CANCEL", "reason": reason},
            )

    async def working_orders(self) -> list[WorkingOrder]:
        working = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]
        async with self.db.read() as session:
            rows = (
                await session.scalars(select(OrderRow).where(OrderRow.status.in_(working)).order_by(OrderRow.id))
            ).all()
        return [
            WorkingOrder(
                order_id=r.id,
                symbol=r.symbol,
                side=Side(r.side),
                type=OrderType(r.type),
                price=r.price,
                leaves_qty=r.leaves_qty,
                time_in_force=TimeInForce(r.time_in_force),
                cancel_requested=r.status == OrderStatus.PENDING_CANCEL.value,
            )
            for r in rows
            if r.leaves_qty > 0
        ]

    async def _order_and_account(
        self, uow: UnitOfWork, order_id: str, now: datetime
    ) -> tuple[OrderRow, Order, AccountRow, Account] | None:
        order_row = await uow.session.get(OrderRow, order_id)
        if order_row is None:
            log.error("exchange reported on unknown order %s", order_id)
            return None
        opened = await self.open_account(uow, order_row.account_id, now)
        assert opened is not None
        await uow.session.refresh(order_row)
        return order_row, order_from_row(order_row), opened[0], opened[1]


def fill_snapshot(row: FillRow) -> dict[str, object]:
    return {
        "id": row.id,
        "orderId": row.order_id,
        "symbol": row.symbol,
        "side": row.side,
        "price": str(row.price),
        "quantity": row.quantity,
        "commission": str(row.commission),
        "stampDuty": str(row.stamp_duty),
        "transferFee": str(row.transfer_fee),
        "at": row.created_at.isoformat(),
    }
