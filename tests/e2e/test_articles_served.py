"""The information platform in served processes: gating and click counts over HTTP, an editor's article
through review and publishing onto an open articlePublished stream, and info express across two
processes on PostgreSQL + Redis (entitled subscriber yes, unentitled no)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws

from tests.conftest import PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.test_two_processes import pg_database  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e
STREAM = "subscription($c: [String!]) { articlePublished(columns: $c) { id title requiredTier } }"
REPORT = """{ articles(column: "reports.company", search: "储能") { edges { node { id title summary } } } }"""
BODY = "query($id: ID!) { article(id: $id) { title summary requiredTier clickCount body } }"
CLICKS = "query($id: ID!) { article(id: $id) { clickCount } }"
CREATE = """mutation($i: CreateArticleInput!) { createArticle(input: $i) { article { id status } errors { code } } }"""


def operator(served: Any, username: str) -> str:
    result = served.gql(
        'mutation($u: String!) { operatorLogin(input: {username: $u, password: "Admin#2026"}) { accessToken } }',
        {"u": username},
    )
    return result["data"]["operatorLogin"]["accessToken"]


def step(served: Any, token: str, op: str, article_id: str) -> str:
    result = served.gql(f"mutation($id: ID!) {{ {op}(id: $id) {{ article {{ status }} errors {{ code }} }} }}",
                        {"id": article_id}, token)  # fmt: skip
    assert result["data"][op]["errors"] == [], result
    return result["data"][op]["article"]["status"]


def approved_article(served: Any, title: str, column: str) -> str:
    editor, reviewer = operator(served, "editor"), operator(served, "reviewer")
    created = served.gql(CREATE, {"i": {"title": title, "body": "## 正文", "column": column}}, editor)
    article_id = created["data"]["createArticle"]["article"]["id"]
    assert step(served, editor, "submitArticle", article_id) == "SUBMITTED"
    assert step(served, reviewer, "approveArticle", article_id) == "APPROVED"
    return article_id


async def follow(url: str, token: str, columns: list[str] | None, count: int, got: list[str]) -> None:
    """Read `count` pushed articles from one articlePublished stream into `got`."""
    async with (
        httpx.AsyncClient(timeout=30) as http,
        aconnect_ws(url.replace("http", "ws"), http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": {"c": columns}}})
        while len(got) < count:
            message = await asyncio.wait_for(ws.receive_json(), 30)
            assert message["type"] == "next", message
            got.append(message["payload"]["data"]["articlePublished"]["title"])


async def local_subscribers(served: Any) -> float:
    """The process's local bus subscriptions, from its /metrics."""
    async with httpx.AsyncClient(timeout=30) as http:
        metrics = (await http.get(served.url.replace("/graphql", "/metrics"))).text
    return float(next(x for x in metrics.splitlines() if x.startswith("brokerql_bus_local_subscribers ")).split()[1])


async def streams_open(served: Any, local: float) -> None:
    """Until the process holds `local` bus subscribers: from then on it reads the topic's Redis stream
    from the position it had when the subscription opened, so nothing published later is missed."""
    while True:
        if await local_subscribers(served) >= local:
            return
        await asyncio.sleep(0.1)


def test_reading_gating_clicks_and_an_editors_article_on_an_open_stream(served_factory) -> None:  # type: ignore[no-untyped-def]
    served = served_factory().start()
    std, plat = served.login("std001"), served.login("plat001")
    report = served.gql(REPORT, token=std)["data"]["articles"]["edges"][0]["node"]
    seen = served.gql(BODY, {"id": report["id"]}, std)
    assert seen["data"]["article"]["summary"] == report["summary"] and seen["data"]["article"]["body"] is None
    assert seen["errors"][0]["extensions"] == {"code": "FORBIDDEN", "entitlement": "research.premium",
                                               "requiredTier": "PLATINUM"}  # fmt: skip
    assert "PLATINUM" in seen["errors"][0]["message"]
    before = served.gql(CLICKS, {"id": report["id"]}, plat)["data"]["article"]["clickCount"]
    read = served.gql(BODY, {"id": report["id"]}, plat)
    assert "errors" not in read and "储能" in read["data"]["article"]["body"]
    assert served.gql(CLICKS, {"id": report["id"]}, plat)["data"]["article"]["clickCount"] == before + 1

    article_id = approved_article(served, "编辑新稿：券商板块周评", "research.stocks")

    async def scenario() -> list[str]:
        got: list[str] = []
        baseline = await local_subscribers(served)
        listener = asyncio.create_task(follow(served.url, plat, ["research"], 1, got))
        await asyncio.wait_for(streams_open(served, baseline + 1), 20)
        assert step(served, operator(served, "editor"), "publishArticle", article_id) == "PUBLISHED"
        await asyncio.wait_for(listener, 30)
        return got

    assert asyncio.run(scenario()) == ["编辑新稿：券商板块周评"]


@pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")
def test_article_published_reaches_entitled_subscribers_on_another_process(served_factory, pg_database) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    prefix = f"bqe2e:{secrets.token_hex(4)}"
    shared = {"BROKERQL_DATABASE_URL": pg_database, "BROKERQL_REDIS_URL": REDIS_URL, "BROKERQL_REDIS_PREFIX": prefix}
    first = served_factory("first", **shared).start()
    second = served_factory("second", BROKERQL_EMBEDDED_EXCHANGE="0", **shared).start()
    premium = approved_article(first, "大行研报：券商板块（白金）", "reports.major_houses")
    basic = approved_article(first, "晨会纪要补充（全部客户）", "reports.morning_notes")
    std, plat = second.login("std001"), second.login("plat001")

    async def scenario() -> tuple[list[str], list[str]]:
        low: list[str] = []
        high: list[str] = []
        baseline = await local_subscribers(second)
        listeners = [
            asyncio.create_task(follow(second.url, std, None, 1, low)),
            asyncio.create_task(follow(second.url, plat, None, 2, high)),
        ]
        await asyncio.wait_for(streams_open(second, baseline + 2), 20)
        editor = operator(first, "editor")
        assert step(first, editor, "publishArticle", premium) == "PUBLISHED"  # on the first process
        assert step(first, editor, "publishArticle", basic) == "PUBLISHED"
        await asyncio.wait_for(asyncio.gather(*listeners), 30)
        return low, high

    low, high = asyncio.run(scenario())
    assert high == ["大行研报：券商板块（白金）", "晨会纪要补充（全部客户）"]
    assert low == ["晨会纪要补充（全部客户）"]  # the premium article never reached std001
