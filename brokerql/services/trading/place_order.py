"""placeOrder: entitlement, pricing from the book, board rules, reserve funds or shares, store, tell the exchange.

The account is read once, locked, in the one transaction that accepts the order; the tier and the
quote are read before it (neither needs the lock, and the bus must not hold a database lock).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select

from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.clock import Clock
from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.entitlement_rules import trading_entitlement
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.market.instruments import Instrument, validate_order
from brokerql.domain.market.sessions import phase_at
from brokerql.domain.operations.halts import Halts
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.gateway import refuse_without_venue
from brokerql.domain.trading.messages import AccountEventKind, OrderView
from brokerql.domain.trading.orders import Order, OrderPurpose, OrderRejected, duplicate_client_order_id
from brokerql.domain.trading.price_levels import no_quote_at_level, resolve_price_level
from brokerql.services.products.credit_rules import CreditOrderRules
from brokerql.services.trading.accounts import fee_basis, open_account, submit_command
from brokerql.services.trading.outcomes import PlaceOutcome
from brokerql.store.accounts import append_event, order_from_row, order_to_row, save_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import OrderRow

log = logging.getLogger(__name__)

_NO_QUOTE = Rejection("MARKET_DATA_UNAVAILABLE", "No quote right now; try again shortly.", "symbol")


class Entitlements(Protocol):
    """The tier catalog: which tier grants an entitlement key."""

    def grants(self, tier_code: TierCode, key: str) -> bool: ...
    def lowest_tier_granting(self, key: str) -> TierCode | None: ...


class Quotes(Protocol):
    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class _Priced:
    type: OrderType
    price: Decimal | None
    reference: Decimal | None  # the last trade price: the price cage and market-buy protection use it


class PlaceOrderService:
    """Accept (reserve + ACCEPTED event + exchange command, one transaction) or reject an order."""

    def __init__(
        self,
        db: Database,
        instruments: dict[str, Instrument],
        quotes: Quotes,
        catalog: Entitlements,
        tier_of: Callable[[str], Awaitable[str]],
        clock: Clock,
        *,
        market_always_open: bool,
    ) -> None:
        self.db, self.instruments, self.quotes, self.catalog = db, instruments, quotes, catalog
        self.tier_of, self.clock, self.always_open = tier_of, clock, market_always_open
        self.halts: Callable[[], Halts] = Halts  # trading halts in force (E3); the monitor keeps them fresh
        self.on_placed: Callable[[bool], None] = lambda accepted: None  # the monitor's order count
        self.venue_live: Callable[[], bool] = lambda: True  # is an exchange live (the container's VenueWatch)
        # Product lines (C7 margin trading): the credit checks of financing buys and short sales.
        self.credit = CreditOrderRules(quotes, instruments)

    async def place(self, client_id: str, command: PlaceOrder) -> PlaceOutcome:
        outcome = await self._place(client_id, command)
        self.on_placed(outcome.order is not None and not outcome.errors)
        return outcome

    async def _place(self, client_id: str, command: PlaceOrder) -> PlaceOutcome:
        tier = TierCode(await self.tier_of(client_id))
        instrument = self.instruments.get(command.symbol)
        snapshot = await self._snapshot(instrument) if instrument is not None else None
        # margin credit (C7): collateral prices, read before the lock like the quote
        credit_prices = await self.credit.prices.all() if command.purpose.takes_credit else None
        now = self.clock.now()
        async with self.db.transaction() as uow:
            # Buys never touch a position before they fill: only a sell loads the one it sells from.
            symbols = [command.symbol] if command.side is Side.SELL else []
            loaded = await open_account(uow, command.account_id, now, symbols)
            if loaded is None or loaded.row.client_id != client_id:
                return PlaceOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            refused = self._not_entitled(tier, loaded.account.type)
            if refused is None and instrument is None:
                refused = Rejection("UNKNOWN_SYMBOL", f"No instrument {command.symbol}.", "symbol")
            if refused is None:
                refused = self.halts().refusal(command.symbol)  # an operator halted it (E3)
            priced = refused or self._priced(command, snapshot)
            if not isinstance(priced, Rejection):  # LIMIT orders wait queued for an exchange; MARKET ones need one
                priced = refuse_without_venue(priced.type, self.venue_live()) or priced
            if isinstance(priced, Rejection):
                return PlaceOutcome(errors=[priced])
            assert instrument is not None
            if command.client_order_id:
                repeated = await self._repeated(uow, loaded.row.id, command, priced)
                if repeated is not None:
                    return repeated
            phase = phase_at(instrument.board, now, always_open=self.always_open)
            account = loaded.account
            # Futures sell to open a short or to close a long: the account's accept decides, not shares.
            sells_shares = account.sells_from_shares(command.purpose)
            sellable = account.position(command.symbol).sellable_quantity if sells_shares else None
            errors = validate_order(
                instrument,
                command.side,
                priced.type,
                priced.price,
                command.quantity,
                phase=phase,
                reference_price=priced.reference,
                sellable_quantity=sellable,
            )
            if sellable is not None and command.side is Side.SELL and command.quantity > sellable and not errors:
                errors = [Rejection("INSUFFICIENT_POSITION", f"Only {sellable} sellable today.", "quantity")]
            if errors:
                return PlaceOutcome(errors=errors)
            order = Order(
                id=new_id("ord"),
                account_id=loaded.row.id,
                symbol=command.symbol,
                side=command.side,
                type=priced.type,
                price=priced.price,
                quantity=command.quantity,
                created_at=now,
                updated_at=now,
                client_order_id=command.client_order_id,
                time_in_force=command.time_in_force,
                purpose=command.purpose,
            )
            if command.purpose is not OrderPurpose.NORMAL:  # margin trading (C7): credit, lines, lending pool
                refused = await self.credit.refusal(uow, account, order, credit_prices or {}, priced.reference)
                if refused is not None:
                    return PlaceOutcome(errors=[refused])
            protective = _protective_price(instrument, priced)
            event = account.accept(order, ts=now, protective_price=protective, basis=fee_basis(instrument))
            if isinstance(event, OrderRejected):
                return PlaceOutcome(errors=[Rejection(event.code, event.reason, "quantity")])
            uow.session.add(order_to_row(order))
            await save_account(uow, loaded, now)
            await append_event(uow, loaded.row, AccountEventKind.ACCEPTED, now=now, order=order)
            uow.emit(COMMANDS_TOPIC, submit_command(order))
        return PlaceOutcome(OrderView.of(order))

    async def _snapshot(self, instrument: Instrument) -> dict[str, Any] | Rejection | None:
        try:
            return await self.quotes.snapshot(instrument.symbol)
        except Exception:  # the bus is down (Redis restarting): no quote means no price checks, so no order
            log.warning("no quote for %s: market data unavailable", instrument.symbol, exc_info=True)
            return _NO_QUOTE

    def _not_entitled(self, tier: TierCode, account_type: AccountType) -> Rejection | None:
        """The domain's rule: which entitlement trading on this account type needs."""
        key = trading_entitlement(account_type)
        if self.catalog.grants(tier, key):
            return None
        lowest = self.catalog.lowest_tier_granting(key)
        return Rejection("NOT_ENTITLED", f"Trading here needs {key} ({lowest.value if lowest else 'no tier'} and up).")

    @staticmethod
    def _priced(command: PlaceOrder, snapshot: dict[str, Any] | Rejection | None) -> _Priced | Rejection:
        """The order's type and price: a quote level (flash order) is priced from the book as a LIMIT."""
        if isinstance(snapshot, Rejection):
            return snapshot
        reference = Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None
        order_type, price = command.type, command.price
        if command.price_level is not None:
            book = snapshot or {"bids": [], "asks": []}
            bids = [(Decimal(p), q) for p, q, _n in book["bids"]]
            asks = [(Decimal(p), q) for p, q, _n in book["asks"]]
            price = resolve_price_level(command.price_level, bids, asks, reference)
            if price is None:
                return no_quote_at_level(command.price_level)
            order_type = OrderType.LIMIT
        if order_type is not OrderType.LIMIT:
            return _Priced(order_type, None, reference)
        if price is None or price <= 0:
            return Rejection("BAD_PRICE", "A limit order needs a positive price (or a priceLevel).", "price")
        return _Priced(order_type, price, reference)

    @staticmethod
    async def _repeated(uow: UnitOfWork, account_id: str, command: PlaceOrder, priced: _Priced) -> PlaceOutcome | None:
        """A clientOrderId seen before: the same order back, or DUPLICATE_CLIENT_ORDER_ID if it differs."""
        assert command.client_order_id is not None
        existing = await uow.session.scalar(
            select(OrderRow).where(
                OrderRow.account_id == account_id, OrderRow.client_order_id == command.client_order_id
            )
        )
        if existing is None:
            return None
        order = order_from_row(existing)
        same = order.same_request(
            account_id=account_id,
            symbol=command.symbol,
            side=command.side,
            type=priced.type,
            price=priced.price,
            quantity=command.quantity,
        )
        if same:
            return PlaceOutcome(OrderView.of(order))
        return PlaceOutcome(errors=[duplicate_client_order_id(command.client_order_id)])


def _protective_price(instrument: Instrument, priced: _Priced) -> Decimal | None:
    """Market buys freeze cash at the highest price they could trade: the limit-up price, or for boards
    without limits a wide band over the reference price."""
    if priced.type is OrderType.LIMIT:
        return None
    if instrument.limit_up is not None:
        return instrument.limit_up
    reference = priced.reference or instrument.prev_close
    return instrument.price_up(reference * Decimal("1.5"))
