"""placeOrder (and its batch and preview forms): admit the order(s), store, tell the exchange.

Every rule lives in the admission (`services/trading/admission.py`); this module only reads what it
needs and writes what it admitted. The account is read once, locked, in the one transaction that
accepts the order(s); the tier and the quotes are read before it (neither needs the lock, and the bus
must not hold a database lock). `place_all` accepts several orders in that one transaction, all or
none (a basket's legs, both sides of a paired order); `preview` and `preview_all` run the same
admission on the account as it stands and write nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection, Side
from brokerql.domain.compliance.suitability import ClientFacts
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.operations.halts import Halts
from brokerql.domain.trading.account import Account, as_of_day
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.messages import AccountEventKind, OrderView
from brokerql.domain.trading.orders import Order, duplicate_client_order_id
from brokerql.services.products.credit_rules import CreditOrderRules
from brokerql.services.trading.accounts import open_account, submit_command
from brokerql.services.trading.admission import Admitter
from brokerql.services.trading.admission_records import (
    Entitlements,
    MarketContext,
    OrderLinks,
    Priced,
    Snapshot,
)
from brokerql.services.trading.compliance import ClientFactsReader, record_acknowledgement
from brokerql.services.trading.outcomes import BatchOutcome, PlaceOutcome, PreviewOutcome
from brokerql.services.trading.placement_groups import PlacementGroups
from brokerql.store.account_events import append_event
from brokerql.store.accounts import LoadedAccount, account_of, lock_accounts, save_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.orders import insert_orders, order_from_row
from brokerql.store.tables import AccountRow, OrderRow, PositionRow

log = logging.getLogger(__name__)

_NO_QUOTE = Rejection("MARKET_DATA_UNAVAILABLE", "No quote right now; try again shortly.", "symbol")
_NO_ACCOUNT = Rejection("NOT_FOUND", "No such account.", "accountId")

__all__ = ["BatchOutcome", "Entitlements", "PlaceOrderService", "PreviewOutcome"]


class Quotes(Protocol):
    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class _Single:
    """One order placed on its own (`place`), with the market context read before its unit of work."""

    client_id: str
    command: PlaceOrder
    links: OrderLinks
    market: MarketContext


def _same_group_key(single: _Single) -> tuple[str, str] | None:
    """Two orders with the same account and clientOrderId never share a group: the second answers for
    the first, so it must see the first's row."""
    command = single.command
    return (command.account_id, command.client_order_id) if command.client_order_id else None


# Called inside the placing transaction with the accepted orders (e.g. to store the basket run they
# belong to, atomically with them).
BeforeCommit = Callable[[UnitOfWork, LoadedAccount, list[Order]], Awaitable[None]]


