"""Issue #15 served: products per account, the session's account type, price instructions,
suitability, STAR eligibility and Stock Connect, each with its payload code (both backends)."""

from __future__ import annotations

from decimal import Decimal

from brokerql.domain.market.stock_connect import connect_basis
from brokerql.domain.trading.fees import DEFAULT_SCHEDULE, estimate_buy_freeze
from tests.api.conftest import GraphQLClient
from tests.api.ops_helpers import as_operator
from tests.api.test_backoffice import client_id
from tests.api.trading_helpers import CANCEL, place, sync_state


def codes(payload: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["code"] for e in payload["errors"]]


async def test_a_cash_account_may_not_trade_futures_nor_a_futures_account_stocks(client: GraphQLClient) -> None:
    await client.login("std001")
    cash = await client.account_id()
    refused = await place(client, cash, symbol="IF2612", price="4600.0", quantity=1)
    assert codes(refused) == ["PRODUCT_NOT_ALLOWED"] and refused["errors"][0]["field"] == "symbol"
    login = await client.execute(
        'mutation { login(input: {username: "vip001", password: "Demo#2026", accountType: FUTURES}) '
        "{ accessToken errors { code } } }"
    )
    client.token = login["data"]["login"]["accessToken"]
    futures = await client.account_id("FUTURES")
    assert codes(await place(client, futures, price="12.50")) == ["PRODUCT_NOT_ALLOWED"]


async def test_a_cash_session_is_refused_on_the_margin_account_until_it_switches(client: GraphQLClient) -> None:
    await client.login("gold001")
    margin = await client.account_id("MARGIN")
    assert codes(await place(client, margin, price="12.40")) == ["ACCOUNT_TYPE_NOT_IN_SESSION"]
    assert codes(await place(client, margin, symbol="00700", price="600.0")) == ["ACCOUNT_TYPE_NOT_IN_SESSION"]
    switched = await client.execute("mutation { switchAccount(accountType: MARGIN) { accessToken errors { code } } }")
    client.token = switched["data"]["switchAccount"]["accessToken"]
    assert codes(await place(client, margin, symbol="00700", price="600.0")) == ["PRODUCT_NOT_ALLOWED"]
    assert codes(await place(client, margin, price="12.40")) == []
    cash = await client.account_id("CASH")
    assert codes(await place(client, cash, price="12.40")) == ["ACCOUNT_TYPE_NOT_IN_SESSION"]
    cancel = await client.execute(CANCEL, {"i": {"accountId": cash, "scope": "ALL"}})
    assert codes(cancel["data"]["cancelOrders"]) == ["ACCOUNT_TYPE_NOT_IN_SESSION"]  # acting includes cancelling
    await client.login("std001")  # STANDARD: no margin account to switch to
    missing = await client.execute("mutation { switchAccount(accountType: MARGIN) { accessToken errors { code } } }")
    assert missing["data"]["switchAccount"] == {"accessToken": None, "errors": [{"code": "NO_SUCH_ACCOUNT_TYPE"}]}


