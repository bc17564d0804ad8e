"""The ledger's invariants (what `check_invariants` verifies): every account and every working order agree
on what is frozen. The tests call it after every change they make."""

from __future__ import annotations

from collections.abc import Iterable

from brokerql.domain.common import Side
from brokerql.domain.trading import futures as fut
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.fees import ZERO
from brokerql.domain.trading.orders import Order, OrderPurpose


def check_invariants(account: Account, orders: Iterable[Order] = ()) -> list[str]:
    """Every broken ledger rule, as text ([] = healthy). With `orders`, also checks that what is
    frozen matches exactly what the working orders hold.
    """
    f = account.funds
    broken = [
        msg
        for ok, msg in (
            # a futures settlement may leave a deficit (a margin call): see Funds.mark
            (f.available >= 0 or account.type is AccountType.FUTURES, f"available {f.available} < 0"),
            (f.frozen >= 0, f"frozen {f.frozen} < 0"),
            (f.unsettled >= 0, f"unsettled {f.unsettled} < 0"),
            (f.unsettled_later >= 0, f"unsettled later {f.unsettled_later} < 0"),
            (f.margin >= 0, f"margin {f.margin} < 0"),
            (f.balance == f.available + f.frozen + f.margin, f"balance {f.balance} != available + frozen + margin"),
        )
        if not ok
    ]
    held = sum((p.margin for p in account.futures.values()), ZERO) + sum(
        (d.held for d in account.credit.values()), ZERO
    )
    if held != f.margin:
        broken.append(f"margin {f.margin} != margin of futures positions and short proceeds held {held}")
    for symbol, p in account.positions.items():
        parts = (p.sellable_quantity, p.frozen_quantity, p.bought_today)
        if symbol != p.symbol:
            broken.append(f"position {p.symbol} filed under {symbol}")
        if min(parts) < 0 or p.cost < 0:
            broken.append(f"{symbol}: negative part {parts} or cost {p.cost}")
        if p.quantity != sum(parts):
            broken.append(f"{symbol}: quantity {p.quantity} != sellable + frozen + bought today {parts}")
        if p.quantity == 0 and p.cost != 0:
            broken.append(f"{symbol}: flat position carries cost {p.cost}")
    orders = [o for o in orders if o.account_id == account.id]
    if orders:
        held = sum((o.frozen_cash for o in orders), ZERO)
        if held != f.frozen:
            broken.append(f"frozen {f.frozen} != cash held by orders {held}")
        for o in orders:
            if o.frozen_cash and o.status.is_terminal:
                broken.append(f"finished order {o.id} still holds {o.frozen_cash}")
        for symbol, fp in account.futures.items():  # futures: closes freeze contracts, opens pend
            working = [o for o in orders if o.symbol == symbol and o.status.is_working]
            closing = sum(o.leaves_qty for o in working if not fut.is_opening(fp, o.side))
            opening = sum(o.leaves_qty for o in working if fut.is_opening(fp, o.side))
            if (closing, opening) != (fp.frozen_quantity, fp.pending_open):
                broken.append(f"{symbol}: frozen/pending {fp.frozen_quantity}/{fp.pending_open} != orders")
        for symbol in ({o.symbol for o in orders} | set(account.positions)) - set(account.futures):
            sells = sum(o.leaves_qty for o in orders if o.symbol == symbol and _holds_shares(o))
            frozen_qty = account.position(symbol).frozen_quantity
            if sells != frozen_qty:
                broken.append(f"{symbol}: frozen shares {frozen_qty} != {sells} left on working sells")
    return broken


def _holds_shares(order: Order) -> bool:
    return order.side is Side.SELL and order.status.is_working and order.purpose is not OrderPurpose.SHORT_SELL
