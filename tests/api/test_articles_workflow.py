"""B2 over the API on both backends: each transition by its role, refusals for the others, the operator
log and the article history; articlePublished per entitlement; scheduled publishing exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from brokerql.container import Container
from brokerql.domain.clock import SYSTEM_CLOCK
from brokerql.store.tables_research import ArticleEventRow
from tests.api.article_helpers import create, operator_token, transition
from tests.api.conftest import GraphQLClient, wait_for

HISTORY = "query($id: ID!) { articleHistory(id: $id) { kind actor fromStatus toStatus comment } }"
STREAM = "subscription($c: [String!]) { articlePublished(columns: $c) { id title column { code } requiredTier } }"


async def test_each_transition_by_its_role_and_refused_to_the_others(client: GraphQLClient) -> None:
    editor, reviewer = await operator_token(client, "editor"), await operator_token(client, "reviewer")
    risk = await operator_token(client, "risk")
    created = await create(client, editor, title="浦发银行点评", symbols=["600000"])
    article_id = created["article"]["id"]
    assert created["errors"] == [] and created["article"]["status"] == "DRAFT"
    assert created["article"]["requiredTier"] == "TRIAL"  # research.stocks: research.basic
    # A reviewer may not submit, publish or write; an editor may not approve.
    assert (await transition(client, reviewer, "approveArticle", article_id))["errors"][0][
        "code"
    ] == "INVALID_TRANSITION"
    assert (await transition(client, editor, "submitArticle", article_id))["article"]["status"] == "SUBMITTED"
    refused = await transition(client, editor, "approveArticle", article_id)
    assert refused["errors"][0]["code"] == "NOT_YOUR_ROLE" and refused["article"] is None
    assert (await transition(client, risk, "approveArticle", article_id))["errors"][0]["code"] == "NOT_YOUR_ROLE"
    rejected = await transition(client, reviewer, "rejectArticle", article_id, ', comment: "数据来源请补充"')
    assert rejected["article"]["status"] == "REJECTED"
    assert (await transition(client, editor, "submitArticle", article_id))["article"]["status"] == "SUBMITTED"
    assert (await transition(client, reviewer, "approveArticle", article_id))["article"]["status"] == "APPROVED"
    publish = await client.execute(
        "mutation($id: ID!) { publishArticle(id: $id) { errors { code } } }", {"id": article_id}, token=reviewer
    )
    assert publish["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # reviewers review; editors publish
    assert (await transition(client, editor, "publishArticle", article_id))["article"]["status"] == "PUBLISHED"
    assert (await transition(client, editor, "publishArticle", article_id))["errors"][0]["code"] == "INVALID_TRANSITION"
    assert (await transition(client, editor, "withdrawArticle", article_id))["article"]["status"] == "WITHDRAWN"
    history = (await client.execute(HISTORY, {"id": article_id}, token=editor))["data"]["articleHistory"]
    assert [h["kind"] for h in history] == ["CREATED", "SUBMITTED", "REJECTED", "SUBMITTED", "APPROVED",
                                            "PUBLISHED", "WITHDRAWN"]  # fmt: skip
    assert history[2]["comment"] == "数据来源请补充"
    admin = await operator_token(client, "admin")
    log = await client.execute("{ operatorLog(first: 100) { edges { node { action target } } } }", token=admin)
    actions = [e["node"]["action"] for e in log["data"]["operatorLog"]["edges"] if e["node"]["target"] == article_id]
    assert sorted(actions) == sorted(["article.created", "article.submitted", "article.rejected", "article.submitted",
                                      "article.approved", "article.published", "article.withdrawn"])  # fmt: skip
    await client.login("plat001")
    gone = await client.execute("query($id: ID!) { article(id: $id) { id } }", {"id": article_id})
    assert gone["data"]["article"] is None  # withdrawn: no longer readable


async def test_risk_control_information_needs_the_risk_role(client: GraphQLClient) -> None:
    editor, reviewer = await operator_token(client, "editor"), await operator_token(client, "reviewer")
    risk = await operator_token(client, "risk")
    article_id = (await create(client, editor, column="risk", title="风险提示：新股申购"))["article"]["id"]
    await transition(client, editor, "submitArticle", article_id)
    refused = await transition(client, reviewer, "approveArticle", article_id)
    assert refused["errors"][0]["code"] == "NOT_YOUR_ROLE" and "RISK" in refused["errors"][0]["message"]
    assert (await transition(client, risk, "approveArticle", article_id))["article"]["status"] == "APPROVED"


async def test_reject_needs_a_reason_and_bad_content_is_refused(client: GraphQLClient) -> None:
    editor = await operator_token(client, "editor")
    bad = await create(client, editor, title="", column="nope", symbols=["60 00"])
    assert {e["code"] for e in bad["errors"]} == {"TITLE_REQUIRED", "UNKNOWN_COLUMN", "BAD_SYMBOL"}
    reviewer = await operator_token(client, "reviewer")
    article_id = (await create(client, editor))["article"]["id"]
    await transition(client, editor, "submitArticle", article_id)
    no_reason = await transition(client, reviewer, "rejectArticle", article_id, ', comment: " "')
    assert no_reason["errors"][0]["code"] == "COMMENT_REQUIRED"


async def _subscribers(client: GraphQLClient, count: int) -> bool:
    return len(client.container.bus.hub.by_topic.get("articles.published", ())) >= count


async def _approved(client: GraphQLClient, editor: str, **fields: object) -> str:
    reviewer = await operator_token(client, "reviewer")
    article_id = (await create(client, editor, **fields))["article"]["id"]
    await transition(client, editor, "submitArticle", article_id)
    await transition(client, reviewer, "approveArticle", article_id)
    return article_id


async def test_article_published_reaches_entitled_subscribers_only(client: GraphQLClient) -> None:
    editor = await operator_token(client, "editor")
    premium = await _approved(client, editor, title="大行研报：白酒板块", column="reports.major_houses")
    basic = await _approved(client, editor, title="晨会补充", column="reports.morning_notes")
    std, plat = await client.login("std001"), await client.login("plat001")
    async with (
        client.subscribe(STREAM, {"c": ["reports"]}, token=std) as low,
        client.subscribe(STREAM, {"c": ["reports"]}, token=plat) as high,
    ):
        await wait_for(lambda: _subscribers(client, 2))  # both streams follow the bus before the publish
        await transition(client, editor, "publishArticle", premium)
        await transition(client, editor, "publishArticle", basic)
        got_high = [(await high.next_data())["data"]["articlePublished"]["id"] for _ in range(2)]
        got_low = (await low.next_data())["data"]["articlePublished"]
    assert got_high == [premium, basic]
    assert got_low["id"] == basic  # the premium one was never pushed to std001


async def test_scheduled_article_is_published_once_by_two_processes(backend, client: GraphQLClient) -> None:  # type: ignore[no-untyped-def]
    editor = await operator_token(client, "editor")
    article_id = await _approved(client, editor, title="定时发布", column="featured", symbols=["600000"])
    at = (SYSTEM_CLOCK.now() + timedelta(hours=1)).isoformat()
    scheduled = await transition(client, editor, "publishArticle", article_id, f', at: "{at}"')
    assert scheduled["article"]["status"] == "APPROVED" and scheduled["article"]["scheduledAt"]
    # Two more processes' worth of services on the same database race for the due article.
    others = [Container.build(backend.settings, with_exchange=False) for _ in range(2)]
    due = SYSTEM_CLOCK.now() + timedelta(hours=2)
    try:
        results = await asyncio.gather(*(c.research.scheduler.publish_due(due) for c in others for _ in range(3)))
    finally:
        for other in others:
            await other.db.dispose()
    assert sorted(i for r in results for i in r) == [article_id]
    db = client.container.db
    async with db.read() as session:
        events = await session.scalar(
            select(func.count()).where(ArticleEventRow.article_id == article_id, ArticleEventRow.kind == "PUBLISHED")
        )
    assert events == 1
    state = await client.execute("query($id: ID!) { article(id: $id) { status publishedAt } }", {"id": article_id},
                                 token=editor)  # fmt: skip
    assert state["data"]["article"]["status"] == "PUBLISHED"
