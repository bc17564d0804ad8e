"""Accounts (C2), Relay connections, the complex-mode view (D1), syncState (D4) and preferences (D2)."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import GraphQLClient
from tests.api.trading_helpers import CANCEL, place, sync_state, trading_client
from tests.reports import cancel_rejected, trade

ORDERS = """query($a: ID!, $first: Int, $after: String, $f: OrderFilterInput) { account(id: $a) {
  orders(first: $first, after: $after, filter: $f) {
    edges { cursor node { id status symbol side } } pageInfo { hasNextPage endCursor } } } }"""
DESK = """query($a: ID!) { tradingDesk(accountId: $a) {
  lastSeq account { id type } funds { balance available frozen withdrawable }
  positions { symbol quantity lastPrice marketValue unrealisedPnl averageCost cost }
  workingOrders { id status } todaysFills { id } complete } }"""


async def _ids(client: GraphQLClient, account: str, first: int, where: dict | None = None) -> list[str]:
    return [i for page in await _pages(client, account, first, where) for i in page]


async def _pages(client: GraphQLClient, account: str, first: int, where: dict | None = None) -> list[list[str]]:
    pages, after = [], None
    while True:
        result = await client.execute(ORDERS, {"a": account, "first": first, "after": after, "f": where})
        assert "errors" not in result, result
        connection = result["data"]["account"]["orders"]
        pages.append([e["node"]["id"] for e in connection["edges"]])
        if not connection["pageInfo"]["hasNextPage"]:
            return pages
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]


async def test_orders_connection_pages_filters_and_caps(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        ids = [(await place(client, account, price=f"12.{30 + n}"))["order"]["id"] for n in range(5)]
        sells = [(await place(client, account, side="SELL", symbol="000001", price="12.60"))["order"]["id"]]
        newest_first = [*reversed(sells), *reversed(ids)]
        assert await _ids(client, account, 2) == newest_first
        assert [len(p) for p in await _pages(client, account, 2)] == [2, 2, 2]
        assert await _ids(client, account, 10, {"side": "SELL"}) == sells
        assert await _ids(client, account, 10, {"symbol": "600000", "status": ["NEW"]}) == ids[::-1]
        assert await _ids(client, account, 10, {"status": ["FILLED"]}) == []
        assert await _ids(client, account, 10, {"since": "2000-01-01T00:00:00Z", "until": "2001-01-01T00:00:00Z"}) == []
        too_many = await client.execute(ORDERS, {"a": account, "first": 101})
        assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        garbage = await client.execute(ORDERS, {"a": account, "first": 1, "after": "not-a-cursor"})
        assert garbage["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        positions = await client.execute(
            "query($a: ID!) { account(id: $a) { positionsConnection(first: 2) { edges { cursor node { symbol } } "
            "pageInfo { hasNextPage endCursor } } } }",
            {"a": account},
        )
        connection = positions["data"]["account"]["positionsConnection"]
        assert [e["node"]["symbol"] for e in connection["edges"]] == ["000001", "600000"]
        foreign = await client.execute(
            "query($a: ID!, $c: String) { account(id: $a) { fills(after: $c) { edges { cursor } } } }",
            {"a": account, "c": connection["pageInfo"]["endCursor"]},
        )
        assert foreign["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # a position cursor is not a fill cursor


async def test_fills_connection_and_complex_mode_view(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    order = await place(client, account, type="MARKET", quantity=300)
    await place(client, account, price="12.20")

    async def filled() -> dict:
        state = await sync_state(client, account)
        return state if sum(f["quantity"] for f in state["todaysFills"]) == 300 else {}

    from tests.api.conftest import wait_for

    state = await wait_for(filled)
    fills = await client.execute(
        "query($a: ID!, $o: ID) { account(id: $a) { fills(filter: {orderId: $o, side: BUY}) { edges { node { "
        "orderId quantity price commission } } pageInfo { hasNextPage } } } }",
        {"a": account, "o": order["order"]["id"]},
    )
    edges = fills["data"]["account"]["fills"]["edges"]
    assert sum(e["node"]["quantity"] for e in edges) == 300
    assert {e["node"]["orderId"] for e in edges} == {order["order"]["id"]}
    desk = (await client.execute(DESK, {"a": account}))["data"]["tradingDesk"]
    assert desk["lastSeq"] >= state["lastSeq"] and desk["complete"] is True
    assert [o["status"] for o in desk["workingOrders"]] == ["NEW"]
    assert Decimal(desk["funds"]["frozen"]) > 0 and Decimal(desk["funds"]["withdrawable"]) <= Decimal(
        desk["funds"]["available"]
    )
    for p in desk["positions"]:
        last = Decimal(p["lastPrice"])
        assert Decimal(p["marketValue"]) == last * p["quantity"]
        assert Decimal(p["unrealisedPnl"]) == Decimal(p["marketValue"]) - Decimal(p["cost"])


async def test_one_login_reads_and_trades_several_accounts(client: GraphQLClient) -> None:
    await client.login("gold001")
    cash, margin = await client.account_id("CASH"), await client.account_id("MARGIN")
    # The login acts for CASH: trading the margin account takes an explicit switch (a new token).
    refused = await place(client, margin, price="12.40")
    assert [e["code"] for e in refused["errors"]] == ["ACCOUNT_TYPE_NOT_IN_SESSION"]
    switched = await client.execute("mutation { switchAccount(accountType: MARGIN) { accessToken errors { code } } }")
    client.token = switched["data"]["switchAccount"]["accessToken"]
    assert (await place(client, margin, price="12.40"))["errors"] == []
    both = await client.execute(
        "query($c: ID!, $m: ID!) { c: account(id: $c) { type orders { edges { node { id } } } } "
        "m: account(id: $m) { type orders { edges { node { id } } } } }",
        {"c": cash, "m": margin},
    )
    assert both["data"]["c"]["orders"]["edges"] == [] and len(both["data"]["m"]["orders"]["edges"]) == 1
    await client.login("std001")
    stolen = await client.execute("query($a: ID!) { account(id: $a) { id } }", {"a": cash})
    assert stolen["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    stolen = await client.execute("query($a: ID!) { syncState(accountId: $a) { lastSeq } }", {"a": cash})
    assert stolen["errors"][0]["extensions"]["code"] == "NOT_FOUND"


PREFS = """{ tradingPreferences { confirmOnOrder confirmOnCancel defaultPriceLevel defaultPrice
  defaultQuantityRatio defaultQuantityShares hotkeys { chord action } } }"""
UPDATE = """mutation($i: UpdatePreferencesInput!) { updatePreferences(input: $i) {
  preferences { confirmOnOrder defaultPriceLevel defaultPrice defaultQuantityRatio defaultQuantityShares
                hotkeys { chord action } }
  errors { code field } } }"""


async def test_preferences_are_stored_per_client_and_validated(client: GraphQLClient) -> None:
    await client.login("gold001")
    defaults = (await client.execute(PREFS))["data"]["tradingPreferences"]
    assert defaults["confirmOnOrder"] is True and defaults["defaultPriceLevel"] == "LAST"
    assert defaults["defaultQuantityShares"] == 100 and defaults["hotkeys"] == []
    change = {
        "confirmOnOrder": False,
        "defaultPriceLevel": "ASK1",
        "defaultQuantityRatio": "0.5",
        "hotkeys": [{"chord": "shift+ctrl+b", "action": "BUY_AT_ASK1"}, {"chord": "F4", "action": "CANCEL_ALL"}],
    }
    saved = (await client.execute(UPDATE, {"i": change}))["data"]["updatePreferences"]
    assert saved["errors"] == []
    assert saved["preferences"]["hotkeys"] == [
        {"chord": "CTRL+SHIFT+B", "action": "BUY_AT_ASK1"},
        {"chord": "F4", "action": "CANCEL_ALL"},
    ]
    assert (await client.execute(PREFS))["data"]["tradingPreferences"] == {
        "confirmOnOrder": False,
        "confirmOnCancel": True,
        "defaultPriceLevel": "ASK1",
        "defaultPrice": None,
        "defaultQuantityRatio": "0.5",
        "defaultQuantityShares": None,
        "hotkeys": saved["preferences"]["hotkeys"],
    }
    fixed = await client.execute(UPDATE, {"i": {"defaultPrice": "13.50", "defaultQuantityShares": 300}})
    prefs = fixed["data"]["updatePreferences"]["preferences"]
    assert (prefs["defaultPriceLevel"], Decimal(prefs["defaultPrice"]), prefs["defaultQuantityShares"]) == (
        None,
        Decimal("13.5"),
        300,
    )
    bad = {
        "INVALID_QUANTITY": {"defaultQuantityRatio": "1.5"},
        "INVALID_PRICE": {"defaultPrice": "-1"},
        "INVALID_HOTKEY": {"hotkeys": [{"chord": "ctrl+", "action": "BUY"}]},
        "DUPLICATE_HOTKEY": {
            "hotkeys": [{"chord": "ctrl+b", "action": "BUY"}, {"chord": "Control+B", "action": "SELL"}]
        },
        "INVALID_ARGUMENT": {"defaultPrice": "13.50", "defaultPriceLevel": "BID1"},
    }
    for code, fields in bad.items():
        refused = (await client.execute(UPDATE, {"i": fields}))["data"]["updatePreferences"]
        assert refused["preferences"] is None and code in [e["code"] for e in refused["errors"]], (code, refused)
    unknown = await client.execute(UPDATE, {"i": {"hotkeys": [{"chord": "F5", "action": "LAUNCH_ROCKET"}]}})
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await client.login("silver001")
    assert (await client.execute(PREFS))["data"]["tradingPreferences"]["confirmOnOrder"] is True


async def test_cancel_without_confirmation_stays_pending_and_a_fill_that_won_is_too_late(backend) -> None:
    async with trading_client(backend, with_exchange=False, cancel_confirm_seconds=0.2) as client:
        await client.login("gold001")
        account = await client.account_id()
        order = (await place(client, account, price="12.50", quantity=200))["order"]
        result = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ONE", "orderIds": [order["id"]]}})
        assert result["data"]["cancelOrders"]["canceled"][0]["status"] == "PENDING_CANCEL"
        # The exchange answers late: the order had filled before the cancel reached the book.
        await client.container.trading.booking.book([trade(order["id"], "x1", Decimal("12.50"), 200, True)])
        await client.container.trading.booking.book([cancel_rejected(order["id"], "the order had already filled")])
        again = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ONE", "orderIds": [order["id"]]}})
        assert [e["code"] for e in again["data"]["cancelOrders"]["errors"]] == ["TOO_LATE_TO_CANCEL"]
        events = await client.container.trading_queries.events_after(account, 0)
        assert [e.kind for e in events] == ["ACCEPTED", "CANCEL_REQUESTED", "FILL", "CANCEL_REJECTED"]
        assert events[-1].code == "TOO_LATE_TO_CANCEL" and events[-1].order.status == "FILLED"


async def test_cancel_answers_too_late_when_the_fill_wins_while_it_waits(backend) -> None:
    import asyncio

    async with trading_client(backend, with_exchange=False, cancel_confirm_seconds=30) as client:
        await client.login("gold001")
        account = await client.account_id()
        order = (await place(client, account, price="12.50", quantity=200))["order"]
        pending = asyncio.create_task(client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL"}}))

        async def requested() -> bool:
            row = await client.container.trading_queries.order(account, order["id"])
            return row.status == "PENDING_CANCEL"

        from tests.api.conftest import wait_for

        await wait_for(requested)
        await client.container.trading.booking.book([trade(order["id"], "x2", Decimal("12.50"), 200, False)])
        await client.container.trading.booking.book([cancel_rejected(order["id"], "the order had already filled")])
        payload = (await pending)["data"]["cancelOrders"]
        assert payload["canceled"] == [] and [e["code"] for e in payload["errors"]] == ["TOO_LATE_TO_CANCEL"]
