"""Information platform reads and writes (B1-B5): a guard, one service call, a mapping."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from brokerql.domain.identity.roles import Permission as P
from brokerql.domain.research.columns import COLUMNS
from brokerql.domain.research.segmenter import query_terms
from brokerql.resolvers.guards import require_any, require_operator
from brokerql.schema.errors import UserError, bad_input
from brokerql.schema.types.pagination import PageInfo, PageRequest, encode_cursor
from brokerql.schema.types.paging import Connection, Edge, connection, page
from brokerql.schema.types.research import (
    Article,
    ArticleColumn,
    ArticleEvent,
    ArticlePayload,
    ArticleStatus,
    ImportReport,
    InfoMineDay,
    InstrumentProfile,
    StockPoolEntry,
)
from brokerql.schema.types.research_inputs import CreateArticleInput, FeedFormat
from brokerql.services.research.reading import ArticleFilter, cursor_key, valid_cursor_key

SEARCH_KIND = "article-search"  # ranked results page by offset, so their cursors are not keyset cursors
MAX_UPLOAD = 5 * 1024 * 1024  # an import file larger than this is refused (BAD_USER_INPUT)


def _research(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.research


def _payload(outcome) -> ArticlePayload:  # type: ignore[no-untyped-def]
    row, errors = outcome
    return ArticlePayload(article=Article.from_row(row) if row else None, errors=[UserError.of(e) for e in errors])


def _checked(request: PageRequest, *, searching: bool) -> PageRequest:
    """BAD_USER_INPUT for a cursor whose key is not what this list wrote (an offset, or time|id)."""
    key = request.after_key
    if key is not None and not (key.isdigit() if searching else valid_cursor_key(key)):
        raise bad_input("`after` is not a cursor of this list.", "after")
    return request


def _search_page(rows, request: PageRequest, terms: list[str]) -> Connection[Article]:  # type: ignore[no-untyped-def]
    """Ranked results page by position: the cursor holds the offset of the next result."""
    start = int(request.after_key or 0)
    edges = [
        Edge(node=Article.from_row(r, terms), cursor=encode_cursor(SEARCH_KIND, str(start + i + 1)))
        for i, r in enumerate(rows[: request.first])
    ]
    info = PageInfo(has_next_page=len(rows) > request.first, end_cursor=edges[-1].cursor if edges else None)
    return Connection(edges=edges, page_info=info)


async def articles(
    info: strawberry.Info, first: int | None = None, after: str | None = None, column: str | None = None,
    symbol: str | None = None, search: str | None = None, industry: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Connection[Article]:  # fmt: skip
    require_any(info, "research")
    terms = query_terms(search or "")
    request = _checked(page(SEARCH_KIND if terms else "articles", first, after), searching=bool(terms))
    flt = ArticleFilter(column, symbol, industry, since, until, search)
    rows = await _research(info).reader.page(flt, request.after_key, request.fetch)
    if terms:
        return _search_page(rows, request, terms)
    return connection("articles", rows, request, cursor_key, Article.from_row)


async def article(info: strawberry.Info, id: strawberry.ID) -> Article | None:
    principal = require_any(info, "research")
    row = await _research(info).reader.get(str(id), any_status=principal.kind == "operator")
    return Article.from_row(row) if row else None


def article_columns() -> list[ArticleColumn]:
    return [ArticleColumn.of(c, code) for code, c in COLUMNS.items()]


async def editorial_queue(
    info: strawberry.Info, status: ArticleStatus, first: int | None = None, after: str | None = None
) -> Connection[Article]:
    await require_operator(info)
    request = _checked(page("articles", first, after), searching=False)
    rows = await _research(info).reader.page(ArticleFilter(status=status.value), request.after_key, request.fetch)
    return connection("articles", rows, request, cursor_key, Article.from_row)


async def article_history(info: strawberry.Info, id: strawberry.ID) -> list[ArticleEvent]:
    await require_operator(info)
    return [ArticleEvent.from_row(r) for r in await _research(info).reader.history(str(id))]


async def position_info(
    info: strawberry.Info, first: int | None = None, after: str | None = None
) -> Connection[Article]:
    client = info.context.require_client()
    request = _checked(page("articles", first, after), searching=False)
    rows = await _research(info).reader.position_info(client.subject_id, request.after_key, request.fetch)
    return connection("articles", rows, request, cursor_key, Article.from_row)


async def info_mines(
    info: strawberry.Info, symbol: str, since: datetime | None = None, until: datetime | None = None
) -> list[InfoMineDay]:
    require_any(info, "research")
    days = await _research(info).reader.info_mines(symbol, since, until)
    return [
        InfoMineDay(date=d.day, count=len(d.articles), articles=[Article.from_row(a) for a in d.articles]) for d in days
    ]


async def f10(info: strawberry.Info, symbol: str) -> InstrumentProfile | None:
    require_any(info, "research")
    row = await _research(info).reader.profile(symbol)
    return InstrumentProfile.from_row(row) if row else None


async def stock_pool(info: strawberry.Info) -> list[StockPoolEntry]:
    require_any(info, "research")
    entries, articles_by_id = await _research(info).reader.stock_pool_with_articles()
    notes = {k: Article.from_row(v) for k, v in articles_by_id.items()}
    return [
        StockPoolEntry(symbol=e.symbol, reason=e.reason, added_at=e.added_at, article=notes.get(e.article_id or ""))
        for e in entries
    ]


# -- operator writes (B2): a permission at the door; the desk checks each transition against the role
# table (approval is any operator at the door: whether REVIEWER or RISK decides depends on the column)
async def create_article(info: strawberry.Info, input: CreateArticleInput) -> ArticlePayload:
    op = await require_operator(info, P.ARTICLES_EDIT)
    return _payload(await _research(info).desk.create(op.subject_id, input.content()))


async def revise_article(info: strawberry.Info, id: strawberry.ID, input: CreateArticleInput) -> ArticlePayload:
    op = await require_operator(info, P.ARTICLES_EDIT)
    return _payload(await _research(info).desk.revise(op.subject_id, str(id), input.content()))


async def submit_article(info: strawberry.Info, id: strawberry.ID) -> ArticlePayload:
    op = await require_operator(info, P.ARTICLES_EDIT)
    return _payload(await _research(info).desk.submit(op.subject_id, str(id)))


async def approve_article(info: strawberry.Info, id: strawberry.ID, comment: str | None = None) -> ArticlePayload:
    op = await require_operator(info)
    return _payload(await _research(info).desk.approve(op.subject_id, str(id), comment or ""))


async def reject_article(info: strawberry.Info, id: strawberry.ID, comment: str) -> ArticlePayload:
    op = await require_operator(info)
    return _payload(await _research(info).desk.reject(op.subject_id, str(id), comment))


async def publish_article(info: strawberry.Info, id: strawberry.ID, at: datetime | None = None) -> ArticlePayload:
    op = await require_operator(info, P.ARTICLES_PUBLISH)
    return _payload(await _research(info).desk.publish(op.subject_id, str(id), at))


async def withdraw_article(info: strawberry.Info, id: strawberry.ID, comment: str | None = None) -> ArticlePayload:
    op = await require_operator(info, P.ARTICLES_PUBLISH)
    return _payload(await _research(info).desk.withdraw(op.subject_id, str(id), comment or ""))


async def import_articles(
    info: strawberry.Info, format: FeedFormat, file: Upload, publish: bool = True,
    source: str | None = None,
) -> ImportReport:  # fmt: skip
    op = await require_operator(info, P.ARTICLES_PUBLISH if publish else P.ARTICLES_EDIT)
    if not hasattr(file, "read"):
        raise bad_input("Send the file as a GraphQL multipart request.", "file")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise bad_input(f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB.", "file")
    text = _decode(data)
    actor = f"import:{op.subject_id}"
    report = await _research(info).importer.run(format, text, actor=actor, operator_id=op.subject_id,
                                                publish=publish, source=source)  # fmt: skip
    return ImportReport.of(report)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_input("The file is not UTF-8 text.", "file") from exc