async def test_price_with_price_level_or_market_with_price_is_bad_user_input(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    both = await place(client, account, price="13.00", priceLevel="ASK1")
    assert codes(both) == ["BAD_USER_INPUT"] and "priceLevel" in both["errors"][0]["message"]
    market = await place(client, account, type="MARKET", price="13.00")
    assert codes(market) == ["BAD_USER_INPUT"] and market["errors"][0]["field"] == "price"
    assert both["order"] is None and market["order"] is None


async def test_star_refused_for_an_ineligible_client_and_accepted_after_eligibility(client: GraphQLClient) -> None:
    await client.login("std001")  # C3, 150k average assets, 6 months of experience
    account = await client.account_id()
    star = {"symbol": "688981", "price": "110.00", "quantity": 200}
    refused = await place(client, account, **star)
    assert codes(refused) == ["BOARD_NOT_ELIGIBLE"]
    mine = await client.execute("{ myBoardEligibility { board eligible derived granted } }")
    assert {"board": "STAR", "eligible": False, "derived": False, "granted": False} in mine["data"][
        "myBoardEligibility"
    ]
    client_token = client.token
    operator = await as_operator(client, "admin")
    client.token = operator
    cid = await client_id(client, "std001")
    granted = await client.execute(
        'mutation($c: ID!) { setBoardEligibility(clientId: $c, board: "STAR", granted: true, '
        'reason: "assets held at another broker, statement checked") { ok errors { code } } }',
        {"c": cid},
        token=operator,
    )
    assert granted["data"]["setBoardEligibility"] == {"ok": True, "errors": []}
    log = await client.execute(
        '{ operatorLog(action: "eligibility.grant") { edges { node { target } } } }', token=operator
    )
    assert log["data"]["operatorLog"]["edges"][0]["node"]["target"] == cid
    client.token = client_token
    needs_ack = await place(client, account, **star)  # eligible now, but STAR (R4) is above C3
    assert codes(needs_ack) == ["SUITABILITY_MISMATCH"] and needs_ack["errors"][0]["field"] == "riskAcknowledged"
    accepted = await place(client, account, **star, riskAcknowledged=True)
    assert accepted["errors"] == [] and accepted["order"]["status"] in ("NEW", "PARTIALLY_FILLED", "FILLED")
    history = await client.execute("{ myLoginHistory(first: 50) { edges { node { event } } } }")
    events = [e["node"]["event"] for e in history["data"]["myLoginHistory"]["edges"]]
    assert "RISK_ACKNOWLEDGED" in events


async def test_suitability_needs_acknowledgement_above_the_client_level(client: GraphQLClient) -> None:
    await client.login("std002")  # C2: main-board stocks (R3) need an acknowledgement, ETFs (R2) do not
    account = await client.account_id()
    assert codes(await place(client, account, price="12.40")) == ["SUITABILITY_MISMATCH"]
    assert codes(await place(client, account, price="12.40", riskAcknowledged=True)) == []
    assert codes(await place(client, account, symbol="510300", price="4.500")) == []


async def test_an_hk_buy_is_frozen_in_cny_at_the_reference_rate_with_its_fees(client: GraphQLClient) -> None:
    await client.login("std001")  # 150k average assets: not eligible for Stock Connect
    std = await client.account_id()
    assert codes(await place(client, std, symbol="00700", price="600.0")) == ["BOARD_NOT_ELIGIBLE"]
    await client.login("gold001")
    account = await client.account_id()
    before = await sync_state(client, account)
    assert codes(await place(client, account, symbol="00700", type="MARKET")) == ["MARKET_ORDER_NOT_ALLOWED"]
    assert codes(await place(client, account, symbol="00700", price="600.0", quantity=50)) == ["LOT_SIZE"]
    placed = await place(client, account, symbol="00700", price="580.0")  # below the market: it rests
    assert placed["errors"] == [], placed
    after = await sync_state(client, account)
    frozen = Decimal(after["funds"]["frozen"]) - Decimal(before["funds"]["frozen"])
    expected = estimate_buy_freeze(Decimal("580.0"), 100, DEFAULT_SCHEDULE, connect_basis())
    assert frozen == expected and frozen < Decimal("58000")  # 58,000 HKD is about 55,500 CNY


async def test_the_highest_risk_products_are_refused_above_the_client_level(client: GraphQLClient) -> None:
    login = (
        'mutation { login(input: {username: "vip001", password: "Demo#2026", accountType: FUTURES}) { accessToken } }'
    )
    client.token = (await client.execute(login))["data"]["login"]["accessToken"]
    vip_token = client.token
    futures = await client.account_id("FUTURES")
    future = {"symbol": "IF2612", "price": "4500.0", "quantity": 1}
    assert codes(await place(client, futures, **future)) == []  # C5: R5 is within its level
    client.token = await as_operator(client, "admin")
    vip = await client_id(client, "vip001")
    lowered = await client.execute(
        'mutation($c: ID!) { updateClient(clientId: $c, input: {riskLevel: "C4"}) { errors { code } } }', {"c": vip}
    )
    assert lowered["data"]["updateClient"]["errors"] == []
    client.token = vip_token
    refused = await place(client, futures, **future, riskAcknowledged=True)  # no acknowledgement helps
    assert codes(refused) == ["SUITABILITY_MISMATCH"] and refused["errors"][0]["field"] == "symbol"
    await client.login("std001")
    chinext = await place(client, await client.account_id(), symbol="300750", price="370.00")
    assert codes(chinext) == ["BOARD_NOT_ELIGIBLE"]  # 6 months of experience, 24 needed


async def test_parking_applies_the_rules_that_do_not_wait_for_the_market(client: GraphQLClient) -> None:
    from tests.api.parked_helpers import PARK

    await client.login("gold001")  # SILVER and up may park; the session acts for CASH
    cash, margin = await client.account_id("CASH"), await client.account_id("MARGIN")

    async def park(account: str, above: str = "99999", **order: object) -> list[str]:
        base = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "quantity": 100}
        result = await client.execute(PARK, {"i": {"order": {**base, **order}, "trigger": {"priceAbove": above}}})
        return codes(result["data"]["parkOrder"])

    assert await park(cash, price="13.00", priceLevel="ASK1") == ["BAD_USER_INPUT"]
    assert await park(cash, symbol="IF2612", price="4600.0", quantity=1) == ["PRODUCT_NOT_ALLOWED"]
    assert await park(margin, price="13.00") == ["ACCOUNT_TYPE_NOT_IN_SESSION"]
    assert await park(cash, symbol="688981", price="120.00", quantity=200, riskAcknowledged=True) == []
    parked = await client.execute("query($a: ID!) { parkedOrders(accountId: $a) { order { symbol } } }", {"a": cash})
    assert [p["order"]["symbol"] for p in parked["data"]["parkedOrders"]] == ["688981"]


