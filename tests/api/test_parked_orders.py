"""Parked orders (埋单, C5) served, on SQLite + in-process bus and on PostgreSQL + Redis.

The tests are the market: the API processes run without an exchange and the tests publish the quotes
(every process sees each one). The clock is a FakeClock the tests move; the sweep runs in each
process on its own, or is called directly where a test needs a deterministic moment.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from brokerql.domain.trading.parked import CLAIM_TIMEOUT, placed_client_order_id
from brokerql.store.parked import parked_view
from brokerql.store.tables_trading import ParkedOrderRow
from tests.api.conftest import wait_for
from tests.api.parked_helpers import (
    CANCEL_PARKED,
    LEVEL,
    PARK,
    PARKED_ORDERS,
    PREV_CLOSE,
    build,
    event_kinds,
    orders_with_client_id,
    park,
    park_input,
    parked_status,
    publish_last,
    served,
    status_becomes,
)
from tests.api.trading_helpers import EVENTS, events_until
from tests.fakes import FakeClock, fixed_tier


def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


async def test_a_price_trigger_fires_once_with_two_api_processes(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        first = client.container
        account = await client.account_id()
        await publish_last([first], PREV_CLOSE)
        parked = (await park(client, account, {"priceAbove": str(LEVEL)}))["parkedOrder"]
        assert parked["status"] == "PARKED" and parked["trigger"]["priceAbove"] == str(LEVEL)
        second = build(backend, time)  # a second API process on the same database (and Redis)
        await second.start()
        try:
            await wait_for(lambda: _armed(second, parked["id"]))
            await publish_last([first, second], LEVEL - Decimal("0.01"))  # below the level: nothing
            await publish_last([first, second], LEVEL + Decimal("0.02"))  # crosses upward: both see it
            await wait_for(lambda: status_becomes(first, parked["id"], "TRIGGERED"))
            await publish_last([first, second], LEVEL + Decimal("0.03"))  # still above: fires nothing more
            await second.parked_orders.sweep()
        finally:
            await second.stop()
        listed = (await client.execute(PARKED_ORDERS, {"a": account}))["data"]["parkedOrders"]
        placed = listed[0]["placedOrder"]
        assert listed[0]["status"] == "TRIGGERED" and placed["id"] == listed[0]["placedOrderId"]
        assert placed["status"] == "NEW"  # accepted (it waits queued for an exchange)
        client_order_id = placed_client_order_id(parked["id"], None)
        assert placed["clientOrderId"] == client_order_id
        assert await orders_with_client_id(first, account, client_order_id) == 1
        kinds = [k for _s, k in await event_kinds(first, account)]
        assert kinds.count("PARKED") == 1 and kinds.count("PARKED_TRIGGERED") == 1 and kinds.count("ACCEPTED") == 1


async def test_two_processes_firing_the_same_parked_orders_at_once_place_each_once(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        account = await client.account_id()
        ids = [(await park(client, account, {"priceBelow": "10.00"}))["parkedOrder"]["id"] for _ in range(10)]
        other = build(backend, time)
        await other.start()
        try:  # every parked order fired by both processes at the same time: 20 racing claims
            results = await asyncio.gather(
                *(process.parked_orders.fire(i) for i in ids for process in (client.container, other))
            )
        finally:
            await other.stop()
        assert sum(r is not None for r in results) == len(ids)  # the durable claim let one through per order
        for parked_id in ids:
            assert await parked_status(client.container, parked_id) == "TRIGGERED"
            assert await orders_with_client_id(client.container, account, f"parked:{parked_id}") == 1
        kinds = [k for _s, k in await event_kinds(client.container, account)]
        assert kinds.count("PARKED_TRIGGERED") == len(ids) and kinds.count("ACCEPTED") == len(ids)


async def test_a_time_trigger_fires_once_after_a_restart_before_its_time(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    at = time.now() + timedelta(minutes=5)
    async with served(backend, time) as client:
        account = await client.account_id()
        first = (await park(client, account, {"at": at.isoformat()}))["parkedOrder"]
        second = (await park(client, account, {"at": at.isoformat()}, quantity=200))["parkedOrder"]
        assert first["trigger"]["at"] is not None
    # the process is gone before the time comes; a new one starts on the same database
    async with served(backend, time) as client:
        container = client.container
        await container.parked_orders.sweep()
        assert await parked_status(container, first["id"]) == "PARKED"  # not yet
        time.advance(minutes=5)  # its time: the new process's own sweep releases both
        await wait_for(lambda: status_becomes(container, first["id"], "TRIGGERED"))
        await wait_for(lambda: status_becomes(container, second["id"], "TRIGGERED"))
        await container.parked_orders.sweep()
        for parked in (first, second):
            assert await orders_with_client_id(container, account, f"parked:{parked['id']}") == 1
        kinds = [k for _s, k in await event_kinds(container, account)]
        assert kinds.count("PARKED_TRIGGERED") == 2 and kinds.count("ACCEPTED") == 2


async def test_a_restart_mid_fire_is_finished_by_a_takeover_without_a_second_order(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        container = client.container
        account = await client.account_id()
        placed_first = (await park(client, account, {"priceAbove": "99.00"}))["parkedOrder"]
        not_placed = (await park(client, account, {"priceAbove": "98.00"}))["parkedOrder"]
        # A process claimed both and died: after placing the first one's order, before placing the other's.
        for parked in (placed_first, not_placed):
            await _claim_as_a_dead_process(container, parked["id"])
        row = await _row(container, placed_first["id"])
        order = replace(parked_view(row).order, client_order_id=placed_client_order_id(row.id, None))
        assert (await container.trading.place.place(row.client_id, order)).order is not None
        await container.parked_orders.sweep()
        assert await parked_status(container, placed_first["id"]) == "FIRING"  # the claim is still fresh
        time.advance(CLAIM_TIMEOUT)
        await wait_for(lambda: status_becomes(container, placed_first["id"], "TRIGGERED"))
        await wait_for(lambda: status_becomes(container, not_placed["id"], "TRIGGERED"))
        for parked in (placed_first, not_placed):
            assert await orders_with_client_id(container, account, f"parked:{parked['id']}") == 1


async def test_cancel_before_and_after_it_fired_and_the_events_on_the_stream(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        account = await client.account_id()
        await publish_last([client.container], PREV_CLOSE)
        waiting = (await park(client, account, {"priceBelow": str(PREV_CLOSE - 1)}))["parkedOrder"]
        canceled = (await client.execute(CANCEL_PARKED, {"id": waiting["id"]}))["data"]["cancelParkedOrder"]
        assert canceled["errors"] == [] and canceled["parkedOrder"]["status"] == "CANCELED"
        again = (await client.execute(CANCEL_PARKED, {"id": waiting["id"]}))["data"]["cancelParkedOrder"]
        assert [e["code"] for e in again["errors"]] == ["PARKED_ORDER_CLOSED"]

        fired = (await park(client, account, {"priceAbove": str(LEVEL)}))["parkedOrder"]
        await publish_last([client.container], LEVEL)
        await wait_for(lambda: status_becomes(client.container, fired["id"], "TRIGGERED"))
        late = (await client.execute(CANCEL_PARKED, {"id": fired["id"]}))["data"]["cancelParkedOrder"]
        assert [e["code"] for e in late["errors"]] == ["PARKED_ORDER_ALREADY_TRIGGERED"]
        assert late["parkedOrder"]["status"] == "TRIGGERED" and late["parkedOrder"]["placedOrderId"]

        missing = (await client.execute(CANCEL_PARKED, {"id": "pko_nope"}))["data"]["cancelParkedOrder"]
        assert [e["code"] for e in missing["errors"]] == ["NOT_FOUND"]

        stream_query = EVENTS.replace("fill {", "parkedOrder { id status placedOrderId } fill {")
        async with client.subscribe(stream_query, {"a": account, "s": 0}) as stream:
            events = await events_until(stream, lambda es: any(e["kind"] == "PARKED_TRIGGERED" for e in es))
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # gapless, as every event
        parked_events = [(e["kind"], e["parkedOrder"]["id"]) for e in events if e["kind"].startswith("PARKED")]
        assert parked_events == [
            ("PARKED", waiting["id"]),
            ("PARKED_CANCELED", waiting["id"]),
            ("PARKED", fired["id"]),
            ("PARKED_TRIGGERED", fired["id"]),
        ]
        accepted = next(e for e in events if e["kind"] == "ACCEPTED")
        assert accepted["order"]["id"] == events[-1]["parkedOrder"]["placedOrderId"]


async def test_expiry_and_a_failed_placement_with_its_code(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        container = client.container
        account = await client.account_id()
        await publish_last([container], PREV_CLOSE)
        variables = park_input(account, {"priceAbove": str(LEVEL)})
        variables["i"]["validUntil"] = (time.now() + timedelta(minutes=10)).isoformat()
        expiring = (await client.execute(PARK, variables))["data"]["parkOrder"]["parkedOrder"]
        too_big = (await park(client, account, {"priceAbove": str(LEVEL + 1)}, quantity=10_000_000))["parkedOrder"]

        time.advance(minutes=10)  # the first one's validity ends before any crossing
        await wait_for(lambda: status_becomes(container, expiring["id"], "EXPIRED"))
        await publish_last([container], LEVEL + 1)  # crosses both levels; the expired one stays expired
        await wait_for(lambda: status_becomes(container, too_big["id"], "FAILED"))
        listed = {p["id"]: p for p in (await client.execute(PARKED_ORDERS, {"a": account}))["data"]["parkedOrders"]}
        assert listed[expiring["id"]]["status"] == "EXPIRED" and listed[expiring["id"]]["placedOrder"] is None
        failed = listed[too_big["id"]]
        assert failed["failureCode"] == "INSUFFICIENT_FUNDS" and failed["placedOrder"] is None
        kinds = await event_kinds(container, account)
        assert [k for _s, k in kinds if k.startswith("PARKED_")] == ["PARKED_EXPIRED", "PARKED_FAILED"]


async def test_park_refusals_are_coded(backend) -> None:  # type: ignore[no-untyped-def]
    time = clock()
    async with served(backend, time) as client:
        account = await client.account_id()
        await publish_last([client.container], PREV_CLOSE)

        async def codes(trigger: dict, **order: object) -> list[str]:
            return [e["code"] for e in (await park(client, account, trigger, **order))["errors"]]

        assert await codes({"priceAbove": str(PREV_CLOSE)}) == ["TRIGGER_ALREADY_MET"]
        assert await codes({"priceBelow": str(PREV_CLOSE + 1)}) == ["TRIGGER_ALREADY_MET"]
        assert await codes({"priceAbove": "20", "at": time.now().isoformat()}) == ["BAD_TRIGGER"]
        assert await codes({"at": (time.now() - timedelta(seconds=1)).isoformat()}) == ["BAD_TRIGGER"]
        assert await codes({"priceAbove": "20"}, symbol="999999") == ["UNKNOWN_SYMBOL"]
        assert await codes({"priceAbove": "20"}, accountId="acc_not_mine") == ["NOT_FOUND"]
        assert await codes({"priceAbove": "20"}, timeInForce="GTC") == ["BAD_TIME_IN_FORCE"]
        assert await codes({"priceAbove": "20"}, price=None) == ["BAD_PRICE"]  # a LIMIT without a price
        assert await codes({"priceAbove": "20"}, quantity=0) == ["BAD_QUANTITY"]
        assert await codes({"priceAbove": "20"}, clientOrderId="mine-1") == []
        assert await codes({"priceAbove": "21"}, clientOrderId="mine-1") == ["DUPLICATE_CLIENT_ORDER_ID"]
        other = await client.execute(PARKED_ORDERS, {"a": "acc_not_mine"})
        assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_standard_tier_is_forbidden_with_the_entitlement_and_tier(backend) -> None:  # type: ignore[no-untyped-def]
    async with served(backend, clock(), username="std001") as client:
        account = await client.account_id()
        for query, variables in (
            (PARK, park_input(account, {"priceAbove": "20"})),
            (CANCEL_PARKED, {"id": "pko_any"}),
            (PARKED_ORDERS, {"a": account}),
        ):
            result = await client.execute(query, variables)
            extensions = result["errors"][0]["extensions"]
            assert extensions["code"] == "FORBIDDEN", result
            assert extensions["entitlement"] == "trading.parked" and extensions["requiredTier"] == "SILVER"


async def _armed(container, parked_id: str) -> bool:  # type: ignore[no-untyped-def]
    return any(parked_id in by_id for by_id in container.parked_watch.armed.values())


async def _row(container, parked_id: str) -> ParkedOrderRow:  # type: ignore[no-untyped-def]
    async with container.db.read() as session:
        return await session.scalar(select(ParkedOrderRow).where(ParkedOrderRow.id == parked_id))


async def _claim_as_a_dead_process(container, parked_id: str) -> None:  # type: ignore[no-untyped-def]
    now = container.clock.now()
    async with container.db.transaction() as uow:
        await uow.session.execute(
            update(ParkedOrderRow)
            .where(ParkedOrderRow.id == parked_id)
            .values(status="FIRING", claim_token="clm_dead", claimed_at=now)
        )


async def test_a_client_downgraded_since_parking_fails_with_not_entitled(backend) -> None:  # type: ignore[no-untyped-def]
    async with served(backend, clock()) as client:
        container = client.container
        account = await client.account_id()
        parked = (await park(client, account, {"priceAbove": "20"}))["parkedOrder"]
        container.parked_orders.tier_of = fixed_tier("STANDARD")  # the tier the client has when it fires
        fired = await container.parked_orders.fire(parked["id"])
        assert fired is not None and fired.status.value == "FAILED" and fired.failure_code == "NOT_ENTITLED"
        assert await orders_with_client_id(container, account, f"parked:{parked['id']}") == 0
