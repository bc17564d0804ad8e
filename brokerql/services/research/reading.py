"""B3/B5 reading: article lists (filters, ranked full-text search), one article, body reads (click count
and A3 browsing record), position info, info mines, F10 and the stock pool."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Text, and_, column, func, literal_column, or_, select, table, text, type_coerce, update

from brokerql.domain.research.columns import column_and_children
from brokerql.domain.research.feeds import CHINA
from brokerql.domain.research.segmenter import query_terms
from brokerql.domain.research.workflow import ArticleStatus
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import AccountRow, PositionRow
from brokerql.store.tables_backoffice import BrowsingRecordRow
from brokerql.store.tables_research import (
    ArticleEventRow,
    ArticleRow,
    ArticleSymbolRow,
    InstrumentProfileRow,
    StockPoolEntryRow,
)

PUBLISHED = ArticleStatus.PUBLISHED.value
_FTS = table("article_fts", column("article_id"), column("search_text"))
_SIMPLE = literal_column("'simple'::regconfig")
_VECTOR = literal_column("article.search_vector")


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Reader filters; `status` (operators only) lists articles in any workflow state."""

    column: str | None = None
    symbol: str | None = None
    industry: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class InfoMineDay:
    """One day of info mines on a symbol: the articles (announcements, news, reports) of that day."""

    day: date
    articles: tuple[ArticleRow, ...]


class ArticleReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _all(self, query: Any) -> list[Any]:
        async with self.db.read() as session:
            return list((await session.scalars(query)).all())

    def _filtered(self, f: ArticleFilter) -> Select[Any]:
        query = select(ArticleRow).where(ArticleRow.status == (f.status or PUBLISHED))
        if f.column:
            query = query.where(ArticleRow.column.in_(column_and_children(f.column)))
        if f.symbol:
            on_symbol = select(ArticleSymbolRow.article_id).where(ArticleSymbolRow.symbol == f.symbol.upper())
            query = query.where(ArticleRow.id.in_(on_symbol))
        if f.industry:  # industries are few per article: a match on the stored JSON text is enough
            encoded = json.dumps(f.industry)  # as JsonText stores it (non-ASCII as \u escapes)
            query = query.where(type_coerce(ArticleRow.industries, Text).contains(encoded, autoescape=True))
        if f.since:
            query = query.where(ArticleRow.published_at >= f.since)
        if f.until:
            query = query.where(ArticleRow.published_at < f.until)
        return query

    async def page(self, f: ArticleFilter, after_key: str | None, fetch: int) -> list[ArticleRow]:
        """Newest first (keyset on published time and id); ranked by relevance when searching."""
        terms = query_terms(f.search or "")
        if terms:
            return await self._search(self._filtered(f), terms, int(after_key or 0), fetch)
        query = self._filtered(f)
        if after_key:
            at, _, last_id = after_key.partition("|")
            query = query.where(_before(datetime.fromisoformat(at) if at else None, last_id))
        order = (ArticleRow.published_at.desc().nulls_last(), ArticleRow.id.desc())
        return await self._all(query.order_by(*order).limit(fetch))

    async def _search(self, query: Select[Any], terms: list[str], offset: int, fetch: int) -> list[ArticleRow]:
        if self.db.is_sqlite:
            match = " ".join(f'"{t}"' for t in terms)  # terms hold word characters only
            query = query.join(_FTS, _FTS.c.article_id == ArticleRow.id).where(text("article_fts MATCH :match"))
            query = query.order_by(text("bm25(article_fts)"), ArticleRow.id.desc()).params(match=match)
        else:
            vector = _VECTOR  # stored, GIN-indexed (migration 0004)
            wanted = func.plainto_tsquery(_SIMPLE, " ".join(terms))
            query = query.where(vector.op("@@")(wanted)).order_by(func.ts_rank(vector, wanted).desc(), ArticleRow.id)
        return await self._all(query.offset(offset).limit(fetch))

    async def get(self, article_id: str, *, any_status: bool = False) -> ArticleRow | None:
        async with self.db.read() as session:
            row = await session.get(ArticleRow, article_id)
        return row if row is not None and (any_status or row.status == PUBLISHED) else None

    async def read_body(self, article_id: str, client_id: str | None) -> int:
        """Count a click (点击率) and, for a client, write the A3 browsing record; returns the new count."""
        async with self.db.transaction() as uow:
            bump = (
                update(ArticleRow)
                .where(ArticleRow.id == article_id)
                .values(click_count=ArticleRow.click_count + 1)
                .returning(ArticleRow.click_count)
            )
            count = (await uow.session.execute(bump)).scalar_one_or_none() or 0
            if client_id is not None:
                uow.session.add(
                    BrowsingRecordRow(id=new_id("brw"), client_id=client_id, kind="ARTICLE", ref=article_id)
                )
        return count

    async def position_info(self, client_id: str, after_key: str | None, fetch: int) -> list[ArticleRow]:
        """Published articles on the symbols the client holds now (any of its accounts)."""
        held = (
            select(PositionRow.symbol)
            .join(AccountRow, AccountRow.id == PositionRow.account_id)
            .where(AccountRow.client_id == client_id, PositionRow.quantity > 0)
        )
        on_held = select(ArticleSymbolRow.article_id).where(ArticleSymbolRow.symbol.in_(held))
        query = select(ArticleRow).where(ArticleRow.status == PUBLISHED, ArticleRow.id.in_(on_held))
        if after_key:
            at, _, last_id = after_key.partition("|")
            query = query.where(_before(datetime.fromisoformat(at) if at else None, last_id))
        return await self._all(
            query.order_by(ArticleRow.published_at.desc().nulls_last(), ArticleRow.id.desc()).limit(fetch)
        )

    async def info_mines(self, symbol: str, since: datetime | None, until: datetime | None) -> list[InfoMineDay]:
        """Published articles on `symbol` grouped by (Beijing) day, oldest day first: one mark per day."""
        rows = await self.page(ArticleFilter(symbol=symbol, since=since, until=until), None, 500)
        by_day: dict[date, list[ArticleRow]] = defaultdict(list)
        for row in rows:
            if row.published_at is not None:
                by_day[row.published_at.astimezone(CHINA).date()].append(row)
        return [InfoMineDay(day, tuple(by_day[day])) for day in sorted(by_day)]

    async def profile(self, symbol: str) -> InstrumentProfileRow | None:
        async with self.db.read() as session:
            return await session.get(InstrumentProfileRow, symbol.upper())

    async def stock_pool(self) -> Sequence[StockPoolEntryRow]:
        query = select(StockPoolEntryRow).where(StockPoolEntryRow.removed_at.is_(None))
        return await self._all(query.order_by(StockPoolEntryRow.added_at.desc(), StockPoolEntryRow.id))

    async def stock_pool_with_articles(self) -> tuple[Sequence[StockPoolEntryRow], dict[str, ArticleRow]]:
        """The pool and the published notes behind its entries."""
        entries = await self.stock_pool()
        notes = await self.by_ids([e.article_id for e in entries if e.article_id])
        return entries, {k: v for k, v in notes.items() if v.status == PUBLISHED}

    async def history(self, article_id: str) -> list[ArticleEventRow]:
        query = select(ArticleEventRow).where(ArticleEventRow.article_id == article_id)
        return await self._all(query.order_by(ArticleEventRow.at, ArticleEventRow.id))

    async def by_ids(self, ids: Sequence[str]) -> dict[str, ArticleRow]:
        rows = await self._all(select(ArticleRow).where(ArticleRow.id.in_(list(ids)))) if ids else []
        return {r.id: r for r in rows}


def _before(at: datetime | None, last_id: str) -> Any:
    """Rows after the cursor in (published_at desc, id desc) order."""
    if at is None:
        return and_(ArticleRow.published_at.is_(None), ArticleRow.id < last_id)
    return or_(
        ArticleRow.published_at < at,
        and_(ArticleRow.published_at == at, ArticleRow.id < last_id),
        ArticleRow.published_at.is_(None),
    )


def cursor_key(row: ArticleRow) -> str:
    """The keyset cursor of an article in newest-first lists."""
    return f"{row.published_at.isoformat() if row.published_at else ''}|{row.id}"


def valid_cursor_key(key: str) -> bool:
    """Whether `key` has the shape `cursor_key` writes (an ISO time or nothing, a bar, an id)."""
    at, bar, last_id = key.partition("|")
    if not bar or not last_id:
        return False
    try:
        return not at or datetime.fromisoformat(at).tzinfo is not None
    except ValueError:
        return False
