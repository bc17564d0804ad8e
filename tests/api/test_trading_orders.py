"""Issue #5 must-show, served through the in-process app on both backends (gold001)."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import GraphQLClient
from tests.api.trading_helpers import (
    CANCEL,
    EVENTS,
    PLACE,
    events_until,
    move_to_previous_day,
    order_input,
    place,
    sync_state,
    trading_client,
)

TERMINAL = {"FILLED", "CANCELED", "REJECTED", "EXPIRED"}


async def test_marketable_buy_moves_cash_and_position_and_is_sellable_only_tomorrow(backend) -> None:
    async with trading_client(backend, cancel_confirm_seconds=30) as client:
        await client.login("gold001")
        account = await client.account_id()
        before = await sync_state(client, account)
        held = next(p for p in before["positions"] if p["symbol"] == "600000")
        async with client.subscribe(EVENTS, {"a": account, "s": before["lastSeq"]}) as stream:
            placed = await place(client, account, type="MARKET", quantity=600)
            assert placed["errors"] == [] and placed["order"]["status"] == "NEW"
            events = await events_until(stream, lambda es: es[-1]["order"]["status"] in TERMINAL)
        first = before["lastSeq"] + 1
        assert [e["seq"] for e in events] == list(range(first, first + len(events)))
        assert events[0]["kind"] == "ACCEPTED" and {e["kind"] for e in events[1:]} <= {"FILL", "CANCELED"}
        fills = [e["fill"] for e in events if e["kind"] == "FILL"]
        bought = sum(f["quantity"] for f in fills)
        assert bought == 600 and events[-1]["order"]["status"] == "FILLED"
        paid = sum(
            Decimal(f["price"]) * f["quantity"] + Decimal(f["commission"]) + Decimal(f["transferFee"]) for f in fills
        )
        assert sum(Decimal(f["commission"]) for f in fills) >= Decimal("5")  # the minimum commission, once
        after = await sync_state(client, account)
        assert Decimal(after["funds"]["balance"]) == Decimal(before["funds"]["balance"]) - paid
        assert Decimal(after["funds"]["frozen"]) == 0
        position = next(p for p in after["positions"] if p["symbol"] == "600000")
        assert position["quantity"] == held["quantity"] + bought
        assert position["boughtToday"] == bought and position["sellableQuantity"] == held["sellableQuantity"]
        assert Decimal(position["cost"]) == Decimal(held["cost"]) + paid

        # T+1: today's buys cannot be sold today ...
        too_many = await place(client, account, side="SELL", price="14.80", quantity=held["quantity"] + bought)
        assert [e["code"] for e in too_many["errors"]] == ["INSUFFICIENT_POSITION"]
        # ... and become sellable with the settlement of the next trading day, on the first touch.
        await move_to_previous_day(client.container, account)
        sold = await place(client, account, side="SELL", price="14.87", quantity=held["quantity"] + bought)
        assert sold["errors"] == [], sold
        rolled = await sync_state(client, account)
        position = next(p for p in rolled["positions"] if p["symbol"] == "600000")
        assert (position["boughtToday"], position["sellableQuantity"]) == (0, 0)
        assert position["frozenQuantity"] == held["quantity"] + bought
        replay = await client.execute("query($a: ID!) { account(id: $a) { lastSeq } }", {"a": account})
        assert replay["data"]["account"]["lastSeq"] == rolled["lastSeq"]


async def test_bad_orders_get_coded_rejections_never_a_500(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    cases = {
        "LOT_SIZE": {"quantity": 150, "price": "13.50"},
        "TICK_SIZE": {"price": "13.505"},
        "PRICE_LIMIT": {"price": "16.50"},
        "UNKNOWN_SYMBOL": {"symbol": "999999", "price": "10.00"},
        "BAD_QUANTITY": {"quantity": -100, "price": "13.50"},
        "INSUFFICIENT_FUNDS": {"price": "14.80", "quantity": 1_000_000},
        "INSUFFICIENT_POSITION": {"side": "SELL", "price": "14.80", "quantity": 20_000},
    }
    for code, fields in cases.items():
        payload = await place(client, account, **fields)
        assert payload["order"] is None, (code, payload)
        assert code in [e["code"] for e in payload["errors"]], (code, payload)
        assert all(e["message"] for e in payload["errors"])
    wrong_type = await client.execute(PLACE, order_input(account, quantity="many"))
    assert wrong_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await client.execute(PLACE, {"i": {"accountId": account, "symbol": "600000"}})
    assert missing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    other = await client.execute(PLACE, order_input("acc_not_mine", price="13.50"))
    assert other["data"]["placeOrder"]["errors"][0]["code"] == "NOT_FOUND"


async def test_repeated_client_order_id_returns_the_same_order(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    first = await place(client, account, price="12.50", clientOrderId="retry-1")
    again = await place(client, account, price="12.50", clientOrderId="retry-1")
    assert first["order"]["id"] == again["order"]["id"] and again["errors"] == []
    assert again["order"]["clientOrderId"] == "retry-1"
    changed = await place(client, account, price="12.60", clientOrderId="retry-1")
    assert changed["order"] is None
    assert [e["code"] for e in changed["errors"]] == ["DUPLICATE_CLIENT_ORDER_ID"]
    orders = await client.execute(
        'query($a: ID!) { account(id: $a) { orders(filter: {symbol: "600000"}) { edges { node { id } } } } }',
        {"a": account},
    )
    assert [e["node"]["id"] for e in orders["data"]["account"]["orders"]["edges"]] == [first["order"]["id"]]


async def test_cancel_all_cancels_a_resting_order_once_the_exchange_confirms(backend) -> None:
    async with trading_client(backend, cancel_confirm_seconds=30) as client:
        await client.login("gold001")
        account = await client.account_id()
        resting = await place(client, account, price="12.20", quantity=300)
        dry = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL", "dryRun": True}})
        assert [o["status"] for o in dry["data"]["cancelOrders"]["canceled"]] == ["NEW"]
        result = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL"}})
        payload = result["data"]["cancelOrders"]
        assert payload["errors"] == []
        assert payload["canceled"] == [{"id": resting["order"]["id"], "status": "CANCELED", "leavesQuantity": 0}]
        state = await sync_state(client, account)
        assert state["workingOrders"] == [] and Decimal(state["funds"]["frozen"]) == 0


async def test_reconnecting_with_after_seq_recovers_exactly_the_missed_events(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    async with client.subscribe(EVENTS, {"a": account, "s": 0}) as stream:  # from before the first order
        await place(client, account, price="12.30", clientOrderId="seen")
        seen = await events_until(stream, lambda es: len(es) == 1)
    last = seen[-1]["seq"]
    missed = [
        (await place(client, account, price="12.31", clientOrderId=f"missed-{n}"))["order"]["id"] for n in range(3)
    ]
    async with client.subscribe(EVENTS, {"a": account, "s": last}) as stream:
        replayed = await events_until(stream, lambda es: len(es) == 3)
        await place(client, account, price="12.32", clientOrderId="live")
        live = await events_until(stream, lambda es: len(es) == 1)
        beat = (await stream.next_data())["data"]["orderEvents"]
        while beat["__typename"] != "Heartbeat":
            beat = (await stream.next_data())["data"]["orderEvents"]
    assert [e["seq"] for e in replayed] == [last + 1, last + 2, last + 3]
    assert [e["order"]["id"] for e in replayed] == missed
    assert live[0]["seq"] == last + 4 and beat["lastSeq"] == last + 4
