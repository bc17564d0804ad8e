"""E3/C10: the cluster's stats in one monitorStats, processes expiring, alerts raised/cleared/pushed,
and the live server list."""

from __future__ import annotations

from brokerql.monitor.board import MemoryBoard
from tests.api.conftest import wait_for
from tests.api.ops_helpers import as_operator, ops_app, other_process, stats
from tests.api.trading_helpers import place


async def test_two_api_processes_and_the_exchange_aggregate_in_one_monitor_stats(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend, with_exchange=False) as client:
        ops = await as_operator(client)
        await client.login("std001")
        async with client.subscribe("subscription { heartbeat { lastSeq } }") as stream:
            await stream.next_data()
            async with other_process(client, "api") as api2, other_process(client, "exchange") as exchange:
                await api2.publish_once()
                await exchange.publish_once()

                async def three() -> dict | None:
                    view = await stats(client, ops)
                    mine = [p for p in view["processes"] if p["id"] == client.container.monitor.process_id]
                    return view if len(view["processes"]) == 3 and mine and mine[0]["subscriptions"] == 1 else None

                view = await wait_for(three)
        roles = sorted(p["role"] for p in view["processes"])
        assert roles == ["api", "api", "exchange"]
        assert view["cluster"]["apiProcesses"] == 2 and view["cluster"]["exchangeProcesses"] == 1
        mine = next(p for p in view["processes"] if p["id"] == client.container.monitor.process_id)
        assert mine["connections"] == 1 and mine["clientsOnline"] == 1
        assert view["cluster"]["connections"] == sum(p["connections"] for p in view["processes"])
        assert view["cluster"]["subscriptions"] >= 1


async def test_a_stopped_process_disappears_after_its_ttl(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        async with other_process(client, "api") as silent:
            await silent.publish_once()  # once, then never again: as if killed
            assert silent.process_id in {p["id"] for p in (await stats(client, ops))["processes"]}

            async def gone() -> bool:
                return silent.process_id not in {p["id"] for p in (await stats(client, ops))["processes"]}

            await wait_for(gone, timeout=10)
        assert client.container.monitor.process_id in {p["id"] for p in (await stats(client, ops))["processes"]}


async def test_the_exchange_alert_raises_without_an_exchange_and_clears_when_one_reports(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend, with_exchange=False) as client:
        ops = await as_operator(client)

        async def open_alert() -> dict | None:
            alerts = (await stats(client, ops))["alerts"]
            return next((a for a in alerts if a["rule"] == "EXCHANGE_DOWN" and a["clearedAt"] is None), None)

        alert = await wait_for(open_alert)
        assert alert["severity"] == "CRITICAL"
        async with other_process(client, "exchange") as exchange:
            await exchange.publish_once()

            async def cleared() -> bool:
                alerts = (await stats(client, ops))["alerts"]
                return any(a["id"] == alert["id"] and a["clearedAt"] for a in alerts)

            await wait_for(cleared)


async def test_an_alert_rule_raises_clears_and_is_pushed_and_acknowledged(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        rule = """mutation($t: Float!) { setAlertRule(input: {name: "MANY_SOCKETS", figure: "cluster.connections",
          comparator: ">=", threshold: $t, severity: CRITICAL}) { rule { name builtin } errors { code } } }"""
        sub = "subscription { monitorStats { alerts { id rule clearedAt acknowledgedBy } cluster { connections } } }"
        async with client.subscribe(sub, token=ops) as stream:
            await stream.next_data()
            result = await client.execute(rule, {"t": 1}, token=ops)
            assert result["data"]["setAlertRule"] == {"rule": {"name": "MANY_SOCKETS", "builtin": False}, "errors": []}

            async def pushed(cleared: bool) -> dict:
                while True:
                    alerts = (await stream.next_data())["data"]["monitorStats"]["alerts"]
                    found = [a for a in alerts if a["rule"] == "MANY_SOCKETS"]
                    if found and (found[0]["clearedAt"] is not None) == cleared:
                        return found[0]

            raised = await pushed(cleared=False)
            await client.execute(rule, {"t": 1000}, token=ops)  # edited live: the condition no longer holds
            cleared = await pushed(cleared=True)
            assert cleared["id"] == raised["id"]
        ack = await client.execute(
            "mutation($i: ID!) { acknowledgeAlert(id: $i) { alert { acknowledgedBy } errors { code } } }",
            {"i": raised["id"]},
            token=ops,
        )
        assert ack["data"]["acknowledgeAlert"]["alert"]["acknowledgedBy"]
        log = await client.execute("{ operatorLog(first: 20) { edges { node { action target } } } }", token=ops)
        actions = {e["node"]["action"] for e in log["data"]["operatorLog"]["edges"]}
        assert {"alert_rule.set", "alert.acknowledge"} <= actions


async def test_bad_rules_are_refused_with_a_code(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        result = await client.execute(
            'mutation { setAlertRule(input: {name: "X", figure: "cluster.nope", comparator: ">", threshold: 1}) '
            "{ rule { name } errors { code field } } }",
            token=ops,
        )
        assert result["data"]["setAlertRule"] == {
            "rule": None,
            "errors": [{"code": "UNKNOWN_FIGURE", "field": "figure"}],
        }


async def test_monitor_stats_is_for_ops_and_admin_only(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        editor = await as_operator(client, "editor")
        denied = await client.execute("{ monitorStats { cluster { connections } } }", token=editor)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        await client.login("std001")
        anonymous_client = await client.execute("{ monitorStats { cluster { connections } } }")
        assert anonymous_client["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        admin = await as_operator(client, "admin")
        assert (await stats(client, admin))["processes"]


async def test_live_servers_lists_api_processes_with_their_load(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend, public_url="https://api1.broker.example/graphql") as client:
        async with other_process(client, "exchange") as exchange:
            await exchange.publish_once()

            async def listed() -> list | None:
                result = await client.execute("{ liveServers { id url connections load draining lastSeen } }")
                servers = result["data"]["liveServers"]
                return servers if servers else None

            servers = await wait_for(listed)
        assert [s["url"] for s in servers] == ["https://api1.broker.example/graphql"]  # the exchange serves no API
        assert servers[0]["load"] >= 0 and servers[0]["draining"] is False
        assert isinstance(client.container.monitor.board, MemoryBoard) == (backend.name == "sqlite-memory")


async def test_orders_and_fills_are_counted_per_second(backend) -> None:  # type: ignore[no-untyped-def]
    async with ops_app(backend) as client:
        ops = await as_operator(client)
        await client.login("gold001")
        account = await client.account_id()
        placed = await place(client, account, type="MARKET", quantity=100)  # marketable: it fills
        assert placed["errors"] == []

        async def counted() -> dict | None:
            await client.container.monitor.publish_once()
            cluster = (await stats(client, ops))["cluster"]
            return cluster if cluster["ordersPerSecond"] > 0 and cluster["fillsPerSecond"] > 0 else None

        cluster = await wait_for(counted)
        assert cluster["ordersPerSecond"] == 0.1  # one order in the 10-second window
