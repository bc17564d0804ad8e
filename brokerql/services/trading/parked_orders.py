"""Parked orders (C5): park, cancel, list, and fire exactly once through placeOrder.

Firing is two short transactions around an ordinary placement:

1. claim: a conditional UPDATE PARKED -> FIRING with a fresh claim token (`store.parked.claim`);
   of all the processes that saw the same quote, exactly one gets the row back;
2. place: `PlaceOrderService.place`, so entitlement, funds, halts and board rules apply as for any
   order; the order carries a clientOrderId derived from the parked order (placing is idempotent on it);
3. finish: FIRING -> TRIGGERED (linking the order) or FAILED (with the rejection's code), only while the
   claim is still ours, with the account's next event in the same transaction.

A process that dies between 1 and 3 leaves the row FIRING. After the domain's claim timeout the sweep
of any process takes it over: it looks for the order the dead one may already have placed (by the
clientOrderId) before placing, so the order is placed once whichever process finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import select

from brokerql.bus.topics import PARKED_ORDERS_TOPIC
from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.tiers import TRADING_PARKED, TierCode
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.messages import PARKED_EVENT_KIND, OrderView
from brokerql.domain.trading.parked import (
    CLAIM_TIMEOUT,
    DEFAULT_VALIDITY,
    ParkedOrderView,
    ParkedStatus,
    ParkOrder,
    TriggerKind,
    cancel_refusal,
    order_refusal,
    park_refusal,
    placed_client_order_id,
)
from brokerql.domain.trading.products import product_refusal, session_refusal
from brokerql.exchange.snapshots import last_trade
from brokerql.services.trading.outcomes import PlaceOutcome
from brokerql.services.trading.place_order import Entitlements, PlaceOrderService, Quotes
from brokerql.store.account_events import append_event
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.orders import order_from_row
from brokerql.store.parked import Claim, claim, lock_account, move, parked_row, parked_view
from brokerql.store.tables import AccountRow, OrderRow
from brokerql.store.tables_trading import ParkedOrderRow

log = logging.getLogger(__name__)

_NOT_FOUND = Rejection("NOT_FOUND", "No such parked order.", "id")


@dataclass
class ParkedOutcome:
    """The parked order after the call, or why the call was refused."""

    parked: ParkedOrderView | None = None
    errors: list[Rejection] = field(default_factory=list)


class ParkedOrdersService:
    """Every change of a parked order: each one conditional, durable, and an event on the account."""

    def __init__(
        self,
        db: Database,
        place: PlaceOrderService,
        quotes: Quotes,
        instruments: dict[str, Instrument],
        catalog: Entitlements,
        tier_of: Callable[[str], Awaitable[str]],
        clock: Clock,
    ) -> None:
        self.db, self.place, self.quotes, self.instruments = db, place, quotes, instruments
        self.catalog, self.tier_of, self.clock = catalog, tier_of, clock

    # -- the client's calls ------------------------------------------------------------------------

    async def park(
        self, client_id: str, command: ParkOrder, *, session_account_type: str | None = None
    ) -> ParkedOutcome:
        """Park an order; the account rules that do not depend on the market (the session's account
        type, products per account) refuse it now rather than when it fires."""
        order, now = command.order, self.clock.now()
        if order.symbol not in self.instruments:
            return ParkedOutcome(errors=[Rejection("UNKNOWN_SYMBOL", f"No instrument {order.symbol}.", "symbol")])
        wrong = order_refusal(order)
        if wrong is not None:
            return ParkedOutcome(errors=[wrong])
        valid_until = command.valid_until or now + DEFAULT_VALIDITY
        last = await self._last(order.symbol) if command.trigger.is_price else None
        refused = park_refusal(command.trigger, valid_until, now, last)
        if refused is not None:
            return ParkedOutcome(errors=[refused])
        async with self.db.transaction() as uow:
            account = await lock_account(uow, order.account_id)
            if account is None or account.client_id != client_id:
                return ParkedOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            account_type, board = AccountType(account.type), self.instruments[order.symbol].board
            refused = session_refusal(session_account_type, account_type) or product_refusal(
                account_type, order.symbol, board
            )
            if refused is not None:
                return ParkedOutcome(errors=[refused])
            if order.client_order_id and await self._client_order_id_taken(uow, account.id, order.client_order_id):
                code = "DUPLICATE_CLIENT_ORDER_ID"
                return ParkedOutcome(errors=[Rejection(code, "That clientOrderId is already used.", "clientOrderId")])
            row = parked_row(new_id("pko"), client_id, command, valid_until, now)
            uow.session.add(row)
            await uow.session.flush()
            parked = parked_view(row)
            await self._announce(uow, account, parked)
        return ParkedOutcome(parked)

    async def cancel(self, client_id: str, parked_id: str) -> ParkedOutcome:
        now = self.clock.now()
        async with self.db.transaction() as uow:
            row = await uow.session.get(ParkedOrderRow, parked_id)
            if row is None or row.client_id != client_id:
                return ParkedOutcome(errors=[_NOT_FOUND])
            account = await lock_account(uow, row.account_id)
            assert account is not None
            canceled = await move(uow, parked_id, [ParkedStatus.PARKED], ParkedStatus.CANCELED, now)
            if canceled is None:  # it moved on first (fired, or its validity ended): say what it is now
                await uow.session.refresh(row)
                refused = cancel_refusal(ParkedStatus(row.status)) or _NOT_FOUND
                return ParkedOutcome(parked_view(row), errors=[refused])
            await self._announce(uow, account, canceled)
        return ParkedOutcome(canceled)

    async def of_account(self, client_id: str, account_id: str) -> list[ParkedOrderView] | None:
        """The account's parked orders, newest first (None: not the caller's account)."""
        async with self.db.read() as session:
            account = await session.get(AccountRow, account_id)
            if account is None or account.client_id != client_id:
                return None
            query = select(ParkedOrderRow).where(ParkedOrderRow.account_id == account_id)
            rows = (await session.scalars(query.order_by(ParkedOrderRow.id.desc()).limit(200))).all()  # type: ignore[attr-defined]
        return [parked_view(r) for r in rows]

    # -- the server's side: the trigger watch and the sweep call these ----------------------------

    async def armed_price_triggers(self) -> list[ParkedOrderView]:
        """Every parked order waiting for a price (the trigger watch's index)."""
        price_kinds = [TriggerKind.PRICE_ABOVE.value, TriggerKind.PRICE_BELOW.value]
        query = select(ParkedOrderRow).where(
            ParkedOrderRow.status == ParkedStatus.PARKED.value,
            ParkedOrderRow.trigger_kind.in_(price_kinds),  # type: ignore[attr-defined]
        )
        async with self.db.read() as session:
            return [parked_view(r) for r in (await session.scalars(query)).all()]

    async def sweep(self) -> None:
        """Expire what outlived its validity, fire the time triggers whose time came, and take over claims
        whose holder died mid-fire. Any process may run it at any time: every move is conditional."""
        now = self.clock.now()
        parked, firing = ParkedStatus.PARKED.value, ParkedStatus.FIRING.value
        async with self.db.read() as session:
            expired = await session.scalars(
                select(ParkedOrderRow.id).where(ParkedOrderRow.status == parked, ParkedOrderRow.valid_until <= now)
            )
            expired_ids = list(expired.all())
            due = await session.scalars(
                select(ParkedOrderRow.id).where(
                    ParkedOrderRow.status == parked,
                    ParkedOrderRow.trigger_kind == TriggerKind.AT.value,
                    ParkedOrderRow.trigger_at <= now,  # type: ignore[operator]
                    ParkedOrderRow.valid_until > now,
                )
            )
            stale = await session.scalars(
                select(ParkedOrderRow.id).where(
                    ParkedOrderRow.status == firing,
                    ParkedOrderRow.claimed_at <= now - CLAIM_TIMEOUT,  # type: ignore[operator]
                )
            )
            fire_ids = [*due.all(), *stale.all()]
        for parked_id in expired_ids:
            await self.expire(parked_id)
        for parked_id in fire_ids:  # in id order: time triggers of the same time go out as parked
            await self.fire(parked_id)

    async def expire(self, parked_id: str) -> ParkedOrderView | None:
        now = self.clock.now()
        async with self.db.transaction() as uow:
            owner = await uow.session.scalar(select(ParkedOrderRow.account_id).where(ParkedOrderRow.id == parked_id))
            account = await lock_account(uow, owner) if owner is not None else None
            if account is None:
                return None
            expired = await move(uow, parked_id, [ParkedStatus.PARKED], ParkedStatus.EXPIRED, now)
            if expired is not None:
                await self._announce(uow, account, expired)
        return expired

    async def fire(self, parked_id: str) -> ParkedOrderView | None:
        """Claim the parked order and place its order; the parked order after it, or None when another
        process holds it (or it is no longer parked)."""
        token = new_id("clm")
        async with self.db.transaction() as uow:
            claimed = await claim(uow, parked_id, token, self.clock.now())
        if claimed is None:
            return None
        outcome = await self._place(claimed)
        return await self._finish(claimed.parked, token, outcome)

    # -- inside -------------------------------------------------------------------------------------

    async def _place(self, claimed: Claim) -> PlaceOutcome:
        parked, client_id = claimed.parked, claimed.client_id
        tier = TierCode(await self.tier_of(client_id))
        if not self.catalog.grants(tier, TRADING_PARKED):  # downgraded since parking
            lowest = self.catalog.lowest_tier_granting(TRADING_PARKED)
            need = f"{lowest.value} and up" if lowest else "no tier"
            return PlaceOutcome(errors=[Rejection("NOT_ENTITLED", f"Parked orders need {TRADING_PARKED} ({need}).")])
        client_order_id = placed_client_order_id(parked.id, parked.order.client_order_id)
        if claimed.takeover:  # the dead claimant may have placed it already
            placed = await self._order_by_client_id(parked.account_id, client_order_id)
            if placed is not None:
                return PlaceOutcome(placed)
        order = replace(parked.order, client_order_id=client_order_id)
        return await self.place.place(client_id, order, direct_entry=False)  # the parked feature places it

    async def _finish(self, parked: ParkedOrderView, token: str, outcome: PlaceOutcome) -> ParkedOrderView | None:
        now = self.clock.now()
        async with self.db.transaction() as uow:
            account = await lock_account(uow, parked.account_id)
            assert account is not None
            if outcome.order is not None and not outcome.errors:
                values = {"placed_order_id": outcome.order.id}
                target = ParkedStatus.TRIGGERED
            else:
                first = outcome.errors[0] if outcome.errors else Rejection("NOT_PLACED", "The order was not placed.")
                values = {"failure_code": first.code, "failure_reason": first.message[:255]}
                target = ParkedStatus.FAILED
            done = await move(uow, parked.id, [ParkedStatus.FIRING], target, now, claim_token=token, **values)
            if done is None:  # too slow: another process took the claim over, and its result stands
                log.warning("parked order %s: claim %s was taken over before it finished", parked.id, token)
                return None
            await self._announce(uow, account, done)
        return done

    async def _announce(self, uow: UnitOfWork, account: AccountRow, parked: ParkedOrderView) -> None:
        """The account's next event (gapless seq), and a note to every process's trigger watch."""
        kind = PARKED_EVENT_KIND[parked.status]
        code, reason = parked.failure_code, parked.failure_reason
        await append_event(uow, account, kind, now=parked.updated_at, parked=parked, code=code, reason=reason)
        uow.emit(PARKED_ORDERS_TOPIC, parked)

    async def _last(self, symbol: str) -> Decimal | None:
        try:
            snapshot = await self.quotes.snapshot(symbol)
        except Exception:  # the bus is away: park without a reference; a later quote decides
            log.warning("no quote for %s while parking", symbol, exc_info=True)
            return None
        return last_trade(snapshot)

    @staticmethod
    async def _client_order_id_taken(uow: UnitOfWork, account_id: str, client_order_id: str) -> bool:
        order = await uow.session.scalar(
            select(OrderRow.id).where(OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id)
        )
        parked = await uow.session.scalar(
            select(ParkedOrderRow.id).where(
                ParkedOrderRow.account_id == account_id, ParkedOrderRow.client_order_id == client_order_id
            )
        )
        return order is not None or parked is not None

    async def _order_by_client_id(self, account_id: str, client_order_id: str) -> OrderView | None:
        async with self.db.read() as session:
            row = await session.scalar(
                select(OrderRow).where(OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id)
            )
        return OrderView.of(order_from_row(row)) if row is not None else None
