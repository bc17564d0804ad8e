"""Basket runs as a client reads them (C4): what was submitted, and the progress its legs' orders show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.domain.common import Side
from brokerql.domain.trading.basket_runs import LegOrder, RunLegTarget, RunProgress, run_progress
from brokerql.domain.trading.messages import OrderView
from brokerql.domain.trading.orders import OrderStatus
from brokerql.store.orders import order_from_row
from brokerql.store.tables import OrderRow
from brokerql.store.tables_baskets import BasketRunRow


@dataclass(frozen=True, slots=True)
class BasketRunView:
    """A run as a client sees it: what was submitted, and its progress read from its legs' orders."""

    id: str
    basket_id: str
    basket_name: str
    account_id: str
    side: Side
    top_ups: int
    created_at: datetime
    progress: RunProgress
    orders: dict[str, OrderView]  # the legs' orders by id, as they stand


async def run_views(session: AsyncSession, rows: list[BasketRunRow]) -> list[BasketRunView]:
    """Runs with their progress, their legs' orders read in one query."""
    if not rows:
        return []
    query = select(OrderRow).where(OrderRow.basket_run_id.in_([r.id for r in rows]))
    orders = (await session.scalars(query)).all()
    views = []
    for row in rows:
        mine = [o for o in orders if o.basket_run_id == row.id and o.account_id == row.account_id]
        targets = [RunLegTarget(leg["symbol"], leg["quantity"], Decimal(leg["price"])) for leg in row.legs]
        views.append(
            BasketRunView(
                id=row.id,
                basket_id=row.basket_id,
                basket_name=row.basket_name,
                account_id=row.account_id,
                side=Side(row.side),
                top_ups=row.top_ups,
                created_at=row.created_at,
                progress=run_progress(targets, [_leg_order(o) for o in mine]),
                orders={o.id: OrderView.of(order_from_row(o)) for o in mine},
            )
        )
    return views


def _leg_order(row: OrderRow) -> LegOrder:
    return LegOrder(
        id=row.id,
        symbol=row.symbol,
        status=OrderStatus(row.status),
        quantity=row.quantity,
        cum_qty=row.cum_qty,
        leaves_qty=row.leaves_qty,
        notional=row.notional,
        created_at=row.created_at,
    )
