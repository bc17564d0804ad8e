"""Parked orders in the database: rows to the domain's view, and the conditional moves that claim them.

Every change of status is one conditional UPDATE (`move`): it only happens if the row is still in one of
the expected statuses (and, for a claim's holder, still carries its claim token). Two processes racing
for the same parked order therefore cannot both win: the database decides, durably.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.parked import (
    CLAIM_TIMEOUT,
    ParkedOrderView,
    ParkedStatus,
    ParkOrder,
    Trigger,
    TriggerKind,
)
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow
from brokerql.store.tables_trading import ParkedOrderRow

_COLUMNS = tuple(ParkedOrderRow.__table__.columns)  # type: ignore[attr-defined]


def parked_row(
    parked_id: str, client_id: str, command: ParkOrder, valid_until: datetime, now: datetime
) -> ParkedOrderRow:
    order, trigger = command.order, command.trigger
    return ParkedOrderRow(
        id=parked_id,
        account_id=order.account_id,
        client_id=client_id,
        status=ParkedStatus.PARKED.value,
        trigger_kind=trigger.kind.value,
        trigger_price=trigger.level,
        trigger_at=trigger.at,
        valid_until=valid_until,
        symbol=order.symbol,
        side=order.side.value,
        type=order.type.value,
        quantity=order.quantity,
        price=order.price,
        price_level=order.price_level.value if order.price_level is not None else None,
        client_order_id=order.client_order_id,
        time_in_force=order.time_in_force.value,
        risk_acknowledged=order.risk_acknowledged,
        created_at=now,
        updated_at=now,
    )


def parked_view(row: Any) -> ParkedOrderView:
    """The domain's view of a stored parked order (an ORM row or a RETURNING row)."""
    return ParkedOrderView(
        id=row.id,
        account_id=row.account_id,
        status=ParkedStatus(row.status),
        trigger=Trigger(kind=TriggerKind(row.trigger_kind), level=row.trigger_price, at=row.trigger_at),
        valid_until=row.valid_until,
        order=PlaceOrder(
            account_id=row.account_id,
            symbol=row.symbol,
            side=Side(row.side),
            type=OrderType(row.type),
            quantity=row.quantity,
            price=row.price,
            price_level=PriceLevel(row.price_level) if row.price_level else None,
            client_order_id=row.client_order_id,
            time_in_force=TimeInForce(row.time_in_force),
            risk_acknowledged=bool(row.risk_acknowledged),
        ),
        placed_order_id=row.placed_order_id,
        failure_code=row.failure_code,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def move(
    uow: UnitOfWork,
    parked_id: str,
    expected: Iterable[ParkedStatus],
    target: ParkedStatus,
    now: datetime,
    *,
    claim_token: str | None = None,
    **values: Any,
) -> ParkedOrderView | None:
    """Move the parked order to `target` if it is still in one of `expected` (and, with `claim_token`,
    still claimed by that token); the parked order after the move, or None if it was not there to move."""
    conditions: list[ColumnElement[bool]] = [
        ParkedOrderRow.id == parked_id,  # type: ignore[list-item]
        ParkedOrderRow.status.in_([s.value for s in expected]),  # type: ignore[attr-defined]
    ]
    if claim_token is not None:
        conditions.append(ParkedOrderRow.claim_token == claim_token)  # type: ignore[arg-type]
    statement = (
        update(ParkedOrderRow)
        .where(*conditions)
        .values(status=target.value, updated_at=now, **values)
        .returning(*_COLUMNS)
    )
    row = (await uow.session.execute(statement)).first()
    return parked_view(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Claim:
    """A parked order this process now fires: whose it is, and whether a dead process had claimed it."""

    parked: ParkedOrderView
    client_id: str
    takeover: bool


async def claim(uow: UnitOfWork, parked_id: str, token: str, now: datetime) -> Claim | None:
    """Claim a parked order for firing: a PARKED one still valid, or a FIRING one whose claim went stale
    (its holder died mid-fire). None if another process holds it, or it was cancelled, expired or
    already fired."""
    fresh = and_(ParkedOrderRow.status == ParkedStatus.PARKED.value, ParkedOrderRow.valid_until > now)
    stale = and_(ParkedOrderRow.status == ParkedStatus.FIRING.value, ParkedOrderRow.claimed_at <= now - CLAIM_TIMEOUT)
    previous = await uow.session.scalar(select(ParkedOrderRow.claim_token).where(ParkedOrderRow.id == parked_id))
    statement = (
        update(ParkedOrderRow)
        .where(ParkedOrderRow.id == parked_id, or_(fresh, stale))  # type: ignore[arg-type]
        .values(status=ParkedStatus.FIRING.value, claim_token=token, claimed_at=now, updated_at=now)
        .returning(*_COLUMNS)
    )
    row = (await uow.session.execute(statement)).first()
    return Claim(parked_view(row), row.client_id, previous is not None) if row is not None else None


async def lock_account(uow: UnitOfWork, account_id: str) -> AccountRow | None:
    """The account row, locked: its event seq is about to move (the row this unit of work already keeps
    for writing back, if it loaded the account for a change: `store/accounts.py`)."""
    if (kept := uow.written_back(AccountRow, account_id)) is not None:
        return kept  # type: ignore[no-any-return]
    return await uow.session.scalar(uow.lock(select(AccountRow).where(AccountRow.id == account_id)))
