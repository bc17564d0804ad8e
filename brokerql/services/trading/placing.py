"""placeOrder: validate with the board rules, reserve funds or shares, store, and tell the exchange."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.instruments import Instrument, validate_order
from brokerql.domain.market.sessions import phase_at
from brokerql.domain.trading.messages import AccountEventKind
from brokerql.domain.trading.orders import Order, OrderRejected, duplicate_client_order_id
from brokerql.services.trading.base import TradingBase
from brokerql.services.trading.requests import OrderRequest, PlaceOutcome, fee_basis, submit_command
from brokerql.store.accounts import append_event, order_from_row, order_to_row, save_account
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import OrderRow


class Placing(TradingBase):
    async def place_order(self, client_id: str, request: OrderRequest) -> PlaceOutcome:
        """Accept (reserve + ACCEPTED event + exchange command, one transaction) or reject an order."""
        instrument = self.instruments.get(request.symbol)
        if instrument is None:
            return PlaceOutcome(errors=[Rejection("UNKNOWN_SYMBOL", f"No instrument {request.symbol}.", "symbol")])
        if (halted := self.halts().refusal(request.symbol)) is not None:  # an operator halted it (E3)
            return PlaceOutcome(errors=[halted])
        now = utcnow()
        async with self.db.transaction() as uow:
            # Buys never touch a position before they fill: only a sell loads the one it sells from.
            symbols = [request.symbol] if request.side is Side.SELL else []
            opened = await self.open_account(uow, request.account_id, now, symbols)
            if opened is None or opened[0].client_id != client_id:
                return PlaceOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            row, account = opened
            if request.client_order_id:
                repeated = await self._repeated(uow, row.id, request)
                if repeated is not None:
                    return repeated
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
            await append_event(uow, row, AccountEventKind.ACCEPTED, now=now, order=order)
            uow.emit(COMMANDS_TOPIC, submit_command(order))
        return PlaceOutcome(order_row)

    async def _repeated(self, uow: UnitOfWork, account_id: str, request: OrderRequest) -> PlaceOutcome | None:
        """A clientOrderId seen before: the same order back, or DUPLICATE_CLIENT_ORDER_ID if it differs."""
        assert request.client_order_id is not None
        existing = await uow.session.scalar(
            select(OrderRow).where(
                OrderRow.account_id == account_id, OrderRow.client_order_id == request.client_order_id
            )
        )
        if existing is None:
            return None
        same = order_from_row(existing).same_request(
            account_id=account_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            price=request.price if request.type is OrderType.LIMIT else None,
            quantity=request.quantity,
        )
        if same:
            return PlaceOutcome(existing)
        return PlaceOutcome(errors=[duplicate_client_order_id(request.client_order_id)])

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
