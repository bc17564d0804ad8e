"""/metrics: outcomes by error code, only GraphQL operations counted, latency histograms, process
metrics, and the monitor board's figures of every process."""

from __future__ import annotations

import asyncio
import re

from tests.api.conftest import GraphQLClient
from tests.api.ops_helpers import as_operator
from tests.api.trading_helpers import place


def series(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def scrape(client: GraphQLClient) -> str:
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_a_forbidden_answer_counts_as_forbidden(client: GraphQLClient) -> None:
    editor = await as_operator(client, "editor")  # an operator without monitor.read
    name, labels = "brokerql_graphql_operations_total", {"operation": "monitorStats", "type": "query"}
    before = await scrape(client)  # the registry is the process's: compare before and after
    denied = await client.execute("{ monitorStats { cluster { connections } } }", token=editor)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    after = await scrape(client)
    assert series(after, name, **labels, outcome="FORBIDDEN") == series(before, name, **labels, outcome="FORBIDDEN") + 1
    assert series(after, name, **labels, outcome="OK") == series(before, name, **labels, outcome="OK")


async def test_graphiql_health_and_metrics_are_not_graphql_operations(client: GraphQLClient) -> None:
    await client.execute("{ liveServers { url } }")
    before = series(await scrape(client), "brokerql_graphql_operations_total")
    await client.http.get("/graphql", headers={"accept": "text/html"})
    await client.http.get("/healthz")
    await client.http.get("/metrics")
    assert series(await scrape(client), "brokerql_graphql_operations_total") == before


async def test_latency_is_a_histogram_and_process_metrics_are_exported(client: GraphQLClient) -> None:
    await client.execute("{ liveServers { url } }")
    text = await scrape(client)
    assert series(text, "brokerql_graphql_operation_seconds_count", operation="liveServers", type="query") >= 1
    assert "# TYPE brokerql_graphql_operation_seconds histogram" in text
    assert "# TYPE brokerql_graphql_operations_total counter" in text
    assert "# TYPE brokerql_outbox_published_total counter" in text
    assert re.search(r"^process_resident_memory_bytes \S+$", text, re.M)
    assert re.search(r"^process_open_fds \S+$", text, re.M)


async def test_unknown_fields_do_not_make_new_label_values(client: GraphQLClient) -> None:
    bad = await client.execute("{ noSuchField }")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    text = await scrape(client)
    assert "noSuchField" not in text
    assert series(text, "brokerql_graphql_operations_total", operation="unknown", outcome="BAD_USER_INPUT") >= 1


async def test_pushes_and_the_board_figures_are_exported(client: GraphQLClient) -> None:
    await client.login("std001")
    async with client.subscribe('subscription { quotes(symbols: ["600000"]) { symbol } }') as stream:
        await stream.next_data()
        await client.container.monitor.publish_once()
        text = await scrape(client)
    assert series(text, "brokerql_subscription_pushes_total", kind="quotes") >= 1
    assert series(text, "brokerql_graphql_operations_total", operation="quotes", type="subscription") >= 1
    process = client.container.monitor.process_id
    assert series(text, "brokerql_monitor_up", process=process) == 1
    assert series(text, "brokerql_monitor_connections", process=process) == 1


async def test_the_sizes_of_the_placements_and_bookings_units_of_work_are_exported(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    name = "brokerql_unit_of_work_orders_count"
    before = await scrape(client)
    payload = await place(client, account, type="MARKET")  # fills at once against the simulated book
    assert payload["order"] is not None, payload
    after = await scrape(client)
    assert series(after, name, kind="placement") == series(before, name, kind="placement") + 1
    assert "# TYPE brokerql_unit_of_work_orders histogram" in after
    for _ in range(200):  # the fill is booked after the acknowledgement
        if series(after, name, kind="booking") > series(before, name, kind="booking"):
            break
        await asyncio.sleep(0.05)
        after = await scrape(client)
    assert series(after, name, kind="booking") == series(before, name, kind="booking") + 1
