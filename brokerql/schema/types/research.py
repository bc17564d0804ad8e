"""Information platform types (B1-B5): articles, columns, info mines, F10, the stock pool, imports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from brokerql.domain.research import workflow
from brokerql.domain.research.columns import BODY_KEYS, COLUMNS, Column
from brokerql.domain.research.segmenter import highlight
from brokerql.schema.entitlements import checks_entitlements, forbidden_for, has_entitlement
from brokerql.schema.errors import UserError
from brokerql.store.tables_research import ArticleEventRow, ArticleRow, InstrumentProfileRow

ArticleStatus = strawberry.enum(workflow.ArticleStatus, description="Where an article is in the editorial workflow.")
ArticleEventKind = strawberry.enum(workflow.ArticleEventKind, description="What happened to an article.")


@strawberry.type(name="ArticleColumn", description="A column (栏目) and the entitlement its articles need by default.")
class ArticleColumn:
    code: str = strawberry.field(description="Column code, e.g. reports.company (sub-columns after a dot).")
    name: str = strawberry.field(description="Display name, Chinese and English.")
    entitlement: str = strawberry.field(description="Entitlement key its articles need unless they name their own.")
    parent: str | None = strawberry.field(description="The parent column's code, for a sub-column.")
    risk_control: bool = strawberry.field(description="Risk-control information (风控资讯): approved by RISK.")

    @classmethod
    def of(cls, column: Column | None, code: str) -> ArticleColumn:
        if column is None:
            return cls(code=code, name=code, entitlement="", parent=None, risk_control=False)
        return cls(code=column.code, name=column.name, entitlement=column.entitlement, parent=column.parent,
                   risk_control=column.risk_control)  # fmt: skip


@strawberry.type(description="A file attached to an article (metadata; the file is served elsewhere).")
class ArticleAttachment:
    name: str = strawberry.field(description="File name.")
    url: str = strawberry.field(description="Where to download it.")
    size: int = strawberry.field(description="Size in bytes (0 when unknown).")
    mime: str = strawberry.field(description="Media type.")


async def may_read(info: strawberry.Info, key: str) -> bool:
    """Operators read every body (they edit and review them); clients and partners by entitlement."""
    principal = info.context.principal()
    if principal is not None and principal.kind == "operator":
        return True
    return await has_entitlement(info, key)


@strawberry.type(description="An article of the information platform (B1-B5).")
class Article:
    id: strawberry.ID = strawberry.field(description="Opaque article id.")
    title: str = strawberry.field(description="Title (everyone who may list it sees it).")
    summary: str = strawberry.field(description="Summary (everyone who may list it sees it).")
    symbols: list[str] = strawberry.field(description="Instrument codes the article is about.")
    industries: list[str] = strawberry.field(description="Industries the article is about.")
    tags: list[str] = strawberry.field(description="Free tags.")
    authors: list[str] = strawberry.field(description="Authors (analysts, editors or the issuing exchange).")
    source: str = strawberry.field(description="Where it came from: editor, a feed name, SSE, SZSE ...")
    status: ArticleStatus = strawberry.field(description="Workflow status; readers only ever see PUBLISHED.")
    published_at: datetime | None = strawberry.field(description="When it went live (null before).")
    scheduled_at: datetime | None = strawberry.field(description="A scheduled publication time, while APPROVED.")
    click_count: int = strawberry.field(description="How many times its body was read (点击率).")
    entitlement: str = strawberry.field(description="The entitlement key reading the body needs.")
    revision: int = strawberry.field(description="Content revision, 1 for the first version.")
    attachments: list[ArticleAttachment] = strawberry.field(description="Attached files.")
    _row: strawberry.Private[ArticleRow]
    _terms: strawberry.Private[list[str]]

    @classmethod
    def from_row(cls, row: ArticleRow, terms: list[str] | None = None) -> Article:
        return cls(
            id=strawberry.ID(row.id), title=row.title, summary=row.summary, symbols=list(row.symbols),
            industries=list(row.industries), tags=list(row.tags), authors=list(row.authors), source=row.source,
            status=workflow.ArticleStatus(row.status), published_at=row.published_at, scheduled_at=row.publish_at,
            click_count=row.click_count, entitlement=row.entitlement, revision=row.revision,
            attachments=[ArticleAttachment(**a) for a in row.attachments], _row=row, _terms=terms or [],
        )  # fmt: skip

    @strawberry.field(description="The column it is published in.")
    def column(self) -> ArticleColumn:
        return ArticleColumn.of(COLUMNS.get(self._row.column), self._row.column)

    @strawberry.field(description="The lowest tier whose entitlements include reading the body (null if none).")
    def required_tier(self, info: strawberry.Info) -> str | None:
        lowest = info.context.container.catalog.lowest_tier_granting(self.entitlement)
        return lowest.value if lowest else None

    @strawberry.field(
        description="The Markdown body. FORBIDDEN (with entitlement and requiredTier) below the article's "
        "entitlement. Each read counts a click and writes a browsing record.",
        directives=checks_entitlements(*BODY_KEYS),
    )
    async def body(self, info: strawberry.Info) -> str | None:  # nullable: a refusal leaves the rest standing
        if not await may_read(info, self.entitlement):
            raise forbidden_for(info, self.entitlement)
        principal = info.context.principal()
        client_id = principal.subject_id if principal is not None and principal.kind == "client" else None
        await info.context.container.research.reader.read_body(str(self.id), client_id)
        return self._row.body

    @strawberry.field(description="With a search: the best matching passage, matches wrapped in <mark>.")
    async def snippet(self, info: strawberry.Info) -> str | None:
        if not self._terms:
            return None
        head = f"{self.title} — {self.summary}"
        if any(t in head.lower() for t in self._terms) or not await may_read(info, self.entitlement):
            return highlight(head, self._terms)
        return highlight(self._row.body, self._terms)


@strawberry.type(description="One step of an article's history (operators).")
class ArticleEvent:
    kind: ArticleEventKind = strawberry.field(description="What happened.")
    actor: str = strawberry.field(description="Operator id, or import:<source> / scheduler.")
    from_status: str | None = strawberry.field(description="Status before.")
    to_status: str = strawberry.field(description="Status after.")
    revision: int = strawberry.field(description="Content revision at that point.")
    comment: str = strawberry.field(description="The reviewer's comment, if any.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, r: ArticleEventRow) -> ArticleEvent:
        return cls(kind=workflow.ArticleEventKind(r.kind), actor=r.actor, from_status=r.from_status,
                   to_status=r.to_status, revision=r.revision, comment=r.comment, at=r.at)  # fmt: skip


@strawberry.type(description="Create or transition result: the article, or why it was refused.")
class ArticlePayload:
    article: Article | None = strawberry.field(description="The article after the change.")
    errors: list[UserError] = strawberry.field(
        description="Business rejections (NOT_YOUR_ROLE, INVALID_TRANSITION ...)."
    )


@strawberry.type(description="Info mines (信息地雷) of one day on one symbol: a mark on a chart.")
class InfoMineDay:
    date: date = strawberry.field(description="The day (Beijing time).")
    count: int = strawberry.field(description="How many items that day.")
    articles: list[Article] = strawberry.field(description="The items, newest first.")


@strawberry.type(description="F10 basic data of an instrument.")
class InstrumentProfile:
    symbol: str = strawberry.field(description="Instrument code.")
    company_name: str = strawberry.field(description="Registered company name.")
    industry: str = strawberry.field(description="Industry.")
    listed_on: date | None = strawberry.field(description="Listing date.")
    total_shares: Decimal = strawberry.field(description="Total shares outstanding (beyond a GraphQL Int).")
    float_shares: Decimal = strawberry.field(description="Tradable (float) shares.")
    main_business: str = strawberry.field(description="Main business.")
    chairman: str = strawberry.field(description="Chairman.")
    website: str = strawberry.field(description="Company website.")

    @classmethod
    def from_row(cls, r: InstrumentProfileRow) -> InstrumentProfile:
        names = ("symbol", "company_name", "industry", "listed_on", "total_shares", "float_shares",
                 "main_business", "chairman", "website")  # fmt: skip
        values = {n: getattr(r, n) for n in names}
        return cls(**{**values, "total_shares": Decimal(r.total_shares), "float_shares": Decimal(r.float_shares)})


@strawberry.type(description="A pick of the broker's stock pool (券商股票池) and why.")
class StockPoolEntry:
    symbol: str = strawberry.field(description="Instrument code.")
    reason: str = strawberry.field(description="Why it is in the pool.")
    added_at: datetime = strawberry.field(description="When it was added.")
    article: Article | None = strawberry.field(description="The research note behind it, if any.")


@strawberry.type(description="One feed item's outcome.")
class ImportLineResult:
    line: int = strawberry.field(description="Line of the file where the item starts.")
    item_id: str = strawberry.field(description="The feed's item id.")
    article_id: strawberry.ID | None = strawberry.field(description="The article it became or updated.")
    reason: str = strawberry.field(description="Why it was skipped (empty otherwise).")

    @classmethod
    def of(cls, x: Any) -> ImportLineResult:
        aid = strawberry.ID(x.article_id) if x.article_id else None
        return cls(line=x.line, item_id=x.item_id, article_id=aid, reason=x.reason)


@strawberry.type(description="A line that could not be read.")
class FeedLineError:
    line: int = strawberry.field(description="Line number (1-based).")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="What an import did: imported, updated, skipped (and why), unreadable lines.")
class ImportReport:
    imported: list[ImportLineResult] = strawberry.field(description="New articles.")
    updated: list[ImportLineResult] = strawberry.field(description="Articles revised by an edited item.")
    skipped: list[ImportLineResult] = strawberry.field(description="Items left alone (unchanged, stale revision).")
    errors: list[FeedLineError] = strawberry.field(description="Malformed lines, skipped.")

    @classmethod
    def of(cls, r: Any) -> ImportReport:
        return cls(
            imported=[ImportLineResult.of(x) for x in r.imported], updated=[ImportLineResult.of(x) for x in r.updated],
            skipped=[ImportLineResult.of(x) for x in r.skipped],
            errors=[FeedLineError(line=e.line, message=e.message) for e in r.errors],
        )  # fmt: skip
