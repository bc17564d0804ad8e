"""The account's event log: each change gets the account's next seq, a stored event and a bus message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from brokerql.bus import codec
from brokerql.bus.topics import account_topic
from brokerql.domain.trading.messages import (
    AccountEvent,
    AccountEventKind,
    CreditChanged,
    EtfChanged,
    FillView,
    FuturesSettled,
    OrderView,
)
from brokerql.domain.trading.orders import Order
from brokerql.domain.trading.parked import ParkedOrderView
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountEventRow, AccountRow

# Built once: every placement and every fill stores an event, and the ORM's unit of work (an object, its
# state, the flush's bookkeeping) cost more than the row.
INSERT_EVENTS = insert(AccountEventRow.__table__)  # type: ignore[arg-type]


async def append_event(
    uow: UnitOfWork,
    account: AccountRow,
    kind: AccountEventKind,
    *,
    now: datetime,
    order: Order | None = None,
    fill: FillView | None = None,
    code: str | None = None,
    reason: str | None = None,
    trading_day: str | None = None,
    futures: FuturesSettled | None = None,
    credit: CreditChanged | None = None,
    etf: EtfChanged | None = None,
    parked: ParkedOrderView | None = None,
) -> AccountEvent:
    """Give the change the account's next seq, store it, and queue it for the bus (outbox)."""
    account.last_seq += 1
    event = AccountEvent(
        account_id=account.id,
        seq=account.last_seq,
        kind=kind,
        at=now,
        order=OrderView.of(order) if order is not None else None,
        fill=fill,
        code=code,
        reason=reason,
        trading_day=trading_day,
        futures=futures,
        credit=credit,
        etf=etf,
        basket_run_id=order.basket_run_id if order is not None else None,
        parked=parked,
    )
    record = codec.to_record(event)  # stored in the event log and the outbox alike
    row = {
        "account_id": account.id,
        "seq": account.last_seq,
        "kind": kind.value,
        "order_id": order.id if order is not None else None,
        "fill_id": fill.id if fill is not None else None,
        "payload": record,
        "created_at": now,
    }
    uow.insert_at_end(INSERT_EVENTS, row)
    if uow.written_back(AccountRow, account.id) is not account:
        uow.session.add(account)  # a row the session tracks (or a new one): the ORM writes its last_seq
    uow.emit_record(account_topic(account.id), record)
    return event