class PlaceOrderService:
    """Accept (reserve + ACCEPTED event + exchange command, one transaction) or reject orders."""

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
        # Product lines (C7 margin trading): the credit checks of financing buys and short sales.
        self.credit = CreditOrderRules(quotes, instruments)
        self.admitter = Admitter(instruments, catalog, market_always_open=market_always_open, credit_rules=self.credit)
        self.halts: Callable[[], Halts] = Halts  # trading halts in force (E3); the monitor keeps them fresh
        self.on_placed: Callable[[bool], None] = lambda accepted: None  # the monitor's order count
        self.venue_live: Callable[[], bool] = lambda: True  # is an exchange live (the container's VenueWatch)
        # The client's risk level, assets, experience and grants for the compliance checks.
        self.client_facts: Callable[[str], Awaitable[ClientFacts]] = ClientFactsReader(db, clock).facts
        self.groups: PlacementGroups[_Single, PlaceOutcome] = PlacementGroups(self._place_together, _same_group_key)

    async def place(
        self,
        client_id: str,
        command: PlaceOrder,
        *,
        links: OrderLinks = OrderLinks(),
        session_account_type: str | None = None,
        direct_entry: bool = True,
    ) -> PlaceOutcome:
        """Admit and place one order (`links`: what it belongs to, e.g. the feature that placed it;
        `session_account_type`: the type the caller's session acts for, None for callers without one;
        `direct_entry`: the client entered it (False for a feature placing it, e.g. a parked order)).
        It is placed in a group with the other single placements of the moment (`placement_groups.py`)."""
        market = await self.market_context(
            client_id, [command.symbol], [command], session_account_type=session_account_type, direct_entry=direct_entry
        )
        outcome = await self.groups.place(_Single(client_id, command, links, market))
        self.on_placed(outcome.order is not None and not outcome.errors)
        return outcome

    async def _place_together(self, singles: list[_Single]) -> list[PlaceOutcome]:
        """Place single orders in one unit of work, one after another on the accounts as the ones before
        them left them: their accounts locked and read in one statement, the orders inserted in one."""
        async with self.db.transaction() as uow:
            if len(singles) > 1:
                await lock_accounts(uow, [single.command.account_id for single in singles])
            placed = [await self._place_in(uow, single) for single in singles]
            await insert_orders(uow, [order for _, order in placed if order is not None])
        return [outcome for outcome, _ in placed]

    async def _place_in(self, uow: UnitOfWork, single: _Single) -> tuple[PlaceOutcome, Order | None]:
        """Admit one order in the group's unit of work; if accepted, write all but its row (and return it)."""
        command, market = single.command, single.market
        loaded = await self._open(uow, single.client_id, command.account_id, [command])
        if loaded is None:
            return PlaceOutcome(errors=[_NO_ACCOUNT]), None
        credit = await self.credit.context(uow.session, loaded.account, [command], market.credit_prices, uow.lock)
        admission = self.admitter.admit(
            loaded.account, command, market, order_id=new_id("ord"), links=single.links, credit=credit
        )
        # A clientOrderId seen before answers for an order that passed the same early checks.
        if command.client_order_id and admission.passed("VENUE"):
            assert admission.priced is not None
            repeated = await _repeated(uow.session, loaded.row.id, command, admission.priced)
            if repeated is not None:
                return repeated, None
        if admission.order is None:
            return PlaceOutcome(errors=admission.errors), None
        await _accepted(uow, loaded, [admission.order], market)
        await self._record_acknowledgements(uow, single.client_id, [admission.order], market)
        return PlaceOutcome(OrderView.of(admission.order)), admission.order

    async def place_all(
        self,
        client_id: str,
        account_id: str,
        commands: Sequence[PlaceOrder],
        *,
        links: OrderLinks = OrderLinks(),
        before_commit: BeforeCommit | None = None,
        figures: bool = False,
        session_account_type: str | None = None,
    ) -> BatchOutcome:
        """Admit every order on the one account (reserving cumulatively) and place all, or none
        (`figures`: also work out each order's wizard figures, e.g. to show a refusal leg by leg)."""
        symbols = [c.symbol for c in commands]
        market = await self.market_context(
            client_id, symbols, commands, session_account_type=session_account_type, direct_entry=False
        )
        async with self.db.transaction() as uow:
            loaded = await self._open(uow, client_id, account_id, commands)
            if loaded is None or any(c.account_id != account_id for c in commands):
                return BatchOutcome(errors=[_NO_ACCOUNT])
            credit = await self.credit.context(uow.session, loaded.account, commands, market.credit_prices, uow.lock)
            admissions = [
                self.admitter.admit(
                    loaded.account, c, market, order_id=new_id("ord"), links=links, figures=figures, credit=credit
                )
                for c in commands
            ]
            orders = [a.order for a in admissions if a.order is not None]
            if len(orders) != len(commands):
                return BatchOutcome(admissions)  # nothing saved: the reservations lived in memory only
            await insert_orders(uow, orders)
            await _accepted(uow, loaded, orders, market)
            await self._record_acknowledgements(uow, client_id, orders, market)
            if before_commit is not None:
                await before_commit(uow, loaded, orders)
        for _ in orders:
            self.on_placed(True)
        return BatchOutcome(admissions, [OrderView.of(o) for o in orders])

    async def preview(
        self, client_id: str, command: PlaceOrder, *, session_account_type: str | None = None
    ) -> PreviewOutcome:
        """What `place` would answer for `command` now; nothing is written or locked."""
        outcome = await self.preview_all(
            client_id, command.account_id, [command], session_account_type=session_account_type, direct_entry=True
        )
        admission = outcome.admissions[0] if outcome.admissions else None
        if admission is not None and command.client_order_id and admission.passed("VENUE"):
            assert admission.priced is not None
            async with self.db.read() as session:
                outcome.repeated = await _repeated(session, command.account_id, command, admission.priced)
        return outcome

    async def preview_all(
        self,
        client_id: str,
        account_id: str,
        commands: Sequence[PlaceOrder],
        *,
        session_account_type: str | None = None,
        direct_entry: bool = False,
    ) -> PreviewOutcome:
        """What `place_all` would answer now, order by order (reserving cumulatively in memory)."""
        symbols = [c.symbol for c in commands]
        market = await self.market_context(
            client_id, symbols, commands, session_account_type=session_account_type, direct_entry=direct_entry
        )
        account = await self._read_account(client_id, account_id, [c.symbol for c in commands])
        if account is None or any(c.account_id != account_id for c in commands):
            return PreviewOutcome(errors=[_NO_ACCOUNT])
        async with self.db.read() as session:
            credit = await self.credit.context(session, account, commands, market.credit_prices)
        admissions = [
            self.admitter.admit(account, c, market, order_id=new_id("ord"), figures=True, credit=credit)
            for c in commands
        ]
        return PreviewOutcome(admissions)

    async def market_context(
        self,
        client_id: str,
        symbols: Iterable[str],
        commands: Sequence[PlaceOrder] = (),
        *,
        session_account_type: str | None = None,
        direct_entry: bool = False,
    ) -> MarketContext:
        """The tier, the client's compliance facts, the quotes of `symbols`, the halts and venue liveness,
        read outside any transaction (and, when a command takes margin credit, the collateral prices)."""
        tier = TierCode(await self.tier_of(client_id))
        facts = await self.client_facts(client_id)
        snapshots = {s: await self._snapshot(s) for s in dict.fromkeys(symbols) if s in self.instruments}
        credit_prices = await self.credit.prices.all() if any(c.purpose.takes_credit for c in commands) else None
        return MarketContext(
            tier, snapshots, self.halts(), self.venue_live(), self.clock.now(), facts, session_account_type,
            direct_entry, credit_prices,
        )  # fmt: skip

    async def _record_acknowledgements(
        self, uow: UnitOfWork, client_id: str, orders: list[Order], market: MarketContext
    ) -> None:
        """Each accepted buy above the client's risk level carries an acknowledgement: log it with the order."""
        for order in orders:
            await record_acknowledgement(uow, client_id, order, self.instruments[order.symbol], market.facts)

    async def _snapshot(self, symbol: str) -> Snapshot:
        try:
            return await self.quotes.snapshot(symbol)
        except Exception:  # the bus is down (Redis restarting): no quote means no price checks, so no order
            log.warning("no quote for %s: market data unavailable", symbol, exc_info=True)
            return _NO_QUOTE

    async def _open(
        self, uow: UnitOfWork, client_id: str, account_id: str, commands: Sequence[PlaceOrder]
    ) -> LoadedAccount | None:
        # Buys never touch a position before they fill: only sells load the positions they sell from.
        sells = [c.symbol for c in commands if c.side is Side.SELL]
        loaded = await open_account(uow, account_id, self.clock.now(), sells)
        return loaded if loaded is not None and loaded.row.client_id == client_id else None

    async def _read_account(self, client_id: str, account_id: str, symbols: list[str]) -> Account | None:
        """The account as it stands today (settled if due), from one read: no lock, nothing written."""
        async with self.db.read() as session:
            row = await session.get(AccountRow, account_id)
            if row is None or row.client_id != client_id:
                return None
            query = select(PositionRow).where(PositionRow.account_id == row.id)
            if row.trading_day == trading_day(self.clock.now()).isoformat():
                query = query.where(PositionRow.symbol.in_(symbols))  # a settlement due needs them all
            positions = (await session.scalars(query)).all()
        return as_of_day(account_of(row, positions), row.trading_day, trading_day(self.clock.now()).isoformat())


async def _accepted(uow: UnitOfWork, loaded: LoadedAccount, orders: list[Order], market: MarketContext) -> None:
    """What accepting admitted orders writes besides their rows: the account, an ACCEPTED event each and
    the exchange commands (the events at the unit of work's end, after the orders' rows)."""
    await save_account(uow, loaded, market.now)
    for order in orders:
        await append_event(uow, loaded.row, AccountEventKind.ACCEPTED, now=market.now, order=order)
        uow.emit(COMMANDS_TOPIC, submit_command(order))


async def _repeated(session: AsyncSession, account_id: str, command: PlaceOrder, priced: Priced) -> PlaceOutcome | None:
    """A clientOrderId seen before: the same order back, or DUPLICATE_CLIENT_ORDER_ID if it differs."""
    assert command.client_order_id is not None
    existing = await session.scalar(
        select(OrderRow).where(OrderRow.account_id == account_id, OrderRow.client_order_id == command.client_order_id)
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
