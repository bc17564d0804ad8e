"""Reading the live data a grading run scores (`grading_inputs`), recording each client's assets of
the day, and importing dimensions from outside systems."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, func, select, type_coerce

from brokerql.domain.common import Rejection, Side
from brokerql.domain.identity.grading import Dimension
from brokerql.domain.identity.grading_inputs import ASSET_DAYS, WINDOW, LiveFacts, live_dimensions
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.sessions import local_time
from brokerql.domain.market.stock_connect import settlement_rate
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow, ClientRow, FillRow, PositionRow
from brokerql.store.tables_backoffice import ClientDimensionRow
from brokerql.store.tables_identity import ClientDailyAssetsRow, ClientLogRow

_PRICE = type_coerce(FillRow.price, Numeric(28, 8))  # multiplied in SQL: a plain numeric
PriceOf = Callable[[str], Awaitable[Decimal | None]]


async def no_prices(symbol: str) -> Decimal | None:
    """Without market data holdings count at cost."""
    return None


async def _assets_today(uow: UnitOfWork, price_of: PriceOf) -> dict[str, Decimal]:
    """Cash plus holdings at the last price (at cost when there is none), per client."""
    assets: dict[str, Decimal] = {}
    for client_id, balance in (await uow.session.execute(select(AccountRow.client_id, AccountRow.balance))).all():
        assets[client_id] = assets.get(client_id, Decimal(0)) + balance
    holdings = await uow.session.execute(
        select(AccountRow.client_id, PositionRow.symbol, PositionRow.quantity, PositionRow.cost).join(
            PositionRow, PositionRow.account_id == AccountRow.id
        )
    )
    prices: dict[str, Decimal | None] = {}
    for client_id, symbol, quantity, cost in holdings.all():
        if symbol not in prices:
            prices[symbol] = await price_of(symbol)
        price, instrument = prices[symbol], DEMO_INSTRUMENTS.get(symbol)
        rate = settlement_rate(instrument.board, Side.SELL) if instrument is not None else Decimal(1)
        value = cost if price is None else price * quantity * rate  # HK shares in CNY
        assets[client_id] = assets.get(client_id, Decimal(0)) + value
    return assets


async def record_daily_assets(uow: UnitOfWork, day: date, price_of: PriceOf) -> int:
    """Record every client's assets at market value as the day's ClientDailyAssetsRow (once per day:
    a day already recorded is left alone); returns the number of rows written."""
    if await uow.session.scalar(select(ClientDailyAssetsRow.day).where(ClientDailyAssetsRow.day == day).limit(1)):
        return 0
    assets = await _assets_today(uow, price_of)
    for client_id, value in assets.items():
        uow.session.add(ClientDailyAssetsRow(client_id=client_id, day=day, assets=value))
    return len(assets)


async def live_facts(uow: UnitOfWork, now: datetime, price_of: PriceOf) -> dict[str, LiveFacts]:
    """Every client's live facts (assets today, the daily records before today, flows of the window)."""
    today = local_time(now).date()
    since = now - WINDOW
    assets = await _assets_today(uow, price_of)
    history: dict[str, list[Decimal]] = {}
    rows = await uow.session.execute(
        select(ClientDailyAssetsRow.client_id, ClientDailyAssetsRow.assets)
        .where(ClientDailyAssetsRow.day < today)
        .order_by(ClientDailyAssetsRow.client_id, ClientDailyAssetsRow.day.desc())
    )
    for client_id, value in rows.all():
        if len(history.setdefault(client_id, [])) < ASSET_DAYS:
            history[client_id].append(value)
    flows = await uow.session.execute(
        select(
            AccountRow.client_id,
            FillRow.symbol,
            FillRow.side,
            func.sum(_PRICE * FillRow.quantity),
            func.sum(FillRow.commission),
        )
        .join(FillRow, FillRow.account_id == AccountRow.id)
        .where(FillRow.created_at >= since)
        .group_by(AccountRow.client_id, FillRow.symbol, FillRow.side)
    )
    turnover: dict[str, tuple[Decimal, Decimal]] = {}
    for client_id, symbol, side, traded, commission in flows.all():
        instrument = DEMO_INSTRUMENTS.get(symbol)  # HK fills traded in HKD: CNY at the fill's reference rate
        rate = settlement_rate(instrument.board, Side(side)) if instrument is not None else Decimal(1)
        before = turnover.get(client_id, (Decimal(0), Decimal(0)))
        turnover[client_id] = (before[0] + Decimal(traded or 0) * rate, before[1] + Decimal(commission or 0))
    opened = dict(
        (
            await uow.session.execute(
                select(AccountRow.client_id, func.min(AccountRow.created_at)).group_by(AccountRow.client_id)
            )
        ).all()
    )
    logins: dict[str, set[str]] = {}
    seen = await uow.session.execute(
        select(ClientLogRow.client_id, ClientLogRow.at).where(
            ClientLogRow.event == "LOGIN_OK", ClientLogRow.at >= since
        )
    )
    for client_id, at in seen.all():
        if client_id:
            logins.setdefault(client_id, set()).add(at.date().isoformat())
    facts: dict[str, LiveFacts] = {}
    for client_id in (await uow.session.scalars(select(ClientRow.id))).all():
        flow = turnover.get(client_id, (Decimal(0), Decimal(0)))
        value = assets.get(client_id, Decimal(0))
        facts[client_id] = LiveFacts(
            assets_today=value, asset_history=tuple(history.get(client_id, ())), turnover=flow[0],
            commission=flow[1], first_account_at=opened.get(client_id), login_days=len(logins.get(client_id, ())),
        )  # fmt: skip
    return facts


async def imported(uow: UnitOfWork) -> dict[str, dict[Dimension, Decimal]]:
    """Dimensions imported from outside systems, per client."""
    found: dict[str, dict[Dimension, Decimal]] = {}
    for row in (await uow.session.scalars(select(ClientDimensionRow))).all():
        found.setdefault(row.client_id, {})[Dimension(row.dimension)] = row.value
    return found


async def graded_dimensions(uow: UnitOfWork, now: datetime, price_of: PriceOf) -> dict[str, dict[Dimension, Decimal]]:
    """What a grading run scores for every client: live data plus imports (`live_dimensions`)."""
    outside = await imported(uow)
    live = await live_facts(uow, now, price_of)
    return {client_id: live_dimensions(outside.get(client_id, {}), facts, now) for client_id, facts in live.items()}


def check_import(rows: list[tuple[str, str, Decimal]]) -> list[Rejection]:
    """Imported rows must name a known dimension (not ASSETS, always live) and a value of 0 or more."""
    errors: list[Rejection] = []
    for n, (_client, dimension, value) in enumerate(rows):
        if dimension not in Dimension.__members__ or dimension == Dimension.ASSETS.value:
            errors.append(Rejection("BAD_DIMENSION", f"row {n + 1}: TURNOVER, COMMISSION, TENURE or ACTIVITY", "rows"))
        elif not value.is_finite() or value < 0:
            errors.append(Rejection("BAD_VALUE", f"row {n + 1}: a value of 0 or more", "rows"))
    return errors
