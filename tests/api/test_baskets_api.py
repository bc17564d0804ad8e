"""Served baskets (C4): silver001 runs a three-leg basket, sees its completion live on orderEvents and in
basketRun, cancels the rest (cancelOrders by symbol and cancelBasketRun), tops up; std001 is FORBIDDEN
with the entitlement and SILVER. The order wizard's answer equals the order placeOrder then books, and a
paired order places both sides or neither. The venue is played by the test: quotes are published on the
bus and executions booked through the booking service, so every figure is exact."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from brokerql.container import Container
from brokerql.exchange.engine import quote_topic
from tests.api.conftest import GraphQLClient, Stream, serve_in_process
from tests.fakes import FakeClock
from tests.reports import canceled, trade

BOOKS = {"600000": ("13.50", "13.51"), "000001": ("11.47", "11.48"), "688981": ("118.50", "118.60")}
RUN = """id status filledRatio quantity filledQuantity value filledValue topUps
  legs { symbol quantity price filledQuantity workingQuantity remainder order { id status } orders { id } }"""
CREATE = """mutation($i: CreateBasketInput!) { createBasket(input: $i) {
  basket { id name legs { symbol quantity weight } } errors { code message field } } }"""
SUBMIT = f"""mutation($i: SubmitBasketInput!) {{ submitBasket(input: $i) {{
  run {{ {RUN} }}
  preview {{ accepted frozenCash availableAfter fees {{ total }}
    legs {{ symbol exactQuantity quantity price accepted order {{ frozenCash fees {{ commission transferFee }} }} }} }}
  errors {{ code field }} }} }}"""
RUN_QUERY = f"query($id: ID!) {{ basketRun(id: $id) {{ {RUN} }} }}"
RUNS = "query($a: ID!) { basketRuns(accountId: $a, first: 5) { edges { node { id topUps } } } }"
CANCEL_RUN = f"mutation($id: ID!) {{ cancelBasketRun(id: $id) {{ run {{ {RUN} }} errors {{ code }} }} }}"
TOP_UP = (  # silver001 is C3: the STAR leg (R4) is bought with the risk acknowledged
    f"mutation($id: ID!) {{ topUpBasketRun(id: $id, priceLevel: ASK1, riskAcknowledged: true) "
    f"{{ run {{ {RUN} }} errors {{ code }} }} }}"
)
CANCEL = """mutation($i: CancelOrdersInput!) { cancelOrders(input: $i) { canceled { id status } errors { code } } }"""
EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) { __typename
  ... on OrderEvent { seq kind basketRunId order { id symbol status basketRunId } } } }"""
