"""E3 controls: drain, force-close, halts, simulator; each written to the operator log."""

from __future__ import annotations

import asyncio

import pytest
from httpx_ws import WebSocketDisconnect

from brokerql.monitor.connections import DRAIN_CLOSE_CODE, FORCE_CLOSE_CODE
from tests.api.conftest import GraphQLClient
from tests.api.ops_helpers import as_operator, ops_app
from tests.api.test_backoffice import client_id
from tests.api.trading_helpers import place

CHEAP = "10.40"  # within 000001's daily band in the demo; far below its market: the order rests
QUOTES = 'subscription { quotes(symbols: ["600000"]) { symbol } }'


async def closed_with(stream, timeout: float = 10) -> int:  # type: ignore[no-untyped-def]
    """Read until the server closes the socket; its close code."""
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            await asyncio.wait_for(stream.ws.receive_json(), timeout)
    return closed.value.code


async def operator_actions(client: GraphQLClient, token: str) -> set[str]:
    log = await client.execute("{ operatorLog(first: 50) { edges { node { action target } } } }", token=token)
    return {e["node"]["action"] for e in log["data"]["operatorLog"]["edges"]}


async def test_a_drained_process_refuses_new_subscriptions_and_reports_draining(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        await client.login("std001")
        process = client.container.monitor.process_id
        await client.container.monitor.publish_once()
        async with client.subscribe(QUOTES) as stream:
            await stream.next_data()
            drained = await client.execute(
                "mutation($p: String!) { drainProcess(processId: $p) { ok errors { code } } }",
                {"p": process},
                token=ops,
            )
            assert drained["data"]["drainProcess"] == {"ok": True, "errors": []}
            assert await closed_with(stream) == DRAIN_CLOSE_CODE  # connected clients are told to move
        health = await client.http.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "draining"
        async with client.subscribe(QUOTES) as stream:
            refused = (await stream.next_data())["errors"][0]["extensions"]
        assert refused["code"] == "UNAVAILABLE" and refused["reason"] == "DRAINING"
        assert refused["servers"] == []  # no other live API process to move to here
        # Queries and mutations still work while the load balancer takes it out.
        assert "errors" not in await client.execute("{ me { name } }")
        undo = "mutation($p: String!) { drainProcess(processId: $p, drain: false) { ok } }"
        assert (await client.execute(undo, {"p": process}, token=ops))["data"]["drainProcess"]["ok"]
        assert (await client.http.get("/healthz")).status_code == 200
        assert {"process.drain", "process.undrain"} <= await operator_actions(client, ops)


async def test_draining_an_unknown_process_is_refused(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        result = await client.execute('mutation { drainProcess(processId: "nope") { ok errors { code } } }', token=ops)
        assert result["data"]["drainProcess"] == {"ok": False, "errors": [{"code": "NOT_FOUND"}]}


async def test_a_clients_streams_close_when_an_operator_force_closes_its_sessions(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        std = await client.login("std001")
        other = await client.login("std002")
        client.token = await as_operator(client, "admin")  # clients.read, to look the client up
        target = await client_id(client, "std001")
        client.token = None
        async with client.subscribe(QUOTES, token=std) as mine, client.subscribe(QUOTES, token=other) as theirs:
            await mine.next_data()
            await theirs.next_data()
            result = await client.execute(
                "mutation($c: ID!) { forceCloseClient(clientId: $c) { sessionsRevoked errors { code } } }",
                {"c": target},
                token=ops,
            )
            assert result["data"]["forceCloseClient"]["sessionsRevoked"] >= 1
            assert await closed_with(mine) == FORCE_CLOSE_CODE
            assert (await theirs.next_data())["data"]["quotes"]["symbol"] == "600000"  # others keep streaming
        denied = await client.execute("{ me { name } }", token=std)
        assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "client.force_close" in await operator_actions(client, ops)


async def test_halting_a_symbol_rejects_its_orders_and_resuming_allows_them(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        await client.login("std001")
        account = await client.account_id()
        resting = await place(client, account, price="12.20")  # far below the market: it rests
        assert resting["errors"] == []
        halt = """mutation($s: String) { haltTrading(symbol: $s) {
          symbol halted halts { marketHalted symbols } errors { code } } }"""
        result = await client.execute(halt, {"s": "600000"}, token=ops)
        assert result["data"]["haltTrading"] == {
            "symbol": "600000", "halted": True, "halts": {"marketHalted": False, "symbols": ["600000"]}, "errors": []
        }  # fmt: skip
        refused = await place(client, account, price="12.20")
        assert refused["order"] is None and refused["errors"][0]["code"] == "TRADING_HALTED"
        assert (await place(client, account, symbol="000001", price=CHEAP))["errors"] == []  # others trade
        orders = await client.execute(
            "query($a: ID!) { syncState(accountId: $a) { workingOrders { id } } }", {"a": account}
        )
        assert resting["order"]["id"] in {
            o["id"] for o in orders["data"]["syncState"]["workingOrders"]
        }  # resting stays
        resume = "mutation($s: String) { resumeTrading(symbol: $s) { halted errors { code } } }"
        assert (await client.execute(resume, {"s": "600000"}, token=ops))["data"]["resumeTrading"]["halted"] is False
        assert (await place(client, account, price="12.20"))["errors"] == []
        # The whole market: no symbol.
        assert (await client.execute(halt, {"s": None}, token=ops))["data"]["haltTrading"]["halts"]["marketHalted"]
        assert (await place(client, account, symbol="000001", price=CHEAP))["errors"][0]["code"] == "TRADING_HALTED"
        await client.execute(resume, {"s": None}, token=ops)
        assert (await place(client, account, symbol="000001", price=CHEAP))["errors"] == []
        assert {"trading.halt", "trading.resume"} <= await operator_actions(client, ops)


async def test_halting_an_unknown_symbol_is_refused(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        result = await client.execute(
            'mutation { haltTrading(symbol: "999999") { halted errors { code } } }', token=ops
        )
        assert result["data"]["haltTrading"] == {"halted": False, "errors": [{"code": "UNKNOWN_SYMBOL"}]}


async def test_pausing_the_simulator_is_signalled_and_logged(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        result = await client.execute("mutation { pauseSimulator { ok } }", token=ops)
        assert result["data"]["pauseSimulator"]["ok"]
        assert client.container.monitor.simulator_paused and client.container.exchange.paused
        await client.execute("mutation { resumeSimulator { ok } }", token=ops)
        assert not client.container.monitor.simulator_paused and not client.container.exchange.paused
        assert {"simulator.pause", "simulator.resume"} <= await operator_actions(client, ops)
