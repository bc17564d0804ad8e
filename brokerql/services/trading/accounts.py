"""Opening an account for a change (with the daily settlement), and what every trading use case shares."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from brokerql.domain.market.boards import Board
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.market.stock_connect import connect_basis
from brokerql.domain.trading.account import AccountType, settlement_due
from brokerql.domain.trading.fees import FeeBasis
from brokerql.domain.trading.gateway import SubmitOrder
from brokerql.domain.trading.margin import accrue
from brokerql.domain.trading.messages import AccountEventKind, CreditChanged
from brokerql.domain.trading.orders import Order
from brokerql.store.account_events import append_event
from brokerql.store.accounts import (
    LoadedAccount,
    load_account,
    load_account_of_order,
    load_accounts_of_orders,
    save_account,
)
from brokerql.store.database import UnitOfWork
from brokerql.store.orders import stored_order, stored_orders

log = logging.getLogger("brokerql.services.trading")

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
    if instrument.board is Board.HK:
        return connect_basis()  # HK charges, frozen in CNY at the buy reference rate plus a buffer
    exempt = instrument.board in (Board.ETF, Board.CFFEX_INDEX_FUTURE)
    return FeeBasis(exchange=_EXCHANGE_OF_BOARD[instrument.board], stamp_duty_exempt=exempt)


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


async def open_account(
    uow: UnitOfWork, account_id: str, now: datetime, symbols: Iterable[str] | None = None
) -> LoadedAccount | None:
    """Load and lock an account (with the positions of `symbols`, default all), running the daily
    settlement first if a new trading day began (`settlement_due`: the domain's rule)."""
    today = trading_day(now).isoformat()
    loaded = await load_account(uow, account_id, symbols, today=today)
    return await _settled(uow, loaded, today, now) if loaded is not None else None


async def _settled(uow: UnitOfWork, loaded: LoadedAccount, today: str, now: datetime) -> LoadedAccount:
    """The loaded account with the daily settlement (and a margin account's interest) done if due."""
    row = loaded.row
    if settlement_due(row.trading_day, today):
        loaded.account.roll_day()
        await save_account(uow, loaded, now)
        await append_event(uow, row, AccountEventKind.DAY_SETTLED, now=now, trading_day=today)
    if loaded.credit_row is not None:
        await post_interest(uow, loaded, today, now)
    if row.trading_day != today:
        row.trading_day = today
    return loaded


async def post_interest(uow: UnitOfWork, loaded: LoadedAccount, today: str, now: datetime) -> None:
    """Margin accounts: interest for the calendar days since it was last posted (domain margin.accrue),
    one MARGIN_INTEREST event when there was any."""
    credit_row = loaded.credit_row
    assert credit_row is not None
    if credit_row.accrued_until and credit_row.accrued_until < today:
        account = loaded.account
        before = sum((d.interest for d in account.credit.values()), Decimal(0))
        since, until = date.fromisoformat(credit_row.accrued_until), date.fromisoformat(today)
        account.credit = accrue(account.credit, account.terms, since, until)
        posted = sum((d.interest for d in account.credit.values()), Decimal(0)) - before
        if posted:
            await save_account(uow, loaded, now)
            detail = CreditChanged(action="INTEREST", interest=posted, quantity=(until - since).days)
            await append_event(uow, loaded.row, AccountEventKind.MARGIN_INTEREST, now=now, credit=detail)
    if credit_row.accrued_until != today:
        credit_row.accrued_until = today


@dataclass(eq=False)
class OrderInAccount:
    """An order read under its account's lock, for booking what the venue did with it."""

    order: Order
    loaded: LoadedAccount


async def order_and_account(uow: UnitOfWork, order_id: str, now: datetime) -> OrderInAccount | None:
    """Lock the order's account first, then read the order under that lock."""
    today = trading_day(now).isoformat()
    loaded = await load_account_of_order(uow, order_id, today=today)
    if loaded is not None:
        loaded = await _settled(uow, loaded, today, now)
    order = await stored_order(uow, order_id) if loaded is not None else None
    if loaded is None or order is None:
        log.error("exchange reported on unknown order %s", order_id)
        return None
    return OrderInAccount(order, loaded)


async def orders_and_accounts(
    uow: UnitOfWork, order_ids: Sequence[str], now: datetime
) -> dict[str, OrderInAccount] | None:
    """As `order_and_account`, for several orders at once (their accounts locked first, in the order of
    their ids, then the orders read under those locks); None if one of them is unknown or not on a CASH
    account (those take the one-order path)."""
    today = trading_day(now).isoformat()
    accounts = await load_accounts_of_orders(uow, order_ids, today=today)
    if any(loaded.row.type != AccountType.CASH for loaded in accounts.values()):
        return None
    orders = await stored_orders(uow, order_ids)
    if len(orders) != len(set(order_ids)):
        return None
    for account_id, loaded in accounts.items():
        accounts[account_id] = await _settled(uow, loaded, today, now)
    return {order_id: OrderInAccount(order, accounts[order.account_id]) for order_id, order in orders.items()}
