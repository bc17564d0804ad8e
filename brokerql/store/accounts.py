"""Loading and saving the account aggregate: its row, positions, and (by type) futures and credit.

The account row and its positions are the hottest rows of trading (every placement and every fill
writes them): the row is read through the ORM and then taken out of the session, and the unit of work
writes it back with one Core UPDATE when it ends (`UnitOfWork.write_back`); positions are read as
columns and written with Core statements built once. The ORM's flush of those objects was the largest
single item of the order path's profile. Futures and credit rows (rarer) stay with the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update

from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.fees import FeeSchedule
from brokerql.domain.trading.futures import Direction, FuturesPosition
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.margin import DebtKey
from brokerql.store.credit_rows import debt_of, load_debts, terms_of
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow, OrderRow, PositionRow
from brokerql.store.tables_trading import CreditAccountRow, CreditDebtRow, FuturesPositionRow


def fee_schedule_of(row: AccountRow) -> FeeSchedule:
    overrides = {k: Decimal(v) for k, v in (row.fee_schedule or {}).items()}
    return FeeSchedule(**overrides) if overrides else FeeSchedule()


@dataclass(eq=False)
class LoadedAccount:
    """An account read for a change: the locked row (kept by the unit of work, which writes it back when
    it ends), the domain aggregate, and the positions as stored (`save_account` compares against them to
    write only what changed)."""

    row: AccountRow
    account: Account
    stored_positions: dict[str, Position] = field(default_factory=dict)
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


def position_of(p: Any) -> Position:
    """A position of its stored row (a `PositionRow`, or a Core row of the `position` columns)."""
    return Position(p.symbol, p.quantity, p.sellable_quantity, p.frozen_quantity, p.cost, p.bought_today)


def account_of(row: AccountRow, positions: Iterable[Any]) -> Account:
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
_ACCOUNTS = AccountRow.__table__  # type: ignore[attr-defined]
_ACCOUNT_FIXED = ("id", "client_id", "type", "currency", "created_at")
_ACCOUNT_STATE = tuple(c.key for c in _ACCOUNTS.c if c.key not in _ACCOUNT_FIXED)
_UPDATE_ACCOUNT = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .values({key: bindparam(key) for key in _ACCOUNT_STATE})
)
# The accounts of several orders (booking them together), locked in the order of their ids on PostgreSQL:
# two units of work that lock several accounts so never wait for each other in a circle.
_ORDER_IDS = bindparam("order_ids", expanding=True)
_ACCOUNTS_OF_ORDERS = (
    select(AccountRow)
    .where(AccountRow.id.in_(select(OrderRow.account_id).where(OrderRow.id.in_(_ORDER_IDS))))
    .order_by(AccountRow.id)
)
_ACCOUNTS_OF = {False: _ACCOUNTS_OF_ORDERS, True: _ACCOUNTS_OF_ORDERS.with_for_update()}  # locked -> statement
_ACCOUNTS_BY_IDS = (
    select(AccountRow).where(AccountRow.id.in_(bindparam("account_ids", expanding=True))).order_by(AccountRow.id)
)
_ACCOUNTS_BY = {False: _ACCOUNTS_BY_IDS, True: _ACCOUNTS_BY_IDS.with_for_update()}  # locked -> statement
_POSITION = PositionRow.__table__  # type: ignore[attr-defined]
_POSITIONS = select(*_POSITION.c).where(_POSITION.c.account_id == bindparam("account_id"))
_POSITIONS_IN = _POSITIONS.where(_POSITION.c.symbol.in_(bindparam("symbols", expanding=True)))
_POSITION_OF_ORDER = _POSITIONS.where(_POSITION.c.symbol == _ORDER_SYMBOL)
_POSITIONS_OF = select(*_POSITION.c).where(_POSITION.c.account_id.in_(bindparam("account_ids", expanding=True)))
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_POSITIONS_OF_ORDERS = (  # each order's position in its symbol (once, when orders share one)
    select(*_POSITION.c)
    .distinct()
    .join(_ORDERS, (_ORDERS.c.account_id == _POSITION.c.account_id) & (_ORDERS.c.symbol == _POSITION.c.symbol))
    .where(_ORDERS.c.id.in_(_ORDER_IDS))
)
_POSITION_KEY = and_(
    _POSITION.c.account_id == bindparam("key_account_id"), _POSITION.c.symbol == bindparam("key_symbol")
)
_POSITION_VALUES = ("quantity", "sellable_quantity", "frozen_quantity", "bought_today", "cost", "updated_at")
_INSERT_POSITIONS = insert(_POSITION)
_UPDATE_POSITION = update(_POSITION).where(_POSITION_KEY).values({k: bindparam(k) for k in _POSITION_VALUES})
_DELETE_POSITION = delete(_POSITION).where(_POSITION_KEY)


def _account_state(row: AccountRow) -> dict[str, Any]:
    return {"account_id": row.id} | {key: getattr(row, key) for key in _ACCOUNT_STATE}


async def load_account(
    uow: UnitOfWork, account_id: str, symbols: Iterable[str] | None = None, *, today: str | None = None
) -> LoadedAccount | None:
    """The account row (locked for this transaction), its domain aggregate and the positions it came from.

    With `symbols` only those positions are loaded (one change touches one symbol) unless the account's
    `trading_day` is not `today`: the daily settlement then needs them all. `save_account` writes back
    only what changed.
    """
    row = uow.written_back(AccountRow, account_id)
    if row is None:
        row = await uow.session.scalar(_ACCOUNT[False, not uow.is_sqlite], {"account_id": account_id})
    if row is None:
        return None
    wanted = None if symbols is None or (today is not None and row.trading_day != today) else list(symbols)
    if wanted is None:
        positions = (await uow.session.execute(_POSITIONS, {"account_id": row.id})).all()
    elif wanted:
        positions = (await uow.session.execute(_POSITIONS_IN, {"account_id": row.id, "symbols": wanted})).all()
    else:
        positions = []
    return await _loaded(uow, row, positions)


async def lock_accounts(uow: UnitOfWork, account_ids: Iterable[str]) -> None:
    """Lock the accounts `account_ids` (in the order of their ids) and keep them for writing back, in one
    statement: several changes in one unit of work (a group of placements) then load them without a read.
    An account kept but left unchanged is written back as it was."""
    wanted = sorted({a for a in account_ids if uow.written_back(AccountRow, a) is None})
    if not wanted:
        return
    for row in (await uow.session.scalars(_ACCOUNTS_BY[not uow.is_sqlite], {"account_ids": wanted})).all():
        uow.session.expunge(row)
        uow.write_back(row.id, row, _UPDATE_ACCOUNT, _account_state)


async def load_account_of_order(uow: UnitOfWork, order_id: str, *, today: str) -> LoadedAccount | None:
    """As `load_account`, for the account of order `order_id`, with the position of the order's symbol
    (all of them when the account's `trading_day` is not `today`)."""
    row = await uow.session.scalar(_ACCOUNT[True, not uow.is_sqlite], {"order_id": order_id})
    if row is None:
        return None
    if row.trading_day != today:
        positions = (await uow.session.execute(_POSITIONS, {"account_id": row.id})).all()
    else:
        params = {"account_id": row.id, "order_id": order_id}
        positions = (await uow.session.execute(_POSITION_OF_ORDER, params)).all()
    return await _loaded(uow, row, positions)


async def load_accounts_of_orders(uow: UnitOfWork, order_ids: Sequence[str], *, today: str) -> dict[str, LoadedAccount]:
    """As `load_account_of_order`, for the accounts of orders `order_ids` (by account id; locked in the
    order of their ids), with each order's position in its symbol (every position of the accounts when
    one's `trading_day` is not `today`)."""
    rows = (await uow.session.scalars(_ACCOUNTS_OF[not uow.is_sqlite], {"order_ids": list(order_ids)})).all()
    ids = [row.id for row in rows]
    if any(row.trading_day != today for row in rows):  # a settlement is due: it needs every position
        positions = (await uow.session.execute(_POSITIONS_OF, {"account_ids": ids})).all()
    else:
        positions = (await uow.session.execute(_POSITIONS_OF_ORDERS, {"order_ids": list(order_ids)})).all()
    of_account: dict[str, list[Any]] = {account_id: [] for account_id in ids}
    for position in positions:
        of_account[position.account_id].append(position)
    return {row.id: await _loaded(uow, row, of_account[row.id]) for row in rows}


async def _loaded(uow: UnitOfWork, row: AccountRow, positions: Sequence[Any]) -> LoadedAccount:
    kept = uow.written_back(AccountRow, row.id)
    if kept is None:
        # Out of the session: the ORM would flush it (object state, history, a flush); written back instead.
        uow.session.expunge(row)
        uow.write_back(row.id, row, _UPDATE_ACCOUNT, _account_state)
    elif kept is not row:  # loaded again in this unit of work: the kept row holds its changes so far
        uow.session.expunge(row)
        row = kept
    stored = {p.symbol: position_of(p) for p in positions}
    loaded = LoadedAccount(row, account_of(row, positions), stored)
    if row.type == AccountType.FUTURES:  # a handful of contracts at most: always all of them
        futures_query = select(FuturesPositionRow).where(FuturesPositionRow.account_id == row.id)
        loaded.futures_rows = {p.symbol: p for p in (await uow.session.scalars(futures_query)).all()}
        loaded.account.futures = {s: futures_position_of(p) for s, p in loaded.futures_rows.items()}
    if row.type == AccountType.MARGIN:
        await _load_credit(uow.session, loaded)
    return loaded


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
    """Write the aggregate back: funds on the row (written when the unit of work ends); only changed
    positions written, closed-out lines deleted, at once.

    Positions not loaded by `load_account` are untouched: the aggregate only holds what was loaded
    plus what this change created.
    """
    await save_accounts(uow, [loaded], now)


async def save_accounts(uow: UnitOfWork, accounts: Sequence[LoadedAccount], now: datetime) -> None:
    """As `save_account`, for several accounts: their positions' inserts, updates and deletes in one
    statement each."""
    writes: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = ([], [], [])
    for loaded in accounts:
        _funds_to_row(loaded)
        await _save_futures(uow, loaded, now)
        if loaded.credit_row is not None:
            await _save_credit(uow, loaded, now)
        for each, rows in zip(writes, _position_writes(loaded, now), strict=True):
            each.extend(rows)
    for statement, rows in zip((_INSERT_POSITIONS, _UPDATE_POSITION, _DELETE_POSITION), writes, strict=True):
        if rows:
            await uow.session.execute(statement, rows)


def _funds_to_row(loaded: LoadedAccount) -> None:
    row, account = loaded.row, loaded.account
    row.balance, row.available = account.funds.balance, account.funds.available
    row.frozen, row.unsettled = account.funds.frozen, account.funds.unsettled
    row.margin = account.funds.margin
    row.unsettled_later = account.funds.unsettled_later
    row.realized_pnl = account.realised_pnl


def _position_writes(
    loaded: LoadedAccount, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows to insert, update and delete for the positions that changed since they were stored
    (`stored_positions` then holds them as written)."""
    row, account, stored = loaded.row, loaded.account, loaded.stored_positions
    new, changed = [], []
    for symbol, position in account.positions.items():
        before = stored.get(symbol)
        if before == position:
            continue
        values = {
            "quantity": position.quantity, "sellable_quantity": position.sellable_quantity,
            "frozen_quantity": position.frozen_quantity, "bought_today": position.bought_today,
            "cost": position.cost, "updated_at": now,
        }  # fmt: skip
        if before is None:
            new.append({"account_id": row.id, "symbol": symbol} | values)
        else:
            changed.append({"key_account_id": row.id, "key_symbol": symbol} | values)
        stored[symbol] = position  # frozen: the aggregate replaces a position, never changes it
    closed = [{"key_account_id": row.id, "key_symbol": s} for s in stored if s not in account.positions]
    for each in closed:
        del stored[each["key_symbol"]]
    return new, changed, closed


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
