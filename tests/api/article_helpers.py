"""Shared pieces of the information platform API tests."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import GraphQLClient

OPERATOR_PASSWORD = "Admin#2026"
ARTICLE_FIELDS = "id title summary status clickCount requiredTier entitlement symbols publishedAt column { code name }"
CREATE = f"""mutation($i: CreateArticleInput!) {{ createArticle(input: $i) {{
  article {{ {ARTICLE_FIELDS} }} errors {{ code message field }} }} }}"""
TRANSITION = """mutation($id: ID!) {{ {op}(id: $id{extra}) {{ article {{ id status scheduledAt publishedAt }}
  errors {{ code message }} }} }}"""
LIST = f"""query($column: String, $symbol: String, $search: String, $first: Int, $after: String) {{
  articles(column: $column, symbol: $symbol, search: $search, first: $first, after: $after) {{
    edges {{ cursor node {{ {ARTICLE_FIELDS} snippet }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


async def operator_token(client: GraphQLClient, username: str) -> str:
    saved, client.token = client.token, None
    try:
        result = await client.execute(
            "mutation($u: String!, $p: String!) { operatorLogin(input: {username: $u, password: $p}) "
            "{ accessToken errors { code } } }",
            {"u": username, "p": OPERATOR_PASSWORD},
        )
    finally:
        client.token = saved
    token = result["data"]["operatorLogin"]["accessToken"]
    assert token, result
    return token


async def transition(client: GraphQLClient, token: str, op: str, article_id: str, extra: str = "") -> dict[str, Any]:
    result = await client.execute(TRANSITION.format(op=op, extra=extra), {"id": article_id}, token=token)
    assert "errors" not in result, result
    return result["data"][op]


async def create(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    base = {"title": "测试文章", "summary": "摘要", "body": "## 正文\n\n内容", "column": "research.stocks"}
    result = await client.execute(CREATE, {"i": {**base, **fields}}, token=token)
    assert "errors" not in result, result
    return result["data"]["createArticle"]


async def articles(client: GraphQLClient, token: str | None = None, **variables: Any) -> list[dict[str, Any]]:
    result = await client.execute(LIST, variables, token=token)
    assert "errors" not in result, result
    return [e["node"] for e in result["data"]["articles"]["edges"]]


async def premium_report(client: GraphQLClient) -> dict[str, Any]:
    """The seeded CATL deep-dive report (reports.company, research.premium)."""
    found = await articles(client, column="reports.company", search="储能")
    return next(a for a in found if "宁德时代" in a["title"])
