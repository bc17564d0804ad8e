"""Issue #11 (C6), served on both backends: gold001 prices and runs a premium arbitrage on 510300 against
the simulated market (basket buys, creation, ETF sell), and sees each step and the realised P&L on its
event stream; std001 and silver001 are refused with FORBIDDEN naming trading.etf_arbitrage and GOLD."""

from __future__ import annotations

from decimal import Decimal

from tests.api.trading_helpers import events_until, place, trading_client

RUN = """mutation($i: RunEtfArbitrageInput!) { runEtfArbitrage(input: $i) {
  estimate { direction basketValue basketFees etfValue etfFees substituted cashComponent conversionFee pnl }
  run { id status firstOrderIds estimatedPnl } errors { code message } } }"""
RUN_OF = """query($id: ID!) { etfArbitrageRun(id: $id) { status realisedPnl estimatedPnl conversionCash note } }"""
EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename ... on OrderEvent { seq kind code order { status }
  etf { action status runId units etfShares cash estimatedPnl realisedPnl } } } }"""
PCF = """{ instruments(symbols: ["510300", "510050"]) { edges { node { symbol creationUnit cashComponent
  pcf { symbol quantity substitution cashAmount } } } } }"""


async def test_gold_runs_a_premium_arbitrage_and_sees_it_booked(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        # A buyer for the ETF leg: the simulated book alone is far thinner than 900,000 ETF shares.
        await client.login("vip001")
        etf_last = Decimal((await client.execute('{ quote(symbol: "510300") { last } }'))["data"]["quote"]["last"])
        bid = (etf_last * Decimal("0.995")).quantize(Decimal("0.001"))
        buyer = await place(
            client, await client.account_id("CASH"), symbol="510300", price=str(bid), quantity=1_800_000
        )
        assert buyer["errors"] == [], buyer
        await client.login("gold001")
        pcfs = [e["node"] for e in (await client.execute(PCF))["data"]["instruments"]["edges"]]
        assert all(len(n["pcf"]) >= 10 for n in pcfs) and len(pcfs) == 2
        account = await client.account_id("CASH")
        last_seq = (await client.execute("query($a: ID!) { account(id: $a) { lastSeq } }", {"a": account}))["data"]
        arguments = {"accountId": account, "etf": "510300", "units": 1, "direction": "PREMIUM"}
        priced = (await client.execute(RUN, {"i": {**arguments, "estimateOnly": True}}))["data"]["runEtfArbitrage"]
        estimate = priced["estimate"]
        assert priced["run"] is None and priced["errors"] == []
        parts = [Decimal(estimate[k]) for k in ("etfValue", "basketValue", "substituted", "cashComponent")]
        costs = [Decimal(estimate[k]) for k in ("basketFees", "etfFees", "conversionFee")]
        assert abs(Decimal(estimate["pnl"]) - (parts[0] - sum(parts[1:]) - sum(costs))) <= Decimal("0.01")
        async with client.subscribe(EVENTS, {"a": account, "s": last_seq["account"]["lastSeq"]}) as stream:
            started = (await client.execute(RUN, {"i": arguments}))["data"]["runEtfArbitrage"]
            assert started["errors"] == [] and started["run"]["status"] == "LEGS_WORKING", started
            run_id = started["run"]["id"]
            events = await events_until(
                stream, lambda es: es[-1]["kind"] == "ETF_ARBITRAGE" and es[-1]["code"] in ("DONE", "BROKEN")
            )
        steps = [(e["kind"], e["code"]) for e in events if e["kind"].startswith("ETF")]
        assert steps == [
            ("ETF_ARBITRAGE", "STARTED"),
            ("ETF_CREATED", None),
            ("ETF_ARBITRAGE", "CONVERTED"),
            ("ETF_ARBITRAGE", "DONE"),
        ], steps
        created = next(e["etf"] for e in events if e["kind"] == "ETF_CREATED")
        assert created["etfShares"] == 900_000 and created["runId"] == run_id
        run = (await client.execute(RUN_OF, {"id": run_id}))["data"]["etfArbitrageRun"]
        assert run["status"] == "DONE" and run["realisedPnl"] is not None
        assert events[-1]["etf"]["realisedPnl"] == run["realisedPnl"]


async def test_std_and_silver_cannot_run_etf_arbitrage(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        for user in ("std001", "silver001"):
            await client.login(user)
            account = await client.account_id("CASH")
            refused = await client.execute(
                RUN, {"i": {"accountId": account, "etf": "510300", "units": 1, "direction": "PREMIUM"}}
            )
            error = refused["errors"][0]["extensions"]
            named = (error["code"], error["entitlement"], error["requiredTier"])
            assert named == ("FORBIDDEN", "trading.etf_arbitrage", "GOLD")
