"""C1/C9 quotes through the API: live streams, entitlement-shaped views (one test per tier), bars, instruments."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.api.conftest import GraphQLClient

QUOTES = """subscription($s: [String!]!) { quotes(symbols: $s) {
  symbol last bid ask volume delayed asOf iopv premiumDiscount } }"""
QUOTES_L2 = """subscription($s: [String!]!) { quotes(symbols: $s) {
  symbol delayed asOf last volume depth { bids { price quantity orders } asks { price } }
  top5: depth(levels: 5) { bids { price } asks { price } } trades(first: 20) { seq price quantity side at } } }"""
QUOTE_WITH_DEPTH = """subscription($s: [String!]!) { quotes(symbols: $s) {
  symbol delayed asOf last bid ask depth { bids { price } } } }"""
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id status filledQuantity } errors { code message } } }"""


async def collect(stream, count: int) -> list[dict]:  # type: ignore[no-untyped-def]
    return [await stream.next_data() for _ in range(count)]


def forbidden(payload: dict) -> dict:
    """The one FORBIDDEN error of a payload, as extensions."""
    (error,) = payload["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", error
    return error["extensions"]


async def test_quotes_stream_changing_prices_from_the_first_second(client: GraphQLClient) -> None:
    await client.login("std001")
    seen: dict[str, set[tuple]] = {"600000": set(), "510300": set()}
    prices: dict[str, set[tuple]] = {"600000": set(), "510300": set()}
    async with client.subscribe(QUOTES, {"s": ["600000", "510300"]}) as stream:
        while min(map(len, seen.values())) < 2 or max(map(len, prices.values())) < 2:
            quote = (await stream.next_data())["data"]["quotes"]
            seen[quote["symbol"]].add((quote["asOf"], quote["last"], quote["bid"], quote["ask"], quote["volume"]))
            prices[quote["symbol"]].add((quote["last"], quote["bid"], quote["ask"]))
            assert quote["delayed"] is False
            if quote["symbol"] == "510300":  # ETF: live IOPV and premium/discount
                iopv, last = Decimal(quote["iopv"]), Decimal(quote["last"])
                assert Decimal(quote["premiumDiscount"]) == ((last - iopv) / iopv).quantize(Decimal("0.000001"))
            else:
                assert quote["iopv"] is None and quote["premiumDiscount"] is None


async def test_a_marketable_order_shows_in_the_next_quotes(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    async with client.subscribe(QUOTES_L2, {"s": ["600000"]}) as stream:
        before = (await stream.next_data())["data"]["quotes"]
        seq0 = max((t["seq"] for t in before["trades"]), default=0)
        order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 1000}
        placed = (await client.execute(PLACE, {"i": order}))["data"]["placeOrder"]
        assert placed["errors"] == []
        bought = 0
        while True:  # our fills reach the tape and the day's volume
            quote = (await stream.next_data())["data"]["quotes"]
            fresh = [t for t in quote["trades"] if t["seq"] > seq0]
            bought = sum(t["quantity"] for t in fresh if t["side"] == "BUY")
            if quote["volume"] - before["volume"] >= 1000 and bought >= 1000:
                break
    assert quote["last"] is not None and fresh[0]["seq"] > seq0


async def test_standard_gets_hk_delayed_futures_realtime_and_no_depth(client: GraphQLClient) -> None:
    await client.login("std001")
    async with client.subscribe(QUOTE_WITH_DEPTH, {"s": ["00700", "IF2612", "600000"]}) as stream:
        first = await collect(stream, 3)
    by_symbol = {p["data"]["quotes"]["symbol"]: p for p in first}
    assert set(by_symbol) == {"00700", "IF2612", "600000"}
    for payload in first:  # Level-1 fields resolve; depth alone is refused, naming the tier that unlocks it
        quote = payload["data"]["quotes"]
        assert quote["depth"] is None and quote["bid"] is not None
        assert forbidden(payload) == {"code": "FORBIDDEN", "entitlement": "quotes.level2", "requiredTier": "GOLD"}
    hk = by_symbol["00700"]["data"]["quotes"]
    assert hk["delayed"] is True
    assert datetime.fromisoformat(hk["asOf"]) <= datetime.now(UTC) - timedelta(minutes=15)
    assert by_symbol["IF2612"]["data"]["quotes"]["delayed"] is False
    single = await client.execute('{ quote(symbol: "600000") { symbol last depth { bids { price } } } }')
    assert single["data"]["quote"]["symbol"] == "600000" and single["data"]["quote"]["depth"] is None
    assert forbidden(single)["requiredTier"] == "GOLD"


async def test_gold_gets_depth_of_5_or_10_levels_and_the_tape(client: GraphQLClient) -> None:
    await client.login("gold001")
    async with client.subscribe(QUOTES_L2, {"s": ["600000", "00700"]}) as stream:
        payloads = await collect(stream, 2)
    for payload in payloads:
        assert "errors" not in payload, payload
        quote = payload["data"]["quotes"]
        depth, top5 = quote["depth"], quote["top5"]
        assert len(depth["bids"]) == len(depth["asks"]) == 10
        assert top5 == {"bids": [{"price": b["price"]} for b in depth["bids"][:5]], "asks": depth["asks"][:5]}
        bids = [Decimal(b["price"]) for b in depth["bids"]]
        assert bids == sorted(bids, reverse=True) and Decimal(depth["asks"][0]["price"]) > bids[0]
        seqs = [t["seq"] for t in quote["trades"]]
        assert seqs == sorted(seqs, reverse=True) and len(seqs) <= 20
        assert quote["delayed"] is (quote["symbol"] == "00700")  # HK real-time is DIAMOND only
    bad = await client.execute('{ quote(symbol: "600000") { depth(levels: 7) { bids { price } } } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_diamond_gets_hk_real_time(client: GraphQLClient) -> None:
    await client.login("vip001")
    async with client.subscribe(QUOTE_WITH_DEPTH, {"s": ["00700", "09988"]}) as stream:
        payloads = await collect(stream, 2)
    for payload in payloads:
        quote = payload["data"]["quotes"]
        assert quote["delayed"] is False and quote["depth"]["bids"]
        assert datetime.fromisoformat(quote["asOf"]) > datetime.now(UTC) - timedelta(minutes=1)


async def test_trial_gets_level1_a_shares_only(client: GraphQLClient) -> None:
    await client.login("trial001")
    async with client.subscribe(QUOTE_WITH_DEPTH, {"s": ["600000"]}) as stream:
        payload = await stream.next_data()
    assert payload["data"]["quotes"]["last"] is not None and payload["data"]["quotes"]["depth"] is None
    assert forbidden(payload)["entitlement"] == "quotes.level2"
    for symbol, key in (("00700", "quotes.hk.delayed"), ("IF2612", "quotes.futures.realtime")):
        async with client.subscribe(QUOTE_WITH_DEPTH, {"s": [symbol]}) as stream:
            refused = await stream.next(timeout=10)
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"] == {"code": "FORBIDDEN", "entitlement": key, "requiredTier": "STANDARD"}


async def test_bars_follow_the_view(client: GraphQLClient) -> None:
    await client.login("std001")
    query = """query($s: String!, $i: BarInterval!) { bars(symbol: $s, interval: $i, first: 30) {
      symbol interval delayed asOf bars { start open high low close volume turnover } } }"""
    minute = (await client.execute(query, {"s": "600000", "i": "MINUTE"}))["data"]["bars"]
    assert minute["delayed"] is False and len(minute["bars"]) >= 2  # the warm-up traded for 16 minutes
    starts = [b["start"] for b in minute["bars"]]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for bar in minute["bars"]:
        low, high = Decimal(bar["low"]), Decimal(bar["high"])
        assert low <= Decimal(bar["open"]) <= high and low <= Decimal(bar["close"]) <= high
    hk = (await client.execute(query, {"s": "00700", "i": "MINUTE"}))["data"]["bars"]
    as_of = datetime.fromisoformat(hk["asOf"])
    assert hk["delayed"] is True and all(datetime.fromisoformat(b["start"]) <= as_of for b in hk["bars"])
    day = (await client.execute(query, {"s": "600000", "i": "DAY"}))["data"]["bars"]
    today = day["bars"][-1]
    quote = (await client.execute('{ quote(symbol: "600000") { open volume } }'))["data"]["quote"]
    assert today["open"] == quote["open"] and 0 < today["volume"] <= quote["volume"]
    assert (await client.execute(query, {"s": "IF2612", "i": "DAY"}))["data"]["bars"]["delayed"] is False


async def test_instruments_carry_todays_rules_page_by_page(client: GraphQLClient) -> None:
    await client.login("trial001")
    query = """query($f: Int, $a: String, $b: Board) { instruments(first: $f, after: $a, board: $b) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { symbol name board lotSize buyIncrement tickSize prevClose limitUp limitDown
        multiplier tPlus priceCage phase creationUnit pcf { symbol quantity } } } } }"""
    page1 = (await client.execute(query, {"f": 5}))["data"]["instruments"]
    page2 = (await client.execute(query, {"f": 100, "a": page1["pageInfo"]["endCursor"]}))["data"]["instruments"]
    assert page1["pageInfo"]["hasNextPage"] and not page2["pageInfo"]["hasNextPage"]
    nodes = {e["node"]["symbol"]: e["node"] for e in page1["edges"] + page2["edges"]}
    assert len(nodes) == page1["totalCount"] >= 12
    assert nodes["600000"] | {} == nodes["600000"]
    main = nodes["600000"]
    assert (main["lotSize"], main["tickSize"], main["prevClose"]) == (100, "0.01", "13.52")
    assert (main["limitUp"], main["limitDown"], main["phase"], main["tPlus"]) == ("14.87", "12.17", "CONTINUOUS", 1)
    assert (nodes["688981"]["lotSize"], nodes["688981"]["buyIncrement"], nodes["688981"]["priceCage"]) == (200, 1, True)
    assert nodes["00700"]["limitUp"] is None and nodes["IF2612"]["multiplier"] == 300
    assert nodes["510300"]["tickSize"] == "0.001" and nodes["510300"]["pcf"]
    hk = (await client.execute(query, {"b": "HK"}))["data"]["instruments"]
    assert {e["node"]["symbol"] for e in hk["edges"]} == {"00700", "09988"}


async def test_subscription_gets_latest_snapshot_at_once(client: GraphQLClient) -> None:
    await client.login("gold001")
    latest = await client.container.market.snapshot("600519")
    assert latest is not None
    async with client.subscribe(QUOTES, {"s": ["600519"]}) as stream:
        first = (await asyncio.wait_for(stream.next_data(), 5))["data"]["quotes"]
    assert first["symbol"] == "600519" and first["asOf"] >= latest["asOf"]
