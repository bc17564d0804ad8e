"""placeOrder + one full fill through the trading service, against a bare insert baseline.

Each round trip is two committed transactions (accept: lock account, validate, freeze, order row,
ACCEPTED event, outbox; fill: lock, fees, funds, position, order, FILL event, outbox), as in production
minus the bus. The baseline commits one bare order-row insert per transaction on the same database; the
two loops alternate in chunks of 50. Also prints SQL statements and CPU time per round trip.

    .venv/bin/python bench/bench_orders.py [--url sqlite+aiosqlite:///var/bench_orders.db] [-n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event

from brokerql.domain.clock import SYSTEM_CLOCK
from brokerql.domain.common import OrderType, Side
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.gateway import ExecType, ExecutionReport
from brokerql.services.trading import ExecutionBooking, PlaceOrderService
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import Database
from brokerql.store.migrate import upgrade_async
from brokerql.store.tables import AccountRow, ClientRow, OrderRow
from brokerql.store.tables_identity import ClientProfileRow


class NoQuotes:
    """No market data: the bench's orders are plain limits, priced by the client."""

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> None:
        return None


async def gold(client_id: str) -> str:
    return "GOLD"


async def main(url: str, n: int) -> None:
    path = Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None
    if path is not None and path.exists():
        path.unlink()
    await upgrade_async(url)
    db = Database(url)
    client_id, account_id = new_id("cli"), new_id("acc")
    async with db.transaction() as uow:
        uow.session.add(ClientRow(id=client_id, username=client_id, name="bench", password_hash="x", tier_code="GOLD"))
        await uow.session.flush()
        # A profile, as every real client has: the suitability check reads it (C5 may buy main-board stocks).
        uow.session.add(ClientProfileRow(client_id=client_id, risk_level="C5"))
        await uow.session.flush()
        cash = Decimal("100000000")
        uow.session.add(AccountRow(id=account_id, client_id=client_id, type="CASH", balance=cash, available=cash))
    instruments = dict(DEMO_INSTRUMENTS)
    place = PlaceOrderService(
        db, instruments, NoQuotes(), DEMO_TIER_CATALOG, gold, SYSTEM_CLOCK, market_always_open=True
    )
    booking = ExecutionBooking(db, instruments, SYSTEM_CLOCK)
    price = Decimal("13.50")
    command = PlaceOrder(
        account_id=account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=100, price=price
    )

    statements = [0]

    @event.listens_for(db.writer.sync_engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        statements[0] += 1

    @event.listens_for(db.writer.sync_engine, "begin")  # SQLite's BEGIN goes to the DBAPI cursor directly
    def _count_begin(*_args: object) -> None:
        statements[0] += 1

    # Alternate chunks of the two loops, so load drifting on a shared machine affects both alike.
    trading_s = bare_s = trading_cpu = 0.0
    counted, chunk = 0, 50
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        before, cpu, started = statements[0], time.process_time(), time.perf_counter()
        for i in range(start, start + size):
            outcome = await place.place(client_id, command)
            assert outcome.order is not None, outcome.errors
            fill = ExecutionReport(
                exec_id=f"{account_id}:{i}", order_id=outcome.order.id, symbol="600000", exec_type=ExecType.TRADE,
                last_qty=100, last_px=price, ts=utcnow(),
            )  # fmt: skip
            await booking.book([fill])
        trading_s += time.perf_counter() - started
        trading_cpu += time.process_time() - cpu
        counted += statements[0] - before
        started = time.perf_counter()
        for _ in range(size):
            async with db.transaction() as uow:
                now = utcnow()
                uow.session.add(
                    OrderRow(id=new_id("ord"), account_id=account_id, symbol="600000", side="BUY", type="LIMIT",
                             quantity=100, status="NEW", created_at=now, updated_at=now)
                )  # fmt: skip
        bare_s += time.perf_counter() - started
    await db.dispose()
    print(
        f"{url.split(':', 1)[0]}: {n / trading_s:,.0f} placeOrder+fill round trips/s "
        f"({counted / n:.1f} SQL statements incl. BEGIN, {trading_cpu / n * 1000:.2f} ms CPU each); "
        f"bare insert {n / bare_s:,.0f} commits/s; ratio {trading_s / n / (bare_s / n):.1f} bare commits per round trip"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite+aiosqlite:///var/bench_orders.db")
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.n))