PREVIEW = """query($i: PlaceOrderInput!) { previewOrder(input: $i) {
  accepted errors { code } checks { rule outcome } type price notional frozenCash frozenQuantity
  availableBefore availableAfter maxQuantity fees { commission stampDuty transferFee total } } }"""
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id price frozenCash } errors { code } } }"""
FUNDS = """query($a: ID!) { account(id: $a) { cash { available } } }"""
FILLS = (
    """query($a: ID!) { account(id: $a) { fills { edges { node { orderId commission stampDuty transferFee } } } } }"""
)
PAIR = """mutation($i: PlacePairedOrderInput!) { placePairedOrder(input: $i) {
  pairId buy { id pairId status } sell { id pairId status } errors { code field } } }"""


@contextlib.asynccontextmanager
async def app(backend: Any) -> AsyncIterator[GraphQLClient]:
    settings = backend.settings.model_copy(update={"cancel_confirm_seconds": 0})
    container = Container.build(settings, with_exchange=False, clock=FakeClock(datetime.now(UTC)))
    async with serve_in_process(settings, container) as client:
        for symbol, (bid, ask) in BOOKS.items():
            snapshot = {"symbol": symbol, "last": bid, "bids": [[bid, 9000, 3]], "asks": [[ask, 9000, 2]]}
            await container.bus.publish(quote_topic(symbol), snapshot, retain=True)
        yield client


async def gql(client: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await client.execute(query, variables)
    assert "errors" not in result, result
    return result["data"]


async def events(stream: Stream, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < count:
        payload = (await stream.next_data())["data"]["orderEvents"]
        if payload["__typename"] == "OrderEvent":
            out.append(payload)
    return out


async def test_silver001_runs_a_three_leg_basket_cancels_the_rest_and_tops_up(backend) -> None:  # type: ignore[no-untyped-def]
    async with app(backend) as client:
        await client.login("silver001")
        account = await client.account_id()
        legs = [{"symbol": s, "quantity": q} for s, q in (("600000", 200), ("000001", 300), ("688981", 200))]
        created = (await gql(client, CREATE, {"i": {"name": "three", "legs": legs}}))["createBasket"]
        assert created["errors"] == [] and [leg["symbol"] for leg in created["basket"]["legs"]] == list(BOOKS)
        basket = created["basket"]["id"]
        submit = {"basketId": basket, "accountId": account, "side": "BUY", "multiplier": "2", "priceLevel": "ASK1"}
        unacknowledged = (await gql(client, SUBMIT, {"i": {**submit, "preview": True}}))["submitBasket"]
        assert {"code": "SUITABILITY_MISMATCH", "field": "legs[2].riskAcknowledged"} in unacknowledged["errors"]
        submit["riskAcknowledged"] = True  # silver001 (C3) buys a STAR leg (R4): suitability asks for it
        preview = (await gql(client, SUBMIT, {"i": {**submit, "preview": True}}))["submitBasket"]
        assert preview["run"] is None and preview["preview"]["accepted"] is True
        sized = [(leg["quantity"], leg["price"]) for leg in preview["preview"]["legs"]]
        assert sized == [(400, "13.51"), (600, "11.48"), (400, "118.60")]
        async with client.subscribe(
            EVENTS, {"a": account, "s": 0}
        ) as stream:  # from before the run, however late it opens
            run = (await gql(client, SUBMIT, {"i": submit}))["submitBasket"]["run"]
            assert run["status"] == "WORKING" and run["filledRatio"] == 0 and run["quantity"] == 1400
            accepted = await events(stream, 3)
            linked = {(e["kind"], e["basketRunId"], e["order"]["basketRunId"]) for e in accepted}
            assert linked == {("ACCEPTED", run["id"], run["id"])}
            frozen = sum(Decimal(leg["order"]["frozenCash"]) for leg in preview["preview"]["legs"])
            assert frozen == Decimal(preview["preview"]["frozenCash"])  # the preview's total cash needed

            orders = {leg["symbol"]: leg["order"]["id"] for leg in run["legs"]}
            booking = client.container.trading.booking
            await booking.book([trade(orders["600000"], "b1", Decimal("13.51"), 400)])
            await booking.book([trade(orders["000001"], "b2", Decimal("11.48"), 200)])
            fills = await events(stream, 2)
            assert [e["kind"] for e in fills] == ["FILL", "FILL"] and {e["basketRunId"] for e in fills} == {run["id"]}
            run = (await gql(client, RUN_QUERY, {"id": run["id"]}))["basketRun"]
            assert [leg["filledQuantity"] for leg in run["legs"]] == [400, 200, 0]
            assert run["filledQuantity"] == 600 and run["filledRatio"] == round(600 / 1400, 4)
            assert Decimal(run["filledValue"]) == Decimal("13.51") * 400 + Decimal("11.48") * 200

            by_symbol = {"accountId": account, "scope": "SYMBOL", "symbol": "688981"}  # cancelOrders works on legs
            assert (await gql(client, CANCEL, {"i": by_symbol}))["cancelOrders"]["errors"] == []
            cancel = (await gql(client, CANCEL_RUN, {"id": run["id"]}))["cancelBasketRun"]
            assert cancel["errors"] == [] and cancel["run"]["legs"][1]["order"]["status"] == "PENDING_CANCEL"
            await booking.book([canceled(orders["688981"], 400)])  # the venue confirms both cancels
            await booking.book([canceled(orders["000001"], 400)])
            run = (await gql(client, RUN_QUERY, {"id": run["id"]}))["basketRun"]
            assert run["status"] == "STOPPED" and [leg["remainder"] for leg in run["legs"]] == [0, 400, 400]

            topped = (await gql(client, TOP_UP, {"id": run["id"]}))["topUpBasketRun"]
            assert topped["errors"] == [] and topped["run"]["status"] == "WORKING" and topped["run"]["topUps"] == 1
            new = topped["run"]["legs"]
            assert [len(leg["orders"]) for leg in new] == [1, 2, 2]
            assert [leg["workingQuantity"] for leg in new] == [0, 400, 400]
            kinds = [e["kind"] for e in await events(stream, 6)]  # 2 CANCEL_REQUESTED, 2 CANCELED, 2 ACCEPTED
            assert sorted(kinds) == ["ACCEPTED"] * 2 + ["CANCELED"] * 2 + ["CANCEL_REQUESTED"] * 2
        listed = (await gql(client, RUNS, {"a": account}))["basketRuns"]
        assert [(e["node"]["id"], e["node"]["topUps"]) for e in listed["edges"]] == [(run["id"], 1)]

        await client.login("std001")
        refused = await client.execute(CREATE, {"i": {"name": "x", "legs": legs}})
        extensions = refused["errors"][0]["extensions"]
        denial = (extensions["code"], extensions["entitlement"], extensions["requiredTier"])
        assert denial == ("FORBIDDEN", "trading.baskets", "SILVER")
        assert (await client.execute("{ baskets { id } }"))["errors"][0]["extensions"]["requiredTier"] == "SILVER"


async def test_the_wizard_answers_what_placeorder_then_books(backend) -> None:  # type: ignore[no-untyped-def]
    async with app(backend) as client:
        await client.login("std001")  # the wizard needs no basket entitlement
        account = await client.account_id()
        order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "quantity": 1000}
        order["price"] = "13.51"  # the ask (a priceLevel order would be a flash order: trading.fast, GOLD and up)
        before = Decimal((await gql(client, FUNDS, {"a": account}))["account"]["cash"]["available"])
        preview = (await gql(client, PREVIEW, {"i": order}))["previewOrder"]
        assert preview["accepted"] and preview["errors"] == [] and preview["price"] == "13.51"
        assert [c["outcome"] for c in preview["checks"]] == ["PASSED"] * 11 and preview["type"] == "LIMIT"
        assert Decimal(preview["availableBefore"]) == before
        placed = (await gql(client, PLACE, {"i": order}))["placeOrder"]["order"]
        assert placed["price"] == preview["price"] and placed["frozenCash"] == preview["frozenCash"]
        after = Decimal((await gql(client, FUNDS, {"a": account}))["account"]["cash"]["available"])
        assert after == Decimal(preview["availableAfter"]) == before - Decimal(preview["frozenCash"])
        await client.container.trading.booking.book([trade(placed["id"], "w1", Decimal("13.51"), 1000)])
        fills = (await gql(client, FILLS, {"a": account}))["account"]["fills"]["edges"]
        fill = next(f["node"] for f in fills if f["node"]["orderId"] == placed["id"])
        assert {k: fill[k] for k in ("commission", "stampDuty", "transferFee")} == {
            k: preview["fees"][k] for k in ("commission", "stampDuty", "transferFee")
        }
        too_big = (await gql(client, PREVIEW, {"i": {**order, "quantity": 10**7}}))["previewOrder"]
        assert [e["code"] for e in too_big["errors"]] == ["INSUFFICIENT_FUNDS"]
        assert [c["outcome"] for c in too_big["checks"]][-1] == "FAILED" and too_big["maxQuantity"] > 0
        most = (await gql(client, PREVIEW, {"i": {**order, "quantity": too_big["maxQuantity"]}}))["previewOrder"]
        assert most["accepted"] is True


async def test_the_wizard_says_what_a_repeated_client_order_id_answers(backend) -> None:  # type: ignore[no-untyped-def]
    repeat = """query($i: PlaceOrderInput!) { previewOrder(input: $i) {
      accepted errors { code } existingOrder { id clientOrderId } } }"""
    async with app(backend) as client:
        await client.login("std001")
        account = await client.account_id()
        order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "quantity": 100,
                 "price": "13.51", "clientOrderId": "web-42"}  # fmt: skip
        fresh = (await gql(client, repeat, {"i": order}))["previewOrder"]
        assert fresh == {"accepted": True, "errors": [], "existingOrder": None}
        placed = (await gql(client, PLACE, {"i": order}))["placeOrder"]["order"]
        same = (await gql(client, repeat, {"i": order}))["previewOrder"]
        assert same["accepted"] and same["existingOrder"] == {"id": placed["id"], "clientOrderId": "web-42"}
        again = (await gql(client, PLACE, {"i": order}))["placeOrder"]["order"]
        assert again["id"] == placed["id"]  # what the wizard said placing would answer
        other = (await gql(client, repeat, {"i": {**order, "quantity": 200}}))["previewOrder"]
        assert other == {"accepted": False, "errors": [{"code": "DUPLICATE_CLIENT_ORDER_ID"}], "existingOrder": None}


async def test_a_paired_order_places_both_sides_or_neither(backend) -> None:  # type: ignore[no-untyped-def]
    async with app(backend) as client:
        await client.login("silver001")
        account = await client.account_id()
        buy = {"symbol": "688981", "quantity": 200, "price": "118.60"}
        pair = {"accountId": account, "buy": buy, "sell": {"symbol": "600000", "quantity": 10**6, "price": "13.50"}}
        pair["riskAcknowledged"] = True  # silver001 (C3) buys STAR (R4): suitability asks for it
        refused = (await gql(client, PAIR, {"i": pair}))["placePairedOrder"]
        assert refused["pairId"] is None and refused["buy"] is None
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INSUFFICIENT_POSITION", "sell.quantity")]
        pair["sell"] = {"symbol": "600000", "quantity": 10_000, "priceLevel": "BID1"}  # the whole seeded holding
        placed = (await gql(client, PAIR, {"i": pair}))["placePairedOrder"]
        assert placed["errors"] == [] and placed["buy"]["pairId"] == placed["sell"]["pairId"] == placed["pairId"]
        assert placed["buy"]["status"] == placed["sell"]["status"] == "NEW"
