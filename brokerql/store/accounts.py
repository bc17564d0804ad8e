"""Loading and saving the account aggregate and its orders; appending to the account's event log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.fees import Fees, FeeSchedule
from brokerql.domain.trading.futures import Direction, FuturesPosition
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.margin import Debt, DebtKey, DebtKind, MarginTerms
from brokerql.domain.trading.messages import FillView
from brokerql.domain.trading.orders import Order, OrderPurpose, OrderStatus
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow, FillRow, OrderRow, PositionRow
from brokerql.store.tables_trading import CreditAccountRow, CreditDebtRow, FuturesPositionRow


def fee_schedule_of(row: AccountRow) -> FeeSchedule:
    overrides = {k: Decimal(v) for k, v in (row.fee_schedule or {}).items()}
    return FeeSchedule(**overrides) if overrides else FeeSchedule()


@dataclass(eq=False)
class LoadedAccount:
    """An account read for a change: the locked row, the domain aggregate, and the position rows the
    aggregate was built from (`save_account` compares against them to write back only what changed)."""

    row: AccountRow
    account: Account
    position_rows: dict[str, PositionRow] = field(default_factory=dict)
    futures_rows: dict[str, FuturesPositionRow] = field(default_factory=dict)
    credit_row: CreditAccountRow | None = None
    debt_rows: dict[DebtKey, CreditDebtRow] = field(default_factory=dict)


def funds_of(row: AccountRow) -> Funds:
    return Funds(
        balance=row.balance, available=row.available, frozen=row.frozen, unsettled=row.unsettled,
        margin=row.margin, unsettled_later=row.unsettled_later,
    )  # fmt: skip


def futures_position_of(p: FuturesPositionRow) -> FuturesPosition:
    return FuturesPosition(
        p.symbol, Direction(p.direction), p.yd_quantity, p.td_quantity, p.frozen_quantity, p.pending_open,
        p.settle_price, p.td_cost, p.open_cost, p.margin,
    )  # fmt: skip


def position_of(p: PositionRow) -> Position:
    return Position(p.symbol, p.quantity, p.sellable_quantity, p.frozen_quantity, p.cost, p.bought_today)


def account_of(row: AccountRow, positions: Iterable[PositionRow]) -> Account:
    """The domain aggregate of stored rows (for a change, or for the read side to apply the domain's rules)."""
    return Account(
        id=row.id,
        type=AccountType(row.type),
        funds=funds_of(row),
        positions={p.symbol: position_of(p) for p in positions},
        fee_schedule=fee_schedule_of(row),
        realised_pnl=row.realized_pnl,
    )


# Built once (for each new statement object SQLAlchemy works its cache key out again): the account by
# its id, or by one of its orders' ids (booking what the venue did with an order), locked on PostgreSQL.
_ORDER_ACCOUNT = select(OrderRow.account_id).where(OrderRow.id == bindparam("order_id")).scalar_subquery()
_ORDER_SYMBOL = select(OrderRow.symbol).where(OrderRow.id == bindparam("order_id")).scalar_subquery()
_ACCOUNT_BY_ID = select(AccountRow).where(AccountRow.id == bindparam("account_id"))
_ACCOUNT_OF_ORDER = select(AccountRow).where(AccountRow.id == _ORDER_ACCOUNT)
_ACCOUNT = {  # (by order, locked) -> statement
    (False, False): _ACCOUNT_BY_ID,
    (False, True): _ACCOUNT_BY_ID.with_for_update(),
    (True, False): _ACCOUNT_OF_ORDER,
    (True, True): _ACCOUNT_OF_ORDER.with_for_update(),
}
_POSITIONS = select(PositionRow).where(PositionRow.account_id == bindparam("account_id"))
_POSITIONS_IN = _POSITIONS.where(PositionRow.symbol.in_(bindparam("symbols", expanding=True)))
_POSITION_OF_ORDER = _POSITIONS.where(PositionRow.symbol == _ORDER_SYMBOL)


async def load_account(
    uow: UnitOfWork, account_id: str, symbols: Iterable[str] | None = None, *, today: str | None = None
) -> LoadedAccount | None:
    """The account row (locked for this transaction), its domain aggregate and the rows it came from.

    With `symbols` only those positions are loaded (one change touches one symbol) unless the account's
    `trading_day` is not `today`: the daily settlement then needs them all. `save_account` writes back
    only what changed.
    """
    row = await uow.session.scalar(_ACCOUNT[False, not uow.is_sqlite], {"account_id": account_id})
    if row is None:
        return None
    wanted = None if symbols is None or (today is not None and row.trading_day != today) else list(symbols)
    if wanted is None:
        positions = (await uow.session.scalars(_POSITIONS, {"account_id": row.id})).all()
    elif wanted:
        positions = (await uow.session.scalars(_POSITIONS_IN, {"account_id": row.id, "symbols": wanted})).all()
    else:
        positions = []
    return await _loaded(uow, row, positions)


async def load_account_of_order(uow: UnitOfWork, order_id: str, *, today: str) -> LoadedAccount | None:
    """As `load_account`, for the account of order `order_id`, with the position of the order's symbol
    (all of them when the account's `trading_day` is not `today`)."""
    row = await uow.session.scalar(_ACCOUNT[True, not uow.is_sqlite], {"order_id": order_id})
    if row is None:
        return None
    if row.trading_day != today:
        positions = (await uow.session.scalars(_POSITIONS, {"account_id": row.id})).all()
    else:
        positions = (await uow.session.scalars(_POSITION_OF_ORDER, {"account_id": row.id, "order_id": order_id})).all()
    return await _loaded(uow, row, positions)


async def _loaded(uow: UnitOfWork, row: AccountRow, positions: Sequence[PositionRow]) -> LoadedAccount:
    stored = {p.symbol: p for p in positions}
    loaded = LoadedAccount(row, account_of(row, stored.values()), stored)
    if row.type == AccountType.FUTURES:  # a handful of contracts at most: always all of them
        futures_query = select(FuturesPositionRow).where(FuturesPositionRow.account_id == row.id)
        loaded.futures_rows = {p.symbol: p for p in (await uow.session.scalars(futures_query)).all()}
        loaded.account.futures = {s: futures_position_of(p) for s, p in loaded.futures_rows.items()}
    if row.type == AccountType.MARGIN:
        await _load_credit(uow.session, loaded)
    return loaded


def terms_of(row: CreditAccountRow | None) -> MarginTerms:
    if row is None:
        return MarginTerms()
    return MarginTerms(
        credit_line=row.credit_line,
        warning_line=row.warning_line,
        liquidation_line=row.liquidation_line,
        financing_rate=row.financing_rate,
        lending_rate=row.lending_rate,
    )


def debt_of(r: CreditDebtRow) -> Debt:
    return Debt(
        DebtKind(r.kind), r.symbol, r.quantity, r.principal, r.interest, r.held, r.pending_quantity, r.pending_amount
    )


async def load_debts(session: Any, account_id: str) -> dict[DebtKey, CreditDebtRow]:
    rows = (await session.scalars(select(CreditDebtRow).where(CreditDebtRow.account_id == account_id))).all()
    return {(DebtKind(r.kind), r.symbol): r for r in rows}


async def _load_credit(session: Any, loaded: LoadedAccount) -> None:
    """A margin account's terms (created with the defaults on first use) and its debts."""
    credit = await session.get(CreditAccountRow, loaded.row.id)
    if credit is None:
        credit = CreditAccountRow(account_id=loaded.row.id, accrued_until=loaded.row.trading_day or "")
        session.add(credit)
    loaded.credit_row = credit
    loaded.debt_rows = await load_debts(session, loaded.row.id)
    loaded.account.terms = terms_of(credit)
    loaded.account.credit = {k: debt_of(r) for k, r in loaded.debt_rows.items()}


async def _save_credit(uow: UnitOfWork, loaded: LoadedAccount, now: datetime) -> None:
    stored = loaded.debt_rows
    for key, debt in loaded.account.credit.items():
        target = stored.get(key)
        if target is not None and debt_of(target) == debt:
            continue
        if target is None:
            target = stored[key] = CreditDebtRow(account_id=loaded.row.id, kind=key[0].value, symbol=key[1])
            uow.session.add(target)
        target.quantity, target.principal, target.interest = debt.quantity, debt.principal, debt.interest
        target.held, target.pending_quantity = debt.held, debt.pending_quantity
        target.pending_amount, target.updated_at = debt.pending_amount, now
    for key in [k for k in stored if k not in loaded.account.credit]:
        await uow.session.delete(stored.pop(key))


async def load_futures_positions(session: Any, account_id: str) -> dict[str, FuturesPosition]:
    """The futures positions of an account, for the read side."""
    rows = await session.scalars(select(FuturesPositionRow).where(FuturesPositionRow.account_id == account_id))
    return {p.symbol: futures_position_of(p) for p in rows.all()}


async def save_account(uow: UnitOfWork, loaded: LoadedAccount, now: datetime) -> None:
    """Write the aggregate back: funds on the row; only changed positions written, closed-out lines deleted.

    Positions not loaded by `load_account` are untouched: the aggregate only holds what was loaded
    plus what this change created.
    """
    row, account, stored = loaded.row, loaded.account, loaded.position_rows
    row.balance, row.available = account.funds.balance, account.funds.available
    row.frozen, row.unsettled = account.funds.frozen, account.funds.unsettled
    row.margin = account.funds.margin
    row.unsettled_later = account.funds.unsettled_later
    row.realized_pnl = account.realised_pnl
    await _save_futures(uow, loaded, now)
    if loaded.credit_row is not None:
        await _save_credit(uow, loaded, now)
    for symbol, position in account.positions.items():
        target = stored.get(symbol)
        if target is not None and position_of(target) == position:
            continue
        if target is None:
            target = stored[symbol] = PositionRow(account_id=row.id, symbol=symbol)
            uow.session.add(target)
        target.quantity, target.sellable_quantity = position.quantity, position.sellable_quantity
        target.frozen_quantity, target.bought_today = position.frozen_quantity, position.bought_today
        target.cost, target.updated_at = position.cost, now
    for symbol in [s for s in stored if s not in account.positions]:
        await uow.session.delete(stored.pop(symbol))


async def _save_futures(uow: UnitOfWork, loaded: LoadedAccount, now: datetime) -> None:
    stored = loaded.futures_rows
    for symbol, position in loaded.account.futures.items():
        target = stored.get(symbol)
        if target is not None and futures_position_of(target) == position:
            continue
        if target is None:
            target = stored[symbol] = FuturesPositionRow(account_id=loaded.row.id, symbol=symbol, direction="")
            uow.session.add(target)
        target.direction = position.direction.value
        target.yd_quantity, target.td_quantity = position.yd_quantity, position.td_quantity
        target.frozen_quantity, target.pending_open = position.frozen_quantity, position.pending_open
        target.settle_price, target.td_cost = position.settle_price, position.td_cost
        target.open_cost, target.margin, target.updated_at = position.open_cost, position.margin, now
    for symbol in [s for s in stored if s not in loaded.account.futures]:
        await uow.session.delete(stored.pop(symbol))


def order_from_row(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        account_id=row.account_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        price=row.price,
        quantity=row.quantity,
        created_at=row.created_at,
        updated_at=row.updated_at,
        client_order_id=row.client_order_id,
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        cum_qty=row.cum_qty,
        leaves_qty=row.leaves_qty,
        notional=row.notional,
        fees_paid=row.fees_paid,
        frozen_cash=row.frozen_cash,
        reject_code=row.reject_code,
        reason=row.reject_reason,
        purpose=OrderPurpose(row.purpose),
        basket_run_id=row.basket_run_id,
        pair_id=row.pair_id,
    )


def fill_view_of_row(row: FillRow) -> FillView:
    """A stored fill as the read side sees it."""
    return FillView(
        id=row.id,
        exec_id=row.exec_id,
        order_id=row.order_id,
        symbol=row.symbol,
        side=Side(row.side),
        price=row.price,
        quantity=row.quantity,
        fees=Fees(row.commission, row.stamp_duty, row.transfer_fee),
        liquidity=None,
        at=row.created_at,
    )


def order_to_row(order: Order, row: OrderRow | None = None) -> OrderRow:
    if row is None:
        row = OrderRow(
            id=order.id,
            account_id=order.account_id,
            symbol=order.symbol,
            quantity=order.quantity,
            side=order.side.value,
            type=order.type.value,
            status=order.status.value,
        )
    row.client_order_id, row.price, row.time_in_force = (
        order.client_order_id,
        order.price,
        order.time_in_force,
    )
    row.status, row.cum_qty, row.leaves_qty = order.status.value, order.cum_qty, order.leaves_qty
    row.notional, row.fees_paid, row.frozen_cash = order.notional, order.fees_paid, order.frozen_cash
    row.frozen_quantity = order.leaves_qty if order.side is Side.SELL and order.status.is_working else 0
    row.reject_code, row.reject_reason = order.reject_code, order.reason
    row.purpose = order.purpose.value
    row.basket_run_id, row.pair_id = order.basket_run_id, order.pair_id
    row.created_at, row.updated_at = order.created_at, order.updated_at
    return row


# Built once per dialect (one per fill otherwise, with its cache key worked out again each time).
_INSERT_FILL = {
    sqlite: dialect_insert(FillRow).on_conflict_do_nothing(index_elements=["exec_id"]).returning(FillRow.id)
    for sqlite, dialect_insert in ((True, sqlite_insert), (False, pg_insert))
}


async def insert_fill(uow: UnitOfWork, fill: FillRow) -> bool:
    """Store a fill unless its `exec_id` is already booked (one INSERT ... ON CONFLICT DO NOTHING)."""
    values = {c.key: getattr(fill, c.key) for c in FillRow.__table__.columns}  # type: ignore[attr-defined]
    result = await uow.session.execute(_INSERT_FILL[uow.is_sqlite], values)
    return result.first() is not None