async def test_margin_and_etf_operations_act_only_for_the_sessions_account_type(client: GraphQLClient) -> None:
    # Repaying, returning shares, creating ETF units, trading a PCF basket and arbitrage all act on an
    # account: a CASH session may not reach the MARGIN account through them either.
    await client.login("gold001")
    margin = await client.account_id("MARGIN")
    operations = {
        "repayMargin": 'repayMargin(input: {accountId: $a, amount: "100"}) { errors { code } }',
        "returnShares": 'returnShares(input: {accountId: $a, symbol: "600000", quantity: 100}) { errors { code } }',
        "createEtf": 'createEtf(input: {accountId: $a, etf: "510300", units: 1}) { errors { code } }',
        "tradeEtfBasket": 'tradeEtfBasket(input: {accountId: $a, etf: "510300", units: 1, side: BUY}) '
        "{ errors { code } }",
        "runEtfArbitrage": 'runEtfArbitrage(input: {accountId: $a, etf: "510300", units: 1, direction: "PREMIUM", '
        "estimateOnly: true}) { errors { code } }",
    }
    for name, selection in operations.items():
        result = await client.execute(f"mutation($a: ID!) {{ {selection} }}", {"a": margin})
        assert "errors" not in result, result
        assert set(codes(result["data"][name])) == {"ACCOUNT_TYPE_NOT_IN_SESSION"}, name  # the basket: per leg


async def test_an_etf_basket_buy_carries_the_clients_acknowledgement_to_its_legs(client: GraphQLClient) -> None:
    # gold001 lowered to C3: the basket's growth-board legs (R4) are above its level, as for any order.
    client.token = await as_operator(client, "admin")
    gold = await client_id(client, "gold001")
    lowered = await client.execute(
        'mutation($c: ID!) { updateClient(clientId: $c, input: {riskLevel: "C3"}) { errors { code } } }', {"c": gold}
    )
    assert lowered["data"]["updateClient"]["errors"] == []
    await client.login("gold001")
    account = await client.account_id()
    trade = """mutation($a: ID!, $ack: Boolean!) { tradeEtfBasket(input: {accountId: $a, etf: "510300", units: 1,
      side: BUY, riskAcknowledged: $ack}) { orders { id } errors { code } } }"""
    refused = (await client.execute(trade, {"a": account, "ack": False}))["data"]["tradeEtfBasket"]
    assert "SUITABILITY_MISMATCH" in codes(refused) and refused["orders"] == []
    placed = (await client.execute(trade, {"a": account, "ack": True}))["data"]["tradeEtfBasket"]
    assert placed["errors"] == [] and placed["orders"], placed
