"""Issue #11 (C7), served on both backends: gold001 buys on financing and sees its maintenance ratio;
std001 and silver001 are refused with FORBIDDEN naming the entitlement and the tier that grants it."""

from __future__ import annotations

from decimal import Decimal

from tests.api.trading_helpers import events_until, trading_client

MARGIN_ORDER = """mutation($i: MarginOrderInput!) { marginOrder(input: $i) {
  order { id status purpose } errors { code message field } } }"""
REPAY = """mutation($i: RepayMarginInput!) { repayMargin(input: $i) {
  change { action amount interest principal } errors { code } } }"""
CREDIT = """query($a: ID!) { account(id: $a) { type cash { balance available }
  margin { maintenanceRatio zone warningLine liquidationLine creditLine creditUsed creditAvailable marginAvailable
           assets liabilities { financing short interest total } debts { kind symbol quantity principal } } } }"""
DESK = """query($a: ID!) { tradingDesk(accountId: $a) {
  account { margin { maintenanceRatio zone } futures { marginInUse } } } }"""
EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename ... on OrderEvent { seq kind code order { status purpose } fill { price quantity commission transferFee }
  credit { action amount principal } } } }"""


async def test_gold_buys_on_financing_and_sees_its_maintenance_ratio(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        await client.login("gold001")
        account = await client.account_id("MARGIN")
        before = (await client.execute(CREDIT, {"a": account}))["data"]["account"]
        assert before["margin"]["maintenanceRatio"] is None and before["margin"]["zone"] == "SAFE"
        last_seq = (await client.execute("query($a: ID!) { account(id: $a) { lastSeq } }", {"a": account}))["data"]
        async with client.subscribe(EVENTS, {"a": account, "s": last_seq["account"]["lastSeq"]}) as stream:
            placed = await client.execute(
                MARGIN_ORDER,
                {"i": {"accountId": account, "purpose": "FINANCING_BUY", "symbol": "600000", "price": "14.87",
                       "quantity": 1000}},
            )  # fmt: skip
            result = placed["data"]["marginOrder"]
            assert result["errors"] == [] and result["order"]["purpose"] == "FINANCING_BUY", placed
            events = await events_until(stream, lambda es: es[-1]["order"]["status"] in {"FILLED", "CANCELED"})
        fills = [e["fill"] for e in events if e["kind"] == "FILL"]
        assert sum(f["quantity"] for f in fills) == 1000
        cost = sum(
            Decimal(f["price"]) * f["quantity"] + Decimal(f["commission"]) + Decimal(f["transferFee"]) for f in fills
        )
        after = (await client.execute(CREDIT, {"a": account}))["data"]["account"]
        credit = after["margin"]
        assert after["cash"]["balance"] == before["cash"]["balance"]  # the broker paid
        assert Decimal(credit["liabilities"]["financing"]) == cost == Decimal(credit["creditUsed"])
        assert Decimal(credit["creditAvailable"]) == Decimal(credit["creditLine"]) - cost
        assert credit["debts"] == [{"kind": "FINANCING", "symbol": "600000", "quantity": 1000, "principal": str(cost)}]
        ratio = Decimal(credit["maintenanceRatio"])
        assert ratio == (Decimal(credit["assets"]) / cost).quantize(Decimal("0.0001")) and ratio > Decimal("1.5")
        assert credit["zone"] == "SAFE" and credit["warningLine"] == "1.50"
        desk = await client.execute(DESK, {"a": account})
        on_desk = desk["data"]["tradingDesk"]["account"]["margin"]  # live: prices may have moved since
        assert on_desk["zone"] == "SAFE" and Decimal(on_desk["maintenanceRatio"]) > Decimal("1.5")
        assert desk["data"]["tradingDesk"]["account"]["futures"] is None

        repaid = await client.execute(REPAY, {"i": {"accountId": account, "amount": "1000"}})
        change = repaid["data"]["repayMargin"]
        assert change["errors"] == [] and Decimal(change["change"]["principal"]) == Decimal("1000")


async def test_std_and_silver_are_refused_margin_and_etf_operations_naming_entitlement_and_tier(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        for user in ("std001", "silver001"):
            await client.login(user)
            account = await client.account_id("CASH")
            refused = await client.execute(
                MARGIN_ORDER,
                {"i": {"accountId": account, "purpose": "FINANCING_BUY", "symbol": "600000", "price": "13.52",
                       "quantity": 100}},
            )  # fmt: skip
            error = refused["errors"][0]["extensions"]
            named = (error["code"], error["entitlement"], error["requiredTier"])
            assert named == ("FORBIDDEN", "trading.margin", "GOLD")
            repay = await client.execute(REPAY, {"i": {"accountId": account, "amount": "1"}})
            assert repay["errors"][0]["extensions"]["entitlement"] == "trading.margin"
