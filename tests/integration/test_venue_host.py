"""The venue host on both backends (SQLite + file lock + in-process bus; PostgreSQL advisory lock + Redis).

One holder at a time, a standby that takes over, a fence that refuses a deposed holder's writes, the
journal's unbooked reports booked once at start, a re-delivered command applied harmlessly, Redis
commands claimed from a dead consumer, and what clients see while no exchange is live.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from brokerql.bus import codec
from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.container import Container
from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.gateway import CancelOrder, SubmitOrder
from brokerql.exchange.commands import RedisCommands
from brokerql.exchange.lease import LeaseLost
from brokerql.exchange.reports import ReportJournal
from brokerql.store.columns import utcnow
from brokerql.store.tables import AccountRow, ClientRow, FillRow, OrderRow
from brokerql.store.tables_exchange import ExecutionReportRow
from tests.api.conftest import serve_in_process, wait_for
from tests.api.trading_helpers import PLACE, order_input
from tests.conftest import REDIS_UP, REDIS_URL
from tests.reports import trade

LIMIT_UP = DEMO_INSTRUMENTS["600000"].limit_up


async def gold_account(container: Container) -> tuple[str, str]:
    async with container.db.read() as session:
        client = await session.scalar(select(ClientRow).where(ClientRow.username == "gold001"))
        account = await session.scalar(
            select(AccountRow).where(AccountRow.client_id == client.id, AccountRow.type == "CASH")
        )
    return client.id, account.id


async def place_limit(container: Container, price: Decimal, quantity: int = 100) -> str:
    client_id, account_id = await gold_account(container)
    command = PlaceOrder(
        account_id=account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=quantity, price=price
    )
    outcome = await container.trading.place.place(client_id, command)
    assert outcome.order is not None, outcome.errors
    return outcome.order.id


def live_limits(container: Container) -> tuple[Decimal, Decimal]:
    """Today's limits of 600000 as the running market has them: the exchange rolls the trading day at
    the close (15:00 in Shanghai), so after it the previous close, hence the limits, are the simulated one."""
    instrument = container.instruments["600000"]
    assert instrument.limit_down is not None and instrument.limit_up is not None
    return instrument.limit_down, instrument.limit_up


async def order_status(container: Container, order_id: str) -> str:
    async with container.db.read() as session:
        return (await session.get(OrderRow, order_id)).status


async def fill_count(container: Container, order_id: str) -> int:
    async with container.db.read() as session:
        return await session.scalar(select(func.count()).select_from(FillRow).where(FillRow.order_id == order_id))


async def test_one_holder_a_standby_and_a_takeover_with_the_book_restored(backend) -> None:  # type: ignore[no-untyped-def]
    first = Container.build(backend.settings)
    second = Container.build(backend.settings)
    await first.start()
    try:
        await second.start()
        try:
            assert first.venue_host.role == "active" and second.venue_host.role == "standby"
            assert second.exchange is None
            resting = await place_limit(first, live_limits(first)[0])
            await wait_for(lambda: _true(first.exchange.knows(resting)))
            token = first.venue_host.token
            await first.stop()  # the holder goes away; the standby takes over and restores the book
            await wait_for(lambda: _true(second.venue_host.role == "active"), timeout=20)
            assert second.venue_host.token > token
            assert second.exchange.knows(resting) and resting in second.exchange.client_orders
            assert second.venue_watch.status().local_role == "active"
        finally:
            await second.stop()
    finally:
        await first.stop()


async def _true(value: bool) -> bool:
    return value


async def test_a_lone_fill_is_journalled_and_booked_in_one_commit(backend) -> None:  # type: ignore[no-untyped-def]
    """With nothing else waiting to be booked, the venue host journals a trade and books it in one unit of
    work: the journal's rows say booked from the moment the fill exists (booked on their own, they are
    marked at a later heartbeat)."""
    container = Container.build(backend.settings)
    await container.start()
    try:
        order_id = await place_limit(container, live_limits(container)[1])  # at limit up: it trades at once

        async def filled() -> int:
            return await fill_count(container, order_id)

        await wait_for(filled)
        async with container.db.read() as session:
            of_order = (ExecutionReportRow.order_id == order_id, ExecutionReportRow.exec_type == "TRADE")
            booked = (await session.scalars(select(ExecutionReportRow.booked).where(*of_order))).all()
        assert booked and all(booked)
    finally:
        await container.stop()


async def test_a_deposed_holder_is_fenced_out(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    journal = ReportJournal(container.db)
    old = await journal.claim(0, "old", utcnow())
    new = await journal.claim(0, "new", utcnow())
    assert new > old
    report = trade("ord_x", "ord_x:1", Decimal("13.50"), 100)
    with pytest.raises(LeaseLost):
        await journal.append(old, [report], utcnow())
    with pytest.raises(LeaseLost):
        await journal.touch(old, utcnow(), last_match_at=None, last_quote_at=None)
    assert await journal.append(new, [report], utcnow()) == [report]
    assert await journal.append(new, [report], utcnow()) == []  # journalled once
    # Several at once (one statement, executemany): only the new ones come back, in the venue's order.
    more = [trade("ord_x", f"ord_x:{n}", Decimal("13.50"), 100) for n in (2, 3)]
    assert await journal.append(new, [more[0], report, more[1]], utcnow()) == more
    await container.db.dispose()


async def test_reports_journalled_but_not_booked_are_booked_once_at_start(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings)
    order_id = await place_limit(container, DEMO_INSTRUMENTS["600000"].limit_down, quantity=300)
    journal = ReportJournal(container.db)
    token = await journal.claim(0, "crashed", utcnow())
    price = DEMO_INSTRUMENTS["600000"].limit_down
    fill = replace(trade(order_id, f"{order_id}:1", price, 100), symbol="600000")
    await journal.append(token, [fill], utcnow())  # matched and journalled, then the holder died
    await container.start()
    try:
        assert await fill_count(container, order_id) == 1
        assert await order_status(container, order_id) == "PARTIALLY_FILLED"
        # Restored with what is left, and the next execution continues the order's numbering.
        assert container.exchange.seen[order_id] == 1
        assert container.exchange.books["600000"].remaining(order_id) == 200
        await container.trading.booking.book([fill])  # a repeat changes nothing
        assert await fill_count(container, order_id) == 1
        async with container.db.read() as session:
            booked = await session.scalar(
                select(ExecutionReportRow.booked).where(ExecutionReportRow.exec_id == fill.exec_id)
            )
        assert booked is True
    finally:
        await container.stop()


async def test_a_repeated_submit_of_a_finished_order_is_not_worked_again(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings)
    await container.start()
    try:
        limit_up = live_limits(container)[1]
        first = await place_limit(container, limit_up)
        await wait_for(lambda: _is(order_status(container, first), "FILLED"), timeout=20)
        fills = await fill_count(container, first)
        async with container.db.read() as session:
            row = await session.get(OrderRow, first)
        again = SubmitOrder(
            order_id=first, account_id=row.account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT,
            price=limit_up, quantity=100, time_in_force=TimeInForce(row.time_in_force), created_at=row.created_at,
        )  # fmt: skip
        await container.bus.publish(COMMANDS_TOPIC, again)  # e.g. the relay published it twice
        second = await place_limit(container, limit_up)  # commands are applied in order: after the repeat
        await wait_for(lambda: _is(order_status(container, second), "FILLED"), timeout=20)
        assert await fill_count(container, first) == fills
        assert await order_status(container, first) == "FILLED"
        assert first not in container.exchange.seen  # bounded: finished orders are forgotten
    finally:
        await container.stop()


async def _is(status: object, expected: str) -> bool:
    return await status == expected  # type: ignore[misc]


@pytest.mark.skipif(not REDIS_UP, reason="needs Redis")
async def test_commands_a_dead_consumer_left_pending_are_claimed_and_the_stream_trimmed() -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    key = f"bqtest:commands:{utcnow().timestamp()}"
    try:
        commands = [CancelOrder(order_id=f"ord_{n}", symbol="600000") for n in range(3)]
        for command in commands:
            await client.xadd(key, {"d": codec.encode(command)})
        dead = RedisCommands(client, key, "dead")
        await dead.open()
        assert [c for _i, c in await dead.next(0.1)] == commands  # read, never acknowledged
        heir = RedisCommands(client, key, "heir")
        await heir.open()
        claimed = await heir.next(0.1)
        assert [c for _i, c in claimed] == commands
        await heir.ack([i for i, _c in claimed])
        await heir.trim()
        assert await client.xlen(key) <= 1  # acknowledged entries go; none pending is left
        assert await heir.next(0.1) == []
    finally:
        await client.delete(key)
        await client.aclose()


async def test_no_live_exchange_limit_orders_queue_market_orders_are_refused(backend) -> None:  # type: ignore[no-untyped-def]
    api = Container.build(backend.settings, with_exchange=False)
    async with serve_in_process(backend.settings, api) as client:
        await client.login("gold001")
        account = await client.account_id()
        status = await client.execute("{ exchangeStatus { live ordersQueued quotesStale heartbeatAgeSeconds } }")
        assert status["data"]["exchangeStatus"] == {
            "live": False, "ordersQueued": True, "quotesStale": True, "heartbeatAgeSeconds": None,
        }  # fmt: skip
        health = await client.http.get("/healthz")
        assert health.status_code == 503 and health.json()["exchange"]["live"] is False
        refused = await client.execute(PLACE, order_input(account, type="MARKET"))
        assert [e["code"] for e in refused["data"]["placeOrder"]["errors"]] == ["EXCHANGE_UNAVAILABLE"]
        queued = await client.execute(PLACE, order_input(account, price=str(LIMIT_UP)))
        order_id = queued["data"]["placeOrder"]["order"]["id"]
        assert queued["data"]["placeOrder"]["order"]["status"] == "NEW"

        exchange = Container.build(backend.settings)  # an exchange comes up: the queued order is matched
        await exchange.start()
        try:
            await wait_for(lambda: _is(order_status(api, order_id), "FILLED"), timeout=30)
            await api.venue_watch.refresh()
            status = await client.execute("{ exchangeStatus { live ordersQueued } }")
            assert status["data"]["exchangeStatus"] == {"live": True, "ordersQueued": False}
            quote = await client.execute('{ quote(symbol: "600000") { stale ageSeconds } }')
            if backend.settings.redis_url:  # the in-process bus of another container carries no quotes here
                assert quote["data"]["quote"]["stale"] is False and quote["data"]["quote"]["ageSeconds"] >= 0
        finally:
            await exchange.stop()


async def test_the_redis_lease_gives_one_holder_and_a_takeover(backend) -> None:  # type: ignore[no-untyped-def]
    if not backend.settings.redis_url:
        pytest.skip("the Redis lease needs Redis (runs on the postgres-redis backend)")
    settings = backend.settings.model_copy(update={"exchange_lease": "redis"})
    first, second = Container.build(settings), Container.build(settings)
    assert first.venue_host.lease.kind == "redis"
    await first.start()
    try:
        await second.start()
        try:
            assert (first.venue_host.role, second.venue_host.role) == ("active", "standby")
            token = first.venue_host.token
            await first.stop()
            await wait_for(lambda: _true(second.venue_host.role == "active"), timeout=20)
            assert second.venue_host.token > token
        finally:
            await second.stop()
    finally:
        await first.stop()
