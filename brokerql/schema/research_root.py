"""The information platform's part of the root types (B1-B5), composed into Query and Mutation."""

from __future__ import annotations

import strawberry

from brokerql.resolvers import research as r
from brokerql.schema.arguments import ARGUMENTS
from brokerql.schema.types.paging import Connection
from brokerql.schema.types.research import (
    Article,
    ArticleColumn,
    ArticleEvent,
    ArticlePayload,
    ImportReport,
    InfoMineDay,
    InstrumentProfile,
    StockPoolEntry,
)

RESEARCH_ARGUMENTS = {
    "column": "Only this column and its sub-columns, e.g. reports or reports.company.",
    "symbol": "Only articles about this instrument code.",
    "search": "Full-text search (Chinese is segmented into words); results are ranked by relevance.",
    "industry": "Only articles about this industry.",
    "since": "Published at or after this time.",
    "until": "Published before this time.",
    "status": "DRAFT, SUBMITTED, APPROVED, REJECTED, PUBLISHED or WITHDRAWN.",
    "comment": "The reviewer's comment (kept in the article's history and the operator log).",
    "at": "Publish at this future time instead of now (the article stays APPROVED until then).",
    "format": "The feed's format.",
    "file": "The feed file (GraphQL multipart request), UTF-8, at most 5 MiB.",
    "publish": "Publish new items at once (needs articles.publish); false lands them as drafts.",
    "source": "Source name for the items' (source, item id) identity; default: the format's name.",
}


def _q(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.field(resolver=resolver, description=description)


def _m(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type(description="Information platform reads.")
class ResearchQuery:
    articles: Connection[Article] = _q(r.articles, "Published articles, newest first or ranked by a search.")
    article: Article | None = _q(r.article, "One article (operators: in any status).")
    article_columns: list[ArticleColumn] = _q(r.article_columns, "The columns (栏目) and their default entitlements.")
    position_info: Connection[Article] = _q(r.position_info, "Position info (持仓资讯): articles on what you hold.")
    info_mines: list[InfoMineDay] = _q(r.info_mines, "Info mines (信息地雷): items per day on a symbol, for charts.")
    f10: InstrumentProfile | None = _q(r.f10, "F10 basic data of an instrument.")
    stock_pool: list[StockPoolEntry] = _q(r.stock_pool, "The broker's stock pool (券商股票池) with reasons.")
    editorial_queue: Connection[Article] = _q(r.editorial_queue, "Operators: articles in one workflow status.")
    article_history: list[ArticleEvent] = _q(r.article_history, "Operators: an article's events, oldest first.")


@strawberry.type(description="Information platform writes (operators); each is written to the operator log.")
class ResearchMutation:
    create_article: ArticlePayload = _m(r.create_article, "Write a new article as a DRAFT (EDITOR).")
    revise_article: ArticlePayload = _m(r.revise_article, "Change a DRAFT or REJECTED article (EDITOR).")
    submit_article: ArticlePayload = _m(r.submit_article, "Send an article for review (EDITOR).")
    approve_article: ArticlePayload = _m(
        r.approve_article, "Approve a submitted article (REVIEWER; RISK for risk-control information)."
    )
    reject_article: ArticlePayload = _m(
        r.reject_article, "Send a submitted article back with a reason (REVIEWER; RISK for risk-control information)."
    )
    publish_article: ArticlePayload = _m(r.publish_article, "Publish an approved article now or at a time (EDITOR).")
    withdraw_article: ArticlePayload = _m(r.withdraw_article, "Take a published article down (EDITOR).")
    import_articles: ImportReport = _m(r.import_articles, "Import a feed file (multipart upload); idempotent.")


def describe(*root_types: type) -> None:
    for root in root_types:
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            for argument in field.arguments:
                if not argument.description:
                    name = argument.python_name
                    argument.description = RESEARCH_ARGUMENTS.get(name) or ARGUMENTS[name]


describe(ResearchQuery, ResearchMutation)
