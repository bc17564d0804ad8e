"""Issue #11 (C8), served on both backends: vip001 opens an IF position, a risk officer settles the day,
vip001 closes it; cash moves by the variation margin and the realised P&L, less the CFFEX fees."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import GraphQLClient
from tests.api.ops_helpers import as_operator
from tests.api.trading_helpers import events_until, place, trading_client

FILLED = {"FILLED"}
SETTLE = """mutation($s: String!, $p: Decimal!) { settleFutures(input: {symbol: $s, settlementPrice: $p}) {
  final settlements { symbol quantity direction variation margin marginCall } errors { code field } } }"""
BOOK = """query($a: ID!) { account(id: $a) { realisedPnl cash { balance available frozen }
  futures { marginInUse available marginCall riskDegree
    positions { symbol direction quantity yesterdayQuantity todayQuantity margin settlementPrice averageOpenPrice
                unrealisedPnl multiplier } } } }"""
FUTURES_EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename ... on OrderEvent { seq kind code order { status }
    fill { price quantity commission }
    futures { symbol settlementPrice quantity variation margin delivered marginCall } } } }"""


async def book(client: GraphQLClient, account: str) -> dict:
    result = await client.execute(BOOK, {"a": account})
    assert "errors" not in result, result
    return result["data"]["account"]


async def test_vip_opens_and_closes_an_if_position_across_a_settlement(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        await client.login("vip001")
        account = await client.account_id("FUTURES")
        before = await book(client, account)
        cash = Decimal(before["cash"]["balance"])
        start = (await client.execute("query($a: ID!) { account(id: $a) { lastSeq } }", {"a": account}))["data"]
        async with client.subscribe(FUTURES_EVENTS, {"a": account, "s": start["account"]["lastSeq"]}) as stream:
            opened = await place(client, account, symbol="IF2612", side="BUY", type="MARKET", quantity=2)
            assert opened["errors"] == [], opened
            events = await events_until(stream, lambda es: es[-1]["order"] and es[-1]["order"]["status"] in FILLED)
            open_fills = [e["fill"] for e in events if e["kind"] == "FILL"]
            held = await book(client, account)
            position = held["futures"]["positions"][0]
            assert (position["direction"], position["quantity"], position["todayQuantity"]) == ("LONG", 2, 0 + 2)
            paid = sum(Decimal(f["commission"]) for f in open_fills)
            entry = sum(Decimal(f["price"]) * f["quantity"] for f in open_fills)  # sum of price x qty
            margin = (entry * 300 * Decimal("0.12")).quantize(Decimal("0.01"))
            assert Decimal(held["futures"]["marginInUse"]) == margin == Decimal(position["margin"])
            assert Decimal(held["cash"]["balance"]) == cash - paid  # opening costs only the fee
            assert Decimal(held["futures"]["available"]) == cash - paid - margin

            # the day's settlement, by a risk officer; clients cannot run it
            refused = await client.execute(SETTLE, {"s": "IF2612", "p": "4600.0"})
            assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            risk = await as_operator(client, "risk")
            settle_price = Decimal("4600.0")
            settled = await client.execute(SETTLE, {"s": "IF2612", "p": str(settle_price)}, token=risk)
            assert "errors" not in settled, settled
            payload = settled["data"]["settleFutures"]
            mine = [s for s in payload["settlements"] if s["quantity"] == 2]
            variation = (settle_price * 2 - entry) * 300
            assert payload["final"] is False and Decimal(mine[0]["variation"]) == variation
            event = (await events_until(stream, lambda es: es[-1]["kind"] == "FUTURES_SETTLED"))[-1]
            assert Decimal(event["futures"]["variation"]) == variation and event["futures"]["delivered"] == 0
            marked = await book(client, account)
            position = marked["futures"]["positions"][0]
            assert (position["yesterdayQuantity"], position["todayQuantity"]) == (2, 0)
            assert Decimal(position["settlementPrice"]) == settle_price
            assert Decimal(marked["cash"]["balance"]) == cash - paid + variation

            closed = await place(client, account, symbol="IF2612", side="SELL", type="MARKET", quantity=2)
            assert closed["errors"] == [], closed
            events = await events_until(stream, lambda es: es[-1]["order"] and es[-1]["order"]["status"] in FILLED)
        close_fills = [e["fill"] for e in events if e["kind"] == "FILL"]
        exit_value = sum(Decimal(f["price"]) * f["quantity"] for f in close_fills)
        close_fee = sum(Decimal(f["commission"]) for f in close_fills)
        # yesterday's lots: the close-yesterday rate, 0.023 per mille of notional
        assert close_fee == sum(
            (Decimal(f["price"]) * f["quantity"] * 300 * Decimal("0.000023")).quantize(Decimal("0.01"))
            for f in close_fills
        )
        after = await book(client, account)
        assert after["futures"]["positions"] == [] and Decimal(after["futures"]["marginInUse"]) == 0
        # over the whole round trip: (exit - entry) x 300 - fees, however the settlement split it
        assert Decimal(after["cash"]["balance"]) == cash + (exit_value - entry) * 300 - paid - close_fee
        assert Decimal(after["cash"]["available"]) == Decimal(after["cash"]["balance"])


async def test_a_short_opens_without_shares_and_a_cash_account_still_cannot_short(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend) as client:
        await client.login("vip001")
        futures_account = await client.account_id("FUTURES")
        # resting (far above the market): an opening short needs no shares, only margin
        short = await place(client, futures_account, symbol="IF2612", side="SELL", price="5000.0", quantity=1)
        assert short["errors"] == [] and short["order"]["status"] == "NEW", short
        me = await client.execute(
            "{ me { accounts { type margin { zone } futures { marginInUse positions { direction "
            "quantity pendingOpen } } } } }"
        )
        books = {a["type"]: a for a in me["data"]["me"]["accounts"]}
        assert books["FUTURES"]["futures"]["positions"] == [{"direction": "SHORT", "quantity": 0, "pendingOpen": 1}]
        assert books["CASH"]["futures"] is None and books["CASH"]["margin"] is None
        assert books["MARGIN"]["margin"]["zone"] == "SAFE"
        wrong_way = await place(client, futures_account, symbol="IF2612", side="BUY", price="4200.0", quantity=1)
        assert [e["code"] for e in wrong_way["errors"]] == ["FUTURES_OPPOSITE_POSITION"]
        off_tick = await place(client, futures_account, symbol="IF2612", side="SELL", price="5000.1", quantity=1)
        assert [e["code"] for e in off_tick["errors"]] == ["TICK_SIZE"]
        cash_account = await client.account_id("CASH")
        no_shares = await place(client, cash_account, symbol="601318", side="SELL", price="56.80", quantity=100)
        assert [e["code"] for e in no_shares["errors"]] == ["INSUFFICIENT_POSITION"]
